"""The DataLoader options the README lists are options of every data config."""

from __future__ import annotations

import hydra
import pytest

from tests.helpers.configs import choices

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


@pytest.mark.parametrize("data", choices("data"))
def test_every_data_config_has_the_loader_options(cfg_factory, data):
    cfg = cfg_factory([f"data={data}", "data.num_workers=2", "data.pin_memory=true"])
    assert all(k in cfg.data for k in LOADER_OPTIONS), data


@pytest.mark.parametrize("data", EMBEDDED)
def test_embedded_sets_take_the_loader_options(cfg_factory, data):
    cfg = cfg_factory([f"data={data}", "data.num_workers=2", "data.pin_memory=true"])
    dm = hydra.utils.instantiate(cfg.data)
    assert dm.num_workers == 2
    dm.setup("fit")
    x = next(iter(dm.train_dataloader()))[0]
    assert len(x) == dm.batch_size


def test_negative_workers_is_a_config_error(cfg_factory):
    from gens.utils.errors import ConfigError

    cfg = cfg_factory(["data=ring8", "data.num_workers=-1"])
    with pytest.raises(Exception) as err:
        hydra.utils.instantiate(cfg.data)
    cause = err.value.__cause__ or err.value
    assert isinstance(cause, ConfigError) and "data.num_workers" in str(cause)
