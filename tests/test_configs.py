"""Every config group composes; trainer, logger and callback configs instantiate."""

from __future__ import annotations

from pathlib import Path

import hydra
import pytest
from omegaconf import OmegaConf

from gens.train import build
from tests.conftest import compose_cfg
from tests.helpers.configs import composed_model_configs, model_configs

ROOT = Path(__file__).resolve().parents[1] / "configs"


def _choices(group: str) -> list[str]:
    return sorted(p.stem for p in (ROOT / group).glob("*.yaml"))


def test_default_config_is_the_embedded_default(cfg_factory):
    cfg = cfg_factory([], tiny=False)
    assert cfg.data.name == "grid25"
    assert cfg.trainer.accelerator == "cpu"
    dm, model = build(cfg)
    assert dm.shape == (2,) and model.data_shape == (2,)


@pytest.mark.parametrize("name", _choices("logger"))
def test_logger_configs_instantiate(cfg_factory, name, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    cfg = cfg_factory([f"logger={name}"])
    for lg in (cfg.logger or {}).values():
        hydra.utils.instantiate(lg)


@pytest.mark.parametrize("name", _choices("callbacks"))
def test_callback_configs_instantiate(cfg_factory, name):
    cfg = cfg_factory([f"callbacks={name}"], tiny=False)
    for cb in (cfg.callbacks or {}).values():
        if cb is not None:
            hydra.utils.instantiate(cb)


@pytest.mark.parametrize(
    "name", [c for c in _choices("trainer") if c not in ("gpu", "ddp", "ddp_per_optimizer")]
)
def test_cpu_trainer_configs_instantiate(cfg_factory, name):
    cfg = cfg_factory([f"trainer={name}"], tiny=False)
    hydra.utils.instantiate(cfg.trainer)


@pytest.mark.parametrize("name", ["gpu", "ddp", "ddp_per_optimizer"])
def test_gpu_trainer_configs_compose(cfg_factory, name):
    cfg = cfg_factory([f"trainer={name}"], tiny=False)
    assert cfg.trainer.accelerator == "gpu"


@pytest.mark.parametrize("name", _choices("debug"))
def test_debug_configs_compose(cfg_factory, name):
    cfg_factory([f"debug={name}"], tiny=False)


@pytest.mark.parametrize("name", _choices("hparams_search"))
def test_hparams_search_configs_compose(cfg_factory, name):
    cfg = cfg_factory([f"hparams_search={name}"], tiny=False)
    assert cfg.optimized_metric


def test_a_sample_based_model_refuses_an_energy_target(cfg_factory):
    """Energies have no samples: a GAN would train on placeholder batches, so it refuses."""
    from gens.train import train
    from gens.utils.errors import IncompatibleDataError

    cfg = cfg_factory(["model=gan", "data=energy_u1"])
    with pytest.raises(IncompatibleDataError, match="energy"):
        train(cfg)


def test_parsed_config_files_are_shared_and_compose_the_same(tmp_path, monkeypatch):
    """The test processes keep each parsed config file (see ``conftest``): compositions read
    through it equal Hydra's own, file by file re-parsed ones."""
    from hydra._internal import config_loader_impl
    from hydra._internal.config_repository import CachingConfigRepository

    shared = config_loader_impl.CachingConfigRepository
    assert shared is not CachingConfigRepository
    cases = [
        ["model=gan", "data=ring8"],
        ["model=dcgan", "data=digits", "trainer.max_epochs=3"],
        ["model=glow", "data=moons", "callbacks=none", "debug=limit"],
        ["experiment=wgan_gp_cifar10"],
        ["model=planar", "data=energy_u1", "logger=wandb"],
    ]
    # overrides that write into nodes of kept files: one under a package (data/digits.yaml)
    # and the primary config (train.yaml)
    writes = [
        "model=dcgan",
        "data=digits",
        "model.optimizer_g.lr=1.0",
        "+model.optimizer_d.extra=1",
        "data.n_val=7",
        "+data.extra=1",
        "+trainer.plugins=[]",
        "tags=[x]",
    ]

    def compose_all():
        return [OmegaConf.to_yaml(compose_cfg(c, tmp_path / "run", tiny=False)) for c in cases]

    kept = compose_all()
    compose_cfg(writes, tmp_path / "run", tiny=False)
    kept_again = compose_all()
    assert any(path == "model/glow" for _, path in shared.shared)
    monkeypatch.setattr(config_loader_impl, "CachingConfigRepository", CachingConfigRepository)
    parsed = compose_all()
    assert kept == parsed
    assert kept_again == parsed


def test_model_targets_read_from_the_files_are_the_composed_ones():
    assert model_configs() == composed_model_configs()
