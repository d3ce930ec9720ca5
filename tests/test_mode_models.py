"""The mode-collapse remedies train a few steps on ring8 from their configs, variants included;
the minibatch discrimination with data-dependent initialization resumes exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gens.train import train
from tests.helpers.resume import check_exact_resume

CASES = {
    "unrolled_gan": ["model=unrolled_gan", "model.unroll_steps=2"],
    "veegan": ["model=veegan"],
    "minibatch_disc": ["model=minibatch_disc"],
    "minibatch_disc_init": ["model=minibatch_disc", "model.discriminator.data_init=true"],
    "minibatch_stddev": ["model=minibatch_disc", "model.discriminator.kind=stddev"],
    "unrolled_gan_generator_loss": [
        "model=unrolled_gan",
        "model.unroll_steps=1",
        "model.surrogate=generator",
        "model.loss.g=nonsaturating",
    ],
    "pacgan2": ["model=pacgan"],
    "pacgan4": ["model=pacgan", "model.discriminator.pack=4"],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mode_model_on_ring8(cfg_factory, case):
    cfg = cfg_factory([*CASES[case], "data=ring8", "data.n_train=1000"])
    metrics = train(cfg)
    out = Path(cfg.paths.output_dir)
    saved = json.loads((out / "metrics.json").read_text())
    assert {"test/modes", "test/hq", "test/rkl"} <= set(saved)
    assert 0 <= saved["test/modes"] <= 8
    assert metrics["test/modes"] == saved["test/modes"]


def test_data_initialized_minibatch_discrimination_resumes_exactly(cfg_factory):
    """The data-dependent initialization is state of its own: a resume keeps it instead of
    initializing again. (The configs as they are resume exactly in
    ``tests/reliability/test_resume.py``.)"""
    check_exact_resume(cfg_factory, CASES["minibatch_disc_init"])
