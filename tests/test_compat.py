"""The model x data compatibility table, asserted both ways.

Every ``model=`` config is listed with the embedded ``data=`` sets it trains on. Each pair the
table calls compatible composes and builds; each other pair refuses with one
``IncompatibleDataError`` before anything trains, so an unexpected refusal fails a test instead
of becoming a skip. Every compatible pair also trains a few steps (slow).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gens.train import build, train
from gens.utils.errors import IncompatibleDataError

ROOT = Path(__file__).resolve().parents[1]
MODELS = sorted(p.stem for p in (ROOT / "configs" / "model").glob("*.yaml"))

VECTORS_2D = {"ring8", "grid25", "moons", "checkerboard", "spirals"}
VECTORS = VECTORS_2D | {"gauss1d"}
LABELLED_VECTORS = VECTORS - {"checkerboard"}  # the toy sets made of labelled components
IMAGES = {"digits", "stacked_digits"}
ENERGY = {"energy_u1"}
DATA = sorted(VECTORS | IMAGES | ENERGY)

# Models of labels need labelled data; MLP GANs flatten images; coupling flows need >= 2
# dimensions; IAF's D-pass density is capped below stacked digits' 3,072 dimensions; the VAE
# needs discrete images.
COMPATIBLE = {
    "acgan": LABELLED_VECTORS | IMAGES,
    "began": IMAGES,
    "bigan": VECTORS | IMAGES,
    "cgan": LABELLED_VECTORS | IMAGES,
    "cubic_spline": VECTORS_2D | IMAGES,
    "dcgan": IMAGES,
    "ffjord": VECTORS | IMAGES,
    "gan": VECTORS | IMAGES,
    "gan_r1": VECTORS | IMAGES,
    "glow": VECTORS_2D | IMAGES,
    "iaf": VECTORS | {"digits"},
    "iaf_rkl": ENERGY,
    "infogan": VECTORS | IMAGES,
    "iresnet": VECTORS | IMAGES,
    "lsgan": VECTORS | IMAGES,
    "made": VECTORS | IMAGES,
    "maf": VECTORS | IMAGES,
    "minibatch_disc": VECTORS | IMAGES,
    "naf": VECTORS | IMAGES,
    "nice": VECTORS_2D | IMAGES,
    "nsf": VECTORS_2D | IMAGES,
    "pacdcgan": IMAGES,
    "pacgan": VECTORS | IMAGES,
    "planar": ENERGY,
    "radial": ENERGY,
    "realnvp": VECTORS_2D | IMAGES,
    "resflow": VECTORS | IMAGES,
    "sos": VECTORS | IMAGES,
    "ssgan": LABELLED_VECTORS | IMAGES,
    "sylvester": ENERGY,
    "umnn": VECTORS | IMAGES,
    "unrolled_gan": VECTORS | IMAGES,
    "vae_planar": IMAGES,
    "veegan": VECTORS | IMAGES,
    "wgan": VECTORS | IMAGES,
    "wgan_gp": VECTORS | IMAGES,
}

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


def _overrides(model: str, data: str) -> list[str]:
    return [f"model={model}", f"data={data}", *SMALL.get(data, ["data.n_train=2000"])]


def test_the_table_lists_every_model_config():
    assert sorted(COMPATIBLE) == MODELS


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("model", MODELS)
def test_model_builds_on_exactly_its_compatible_data(cfg_factory, model, data):
    cfg = cfg_factory(_overrides(model, data))
    if data in COMPATIBLE[model]:
        dm, built = build(cfg)
        assert built.data_shape == tuple(dm.shape)
    else:
        with pytest.raises(IncompatibleDataError) as err:
            build(cfg)
        assert "\n" not in str(err.value)


@pytest.mark.slow
@pytest.mark.parametrize("model,data", [(m, d) for m in MODELS for d in sorted(COMPATIBLE[m])])
def test_every_compatible_pair_trains(cfg_factory, model, data):
    cfg = cfg_factory(_overrides(model, data))
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
