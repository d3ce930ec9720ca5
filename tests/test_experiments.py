"""Every ``experiment=`` config runs with ``fast_dev_run`` (one batch of train, val and test).

Experiments on sets that live on disk get a tiny fake copy in the real format, written by
``tests/fakedata.py`` into a temp ``data.root``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gens.train import train

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = sorted(p.stem for p in (ROOT / "configs" / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_fast_dev_run(cfg_factory, tmp_path, name):
    cfg = cfg_factory([f"experiment={name}", "+trainer.fast_dev_run=true"])
    extra = []
    if "root" in cfg.data:  # a set on disk: write a tiny fake copy in its real format
        from tests.fakedata import make_fake

        extra += make_fake(cfg.hydra.runtime.choices.data, tmp_path / "data")
    if "n_train" in cfg.data:
        extra.append("data.n_train=1000")
    if extra:
        cfg = cfg_factory([f"experiment={name}", "+trainer.fast_dev_run=true", *extra])
    metrics = train(cfg)
    assert metrics is not None
