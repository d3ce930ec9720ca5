"""The configs of the repository, composed as ``python train.py`` would."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / "configs"

__all__ = ["CONFIG_DIR", "ROOT", "choices", "model_configs"]


def choices(group: str) -> list[str]:
    """The options of a config group (file names under ``configs/<group>/``)."""
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


@lru_cache(maxsize=1)
def model_configs() -> dict[str, str]:
    """``model=`` option -> the ``_target_`` it builds (after its defaults list). The model
    group alone is composed: a third of the cost of ``train.yaml``, paid at every collection."""
    out = {}
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        for name in choices("model"):
            out[name] = str(compose(overrides=[f"+model={name}"]).model._target_)
    GlobalHydra.instance().clear()
    return out
