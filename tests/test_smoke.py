"""Every model x compatible data config composes, instantiates and trains a few steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gens.train import train

ROOT = Path(__file__).resolve().parents[1]
MODELS_2D = ["gan", "wgan_gp"]
TOY = ["ring8", "grid25", "moons", "checkerboard", "spirals", "gauss1d"]


@pytest.mark.parametrize("data", TOY)
@pytest.mark.parametrize("model", MODELS_2D)
def test_model_on_toy_data(cfg_factory, model, data):
    cfg = cfg_factory([f"model={model}", f"data={data}", "data.n_train=2000"])
    metrics = train(cfg)
    out = Path(cfg.paths.output_dir)
    assert (out / "checkpoints" / "last.ckpt").is_file()
    saved = json.loads((out / "metrics.json").read_text())
    if data in ("ring8", "grid25", "gauss1d"):
        assert {"test/modes", "test/hq", "test/rkl"} <= set(saved)
        assert saved["test/modes"] == metrics["test/modes"]
