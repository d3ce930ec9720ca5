"""The experiment configs of the autoregressive / VI flows compose and build their model."""

from __future__ import annotations

import pytest

from gens.train import build


@pytest.mark.parametrize(
    "overrides,cls",
    [
        (["experiment=vae_nf_digits"], "FlowVAE"),
        (["experiment=vae_nf_digits", "model.transform.num_layers=0"], "FlowVAE"),
        (["experiment=maf_digits"], "FlowModel"),
        (["experiment=energy_fits", "data=energy_u4", "model=sylvester"], "EnergyFlow"),
        (["experiment=energy_fits", "model=iaf_rkl"], "EnergyFlow"),
    ],
)
def test_experiment_builds(cfg_factory, overrides, cls):
    dm, model = build(cfg_factory(overrides))
    assert type(model).__name__ == cls
