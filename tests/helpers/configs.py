"""The configs of the repository, composed as ``python train.py`` would."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / "configs"

__all__ = ["CONFIG_DIR", "ROOT", "choices", "composed_model_configs", "model_configs"]


def choices(group: str) -> list[str]:
    """The options of a config group (file names under ``configs/<group>/``)."""
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


@lru_cache(maxsize=1)
def model_configs() -> dict[str, str]:
    """``model=`` option -> the ``_target_`` it builds, read from the YAML files: a config's own
    ``_target_`` (every model config lists ``_self_`` last), else the first model config of its
    defaults list that has one. Composing instead would cost seconds at every collection;
    ``tests/test_configs.py`` checks this against Hydra's composition."""
    return {name: _target(name) for name in choices("model")}


def _target(name: str) -> str:
    node = yaml.safe_load((CONFIG_DIR / "model" / f"{name}.yaml").read_text()) or {}
    if "_target_" in node:
        return str(node["_target_"])
    for entry in node.get("defaults", []):
        if isinstance(entry, str) and not entry.startswith(("/", "_")) and "@" not in entry:
            return _target(entry)
    raise ValueError(f"configs/model/{name}.yaml: no _target_ in it or in its model defaults")


def composed_model_configs() -> dict[str, str]:
    """``model_configs()`` as Hydra composes it (the model group alone)."""
    out = {}
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        for name in choices("model"):
            out[name] = str(compose(overrides=[f"+model={name}"]).model._target_)
    GlobalHydra.instance().clear()
    return out
