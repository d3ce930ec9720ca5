"""Every ``model=`` x compatible embedded ``data=`` composes, instantiates and trains a few steps.

Models and data sets are discovered from configs/; a model that cannot use a data kind raises
``IncompatibleDataError`` when built, and that pair is skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gens.train import build, train
from gens.utils.errors import IncompatibleDataError

ROOT = Path(__file__).resolve().parents[1]
MODELS = sorted(p.stem for p in (ROOT / "configs" / "model").glob("*.yaml"))
# Data sets that need no files on disk; on-disk sets are tested on fake data elsewhere.
EMBEDDED = ["ring8", "grid25", "moons", "checkerboard", "spirals", "gauss1d", "digits"]
DATA = [d for d in EMBEDDED if (ROOT / "configs" / "data" / f"{d}.yaml").is_file()]
SMALL = {"toy": ["data.n_train=2000"], "digits": ["data.image_size=16", "data.batch_size=32"]}


def _overrides(model: str, data: str) -> list[str]:
    extra = SMALL["digits"] if data == "digits" else SMALL["toy"]
    return [f"model={model}", f"data={data}", *extra]


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("model", MODELS)
def test_model_on_embedded_data(cfg_factory, model, data):
    cfg = cfg_factory(_overrides(model, data))
    try:
        build(cfg)
    except IncompatibleDataError as e:
        pytest.skip(f"{model} does not take {data}: {e}")
    metrics = train(cfg)
    out = Path(cfg.paths.output_dir)
    assert (out / "checkpoints" / "last.ckpt").is_file()
    saved = json.loads((out / "metrics.json").read_text())
    assert saved, "metrics.json is empty"
    for k, v in saved.items():
        assert k.startswith("test/")
        assert metrics[k] == pytest.approx(v)
    if data in ("ring8", "grid25", "gauss1d") and "test/modes" in metrics:
        assert {"test/modes", "test/hq", "test/rkl"} <= set(saved)
