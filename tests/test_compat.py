"""The model x data compatibility table, asserted both ways.

Every ``model=`` config is listed with the embedded ``data=`` sets it trains on, and with POWER,
a tabular set read from disk (tiny fake files in the MAF archive's format stand in for it).
Each pair the table calls compatible composes and builds; each other pair refuses with one
``IncompatibleDataError`` before anything trains, so an unexpected refusal fails a test instead
of becoming a skip. Every compatible pair also trains a few steps (slow).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from gens.train import build, train
from gens.utils.errors import IncompatibleDataError
from tests.fakedata import make_fake
from tests.helpers.compat import COMPATIBLE, DATA, TABULAR

ROOT = Path(__file__).resolve().parents[1]
MODELS = sorted(p.stem for p in (ROOT / "configs" / "model").glob("*.yaml"))

SMALL = {
    "digits": ["data.image_size=16", "data.batch_size=32"],
    "stacked_digits": [
        "data.image_size=16",
        "data.batch_size=32",
        "data.n_train=256",
        "data.n_val=64",
        "data.n_test=64",
        "callbacks.image_metrics=null",
    ],
    "energy_u1": ["data.eval_batch_size=500"],
}


def _overrides(model: str, data: str, tmp_path: Path) -> list[str]:
    if data in TABULAR:
        # fewer samples to score: sampling an autoregressive flow by bisection costs D passes
        few = ["callbacks.vector_metrics.n=256", "callbacks.sample_plot.n=256"]
        small = [*make_fake(data, tmp_path / "data"), *few]
    else:
        small = SMALL.get(data, ["data.n_train=2000"])
    return [f"model={model}", f"data={data}", *small]


def test_the_table_lists_every_model_config():
    assert sorted(COMPATIBLE) == MODELS


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("model", MODELS)
def test_model_builds_on_exactly_its_compatible_data(cfg_factory, tmp_path, model, data):
    cfg = cfg_factory(_overrides(model, data, tmp_path))
    if data in COMPATIBLE[model]:
        dm, built = build(cfg)
        assert built.data_shape == tuple(dm.shape)
    else:
        with pytest.raises(IncompatibleDataError) as err:
            build(cfg)
        assert "\n" not in str(err.value)


@pytest.mark.slow
@pytest.mark.parametrize("model,data", [(m, d) for m in MODELS for d in sorted(COMPATIBLE[m])])
def test_every_compatible_pair_trains(cfg_factory, tmp_path, model, data):
    cfg = cfg_factory(_overrides(model, data, tmp_path))
    metrics = train(cfg)
    out = Path(cfg.paths.output_dir)
    assert (out / "checkpoints" / "last.ckpt").is_file()
    saved = json.loads((out / "metrics.json").read_text())
    assert saved, "metrics.json is empty"
    for k, v in saved.items():
        assert k.startswith("test/")
        # metrics.json writes a non-finite value as a string ("nan"), which float() reads back
        assert metrics[k] == pytest.approx(float(v), nan_ok=True)
    # likelihoods are finite
    assert all(math.isfinite(float(v)) for k, v in saved.items() if k.endswith(("nll", "bpd")))
    if data in ("ring8", "grid25", "gauss1d") and "test/modes" in metrics:
        assert {"test/modes", "test/hq", "test/rkl"} <= set(saved)
