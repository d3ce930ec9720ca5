"""The 8x8 handwritten digits that scikit-learn ships (UCI "Optical Recognition of Handwritten
Digits", Alpaydin & Kaynak 1998): 1,797 grayscale images, 10 classes, nothing to download.

The raw pixels are integers 0..16 (17 levels). Images are resized to ``image_size`` (default 32,
so the DCGAN stacks of 16-128 px apply) and scaled to [-1, 1]. Resizing interpolates, which
creates values between the 17 levels; with ``quantize=true`` (default) the resized image is
rounded back onto the 17 levels {-1, -1 + 2/16, ..., 1}, so the data stay discrete with
``num_levels = 17`` and flows can dequantize them with uniform noise of one level's width
(``2/16`` in [-1, 1] units). ``quantize=false`` keeps the interpolated values (then the
``num_levels`` of 17 is only an approximation). ``interpolation=nearest`` keeps the levels
exactly and makes blocky images.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from gens.data.base import GensDataModule
from gens.utils.errors import ConfigError

__all__ = ["DigitsDataModule", "load_digits_tensors", "DIGITS_LEVELS"]

DIGITS_LEVELS = 17  # raw pixel values are 0..16


def load_digits_tensors(
    image_size: int = 32, interpolation: str = "bilinear", quantize: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """All 1,797 digits as float ``(N, 1, S, S)`` in [-1, 1] and long labels ``(N,)``."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.as_tensor(d.images, dtype=torch.float32).unsqueeze(1) / (DIGITS_LEVELS - 1)
    if image_size != 8:
        kw = {"align_corners": False} if interpolation in ("bilinear", "bicubic") else {}
        x = F.interpolate(x, size=(image_size, image_size), mode=interpolation, **kw)
        x = x.clamp(0.0, 1.0)
        if quantize:
            x = torch.round(x * (DIGITS_LEVELS - 1)) / (DIGITS_LEVELS - 1)
    return x * 2.0 - 1.0, torch.as_tensor(d.target, dtype=torch.long)


class DigitsDataModule(GensDataModule):
    """Seeded train/val/test split of scikit-learn's digits, served from memory.

    Args:
        image_size: side of the square images (8 keeps the originals).
        n_val, n_test: sizes of the held-out splits (the rest, 1,797 - n_val - n_test, trains).
        interpolation: ``bilinear`` | ``bicubic`` | ``nearest`` for resizing.
        quantize: round resized pixels back onto the 17 raw levels (see the module docstring).
        Other arguments as ``GensDataModule``.
    """

    kind = "image"
    num_classes = 10
    num_levels = DIGITS_LEVELS

    def __init__(
        self,
        image_size: int = 32,
        n_val: int = 200,
        n_test: int = 300,
        batch_size: int = 64,
        interpolation: str = "bilinear",
        quantize: bool = True,
        **options,
    ):
        super().__init__(batch_size=batch_size, **options)
        if int(image_size) < 4:
            raise ConfigError(f"data.image_size must be >= 4, got {image_size}")
        if interpolation not in ("bilinear", "bicubic", "nearest"):
            raise ConfigError(
                f"data.interpolation must be bilinear, bicubic or nearest, got {interpolation}"
            )
        n_val, n_test = int(n_val), int(n_test)
        if n_val < 1 or n_test < 1 or n_val + n_test > 1797 - 100:
            raise ConfigError(
                f"data.n_val={n_val} and data.n_test={n_test} must be >= 1 and leave at least "
                "100 of the 1,797 digits for training"
            )
        self.image_size = int(image_size)
        self.interpolation, self.quantize = interpolation, bool(quantize)
        self.sizes = {"val": n_val, "test": n_test}
        self.shape = (1, self.image_size, self.image_size)
        self.modes = None
        self.splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.indices: dict[str, torch.Tensor] = {}

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        x, y = load_digits_tensors(self.image_size, self.interpolation, self.quantize)
        perm = torch.as_tensor(np.random.default_rng(self.seed).permutation(len(x)))
        n_val, n_test = self.sizes["val"], self.sizes["test"]
        parts = {
            "test": perm[:n_test],
            "val": perm[n_test : n_test + n_val],
            "train": perm[n_test + n_val :],
        }
        self.indices = parts  # positions in scikit-learn's order
        self.splits = {k: (x[i].contiguous(), y[i].contiguous()) for k, i in parts.items()}
