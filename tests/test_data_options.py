"""The DataLoader options the README lists are options of every data config."""

from __future__ import annotations

import hydra
import pytest
from omegaconf import OmegaConf

from tests.helpers.configs import CONFIG_DIR, choices

LOADER_OPTIONS = ("num_workers", "pin_memory", "persistent_workers")
EMBEDDED = [
    "grid25",
    "ring8",
    "moons",
    "checkerboard",
    "spirals",
    "gauss1d",
    "overlap1d",
    "digits",
    "stacked_digits",
    "energy_u1",
]


def test_every_data_config_has_the_loader_options():
    for data in choices("data"):
        node = OmegaConf.load(CONFIG_DIR / "data" / f"{data}.yaml")
        assert all(k in node for k in LOADER_OPTIONS), data


@pytest.mark.parametrize("data", EMBEDDED)
def test_embedded_sets_take_the_loader_options(cfg_factory, data):
    cfg = cfg_factory([f"data={data}", "data.num_workers=2", "data.pin_memory=true"])
    dm = hydra.utils.instantiate(cfg.data)
    assert (dm.num_workers, dm.pin_memory) == (2, True)


def test_in_memory_batches_with_the_options(cfg_factory):
    cfg = cfg_factory(["data=ring8", "data.n_train=500", "data.num_workers=2"])
    dm = hydra.utils.instantiate(cfg.data, pin_memory=True)
    dm.setup("fit")
    x, y = next(iter(dm.train_dataloader()))
    assert len(x) == len(y) == dm.batch_size


def test_negative_workers_is_a_config_error(cfg_factory):
    from gens.utils.errors import ConfigError

    cfg = cfg_factory(["data=ring8", "data.num_workers=-1"])
    with pytest.raises(Exception) as err:
        hydra.utils.instantiate(cfg.data)
    cause = err.value.__cause__ or err.value
    assert isinstance(cause, ConfigError) and "data.num_workers" in str(cause)


def test_sets_without_partial_labels_reject_labels_per_class(tmp_path):
    from gens.data import EnergyDataModule
    from gens.data.tabular import TabularDataModule
    from gens.utils.errors import ConfigError

    with pytest.raises(ConfigError, match="no labels to keep: drop data.labels_per_class"):
        EnergyDataModule("u1", labels_per_class=3)
    # refused when built, before any file is read
    with pytest.raises(ConfigError, match="TabularDataModule has no labels"):
        TabularDataModule("power", str(tmp_path), labels_per_class=3)
