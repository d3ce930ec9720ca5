"""Every flow model config trains a few batches, and ``<Class>.load_from_checkpoint(path)`` gives
back that model: its weights, samples in data space and, where it has one, a log-density. The
shared base loads any of them; another flow class refuses the file."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gens.flows import EnergyFlow, FlowModel, FlowModule, FlowVAE
from gens.train import train
from gens.utils.checkpoint import read_checkpoint
from gens.utils.errors import CheckpointError

QUICK = [
    "trainer.limit_train_batches=2",
    "test=false",
    "callbacks.sample_plot=null",
    "callbacks.density_plot=null",
    "callbacks.image_metrics=null",
    "callbacks.vector_metrics=null",
    "callbacks.energy_plot=null",
]
MOONS = ["data=moons", "data.n_train=1000"]
DIGITS = ["data=digits", "data.image_size=8", "data.batch_size=16"]
ENERGY = ["data=energy_u1", "data.eval_batch_size=100", "data.batch_size=50"]

# model config -> (class, data and size overrides)
MODELS = {
    "nice": (FlowModel, [*MOONS, "model.transform.hidden=[16,16]"]),
    "realnvp": (FlowModel, [*DIGITS, "model.transform.channels=4", "model.transform.blocks=1"]),
    "glow": (FlowModel, [*DIGITS, "model.transform.depth=1", "model.transform.channels=8"]),
    "made": (FlowModel, [*MOONS, "model.transform.hidden=[16,16]"]),
    "maf": (FlowModel, [*MOONS, "model.transform.hidden=[16]"]),
    "nsf": (FlowModel, [*MOONS, "model.transform.hidden=[16]", "model.transform.num_layers=2"]),
    "iresnet": (
        FlowModel,
        [*MOONS, "model.transform.hidden=[16]", "model.transform.num_blocks=2"],
    ),
    "resflow": (
        FlowModel,
        [*DIGITS, "model.transform.channels=4", "model.transform.num_blocks=1"],
    ),
    "ffjord": (
        FlowModel,
        [
            *MOONS,
            "model.transform.hidden=[8]",
            "model.transform.atol=1e-3",
            "model.transform.rtol=1e-3",
        ],
    ),
    "naf": (
        FlowModel,
        [*MOONS, "model.transform.hidden=[16]", "model.transform.transformer.hidden=4"],
    ),
    "sos": (FlowModel, [*MOONS, "model.transform.hidden=[16]", "model.transform.num_layers=2"]),
    "umnn": (
        FlowModel,
        [*MOONS, "model.transform.hidden=[16]", "model.transform.transformer.hidden=[8]"],
    ),
    "cubic_spline": (FlowModel, [*MOONS, "model.transform.hidden=[16]"]),
    "iaf": (FlowModel, [*MOONS, "model.transform.hidden=[16]"]),
    "iaf_rkl": (EnergyFlow, [*ENERGY, "model.transform.hidden=[16]"]),
    "planar": (EnergyFlow, [*ENERGY, "model.transform.num_layers=4"]),
    "radial": (EnergyFlow, [*ENERGY, "model.transform.num_layers=4"]),
    "sylvester": (EnergyFlow, [*ENERGY, "model.transform.num_layers=2"]),
    "vae_planar": (FlowVAE, [*DIGITS, "model.hidden=[32]", "model.iw_samples=10"]),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_trained_flow_loads_from_its_checkpoint(cfg_factory, name):
    cls, overrides = MODELS[name]
    cfg = cfg_factory([f"model={name}", *overrides, *QUICK])
    train(cfg)
    path = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"

    model = cls.load_from_checkpoint(path)

    assert type(model) is cls and not model.training
    assert type(FlowModule.load_from_checkpoint(path)) is cls
    other = FlowVAE if cls is not FlowVAE else FlowModel
    with pytest.raises(CheckpointError, match=f"expected a {other.__name__}"):
        other.load_from_checkpoint(path)
    saved = read_checkpoint(path)["state_dict"]
    state = model.state_dict()
    assert saved.keys() == state.keys()
    for key, value in saved.items():
        assert torch.equal(state[key], value), f"{key} was not loaded"
    x = model.sample(16, generator=torch.Generator().manual_seed(0))
    assert x.shape == (16, *model.data_shape) and torch.isfinite(x).all()
    if hasattr(model, "log_prob"):
        with torch.no_grad():
            log_p = model.log_prob(x)
        assert log_p.shape == (16,) and torch.isfinite(log_p).all()
