"""Every ``experiment=`` config runs with ``fast_dev_run`` (one batch of train, val and test).

Experiments on sets that live on disk get a tiny fake copy in the real format, written by
``tests/fakedata.py`` into a temp ``data.root``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gens.train import train
from tests.test_flow_experiments import EXPERIMENTS as FLOW_EXPERIMENTS
from tests.test_flow_experiments import TABULAR as TABULAR_EXPERIMENTS
from tests.test_image_experiments import PAPER

ROOT = Path(__file__).resolve().parents[1]
# Image-GAN and flow experiments are run (and their paper settings checked) in
# test_image_experiments / test_flow_experiments; this test catches every other one.
COVERED = set(PAPER) | set(FLOW_EXPERIMENTS) | set(TABULAR_EXPERIMENTS)
EXPERIMENTS = sorted(
    p.stem for p in (ROOT / "configs" / "experiment").glob("*.yaml") if p.stem not in COVERED
)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_fast_dev_run(cfg_factory, tmp_path, name):
    cfg = cfg_factory([f"experiment={name}", "+trainer.fast_dev_run=true"])
    extra = []
    if "root" in cfg.data:  # a set on disk: write a tiny fake copy in its real format
        from tests.fakedata import make_fake

        extra += make_fake(cfg.hydra.runtime.choices.data, tmp_path / "data")
        extra.append("data.batch_size=4")
    if "n_train" in cfg.data:
        extra.append("data.n_train=1000")
    if extra:
        cfg = cfg_factory([f"experiment={name}", "+trainer.fast_dev_run=true", *extra])
    metrics = train(cfg)
    assert metrics is not None
