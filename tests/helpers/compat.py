"""The model x data compatibility table: every ``model=`` config with the embedded ``data=``
sets it trains on, and POWER, a tabular set read from disk. ``tests/test_compat.py`` asserts it
both ways; other tests pick a model's data from it."""

from __future__ import annotations

__all__ = ["COMPATIBLE", "DATA", "TABULAR"]

TABULAR = {"power"}  # 6 unlabeled dims, on disk
VECTORS_ND = {"ring8", "grid25", "moons", "checkerboard", "spirals"} | TABULAR  # >= 2 dims
VECTORS = VECTORS_ND | {"gauss1d"}
LABELLED_VECTORS = VECTORS - {"checkerboard"} - TABULAR  # toy sets of labelled components
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
    "cubic_spline": VECTORS_ND | IMAGES,
    "dcgan": IMAGES,
    "ffjord": VECTORS | IMAGES,
    "gan": VECTORS | IMAGES,
    "gan_r1": VECTORS | IMAGES,
    "glow": VECTORS_ND | IMAGES,
    "iaf": VECTORS | {"digits"},
    "iaf_rkl": ENERGY,
    "infogan": VECTORS | IMAGES,
    "iresnet": VECTORS | IMAGES,
    "lsgan": VECTORS | IMAGES,
    "made": VECTORS | IMAGES,
    "maf": VECTORS | IMAGES,
    "minibatch_disc": VECTORS | IMAGES,
    "naf": VECTORS | IMAGES,
    "nice": VECTORS_ND | IMAGES,
    "nsf": VECTORS_ND | IMAGES,
    "pacdcgan": IMAGES,
    "pacgan": VECTORS | IMAGES,
    "planar": ENERGY,
    "radial": ENERGY,
    "realnvp": VECTORS_ND | IMAGES,
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
