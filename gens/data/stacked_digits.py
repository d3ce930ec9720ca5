"""Stacked digits: the Stacked-MNIST construction of Metz et al. 2017 / VEEGAN / PacGAN, built
from the embedded scikit-learn digits (no download).

Each example stacks three digits drawn independently and uniformly as the three channels of one
image, so the data have 10^3 = 1,000 modes (the label is ``100 * d_R + 10 * d_G + d_B``).
Mode coverage is counted by classifying each channel with the shipped digits classifier
(``gens.metrics.stacked_modes``). Training stacks draw from the digits' train split, val/test
stacks from the held-out splits. Stacks are stored as index triples and composed per batch.
"""

from __future__ import annotations

import numpy as np
import torch

from gens.data.base import InMemoryLoader
from gens.data.digits import DigitsDataModule
from gens.utils.errors import ConfigError

__all__ = ["StackedDigitsDataModule", "StackedLoader"]


class StackedLoader(InMemoryLoader):
    """Batches of index triples turned into 3-channel images from ``images (N, 1, S, S)``."""

    def __init__(self, images: torch.Tensor, triples: torch.Tensor, labels: torch.Tensor, **kw):
        super().__init__((triples, labels), **kw)
        self.images = images

    def __iter__(self):
        for triples, labels in super().__iter__():
            x = self.images[triples].flatten(1, 2)  # (B, 3, 1, S, S) -> (B, 3, S, S)
            yield self.pinned((x, labels))


class StackedDigitsDataModule(DigitsDataModule):
    """Three digits as three channels; 1,000 modes.

    Args:
        n_train, n_val, n_test: number of stacked examples per split (PacGAN stacks 128,000
            MNIST training images; the default here is 100,000).
        digits_n_val, digits_n_test: held-out digits that val/test stacks are drawn from.
        Other arguments as ``DigitsDataModule``.
    """

    num_classes = 1000
    stacked = True

    def __init__(
        self,
        n_train: int = 100_000,
        n_val: int = 2_600,
        n_test: int = 26_000,
        digits_n_val: int = 200,
        digits_n_test: int = 300,
        **kwargs,
    ):
        super().__init__(n_val=digits_n_val, n_test=digits_n_test, **kwargs)
        for key, val in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
            if int(val) < 1:
                raise ConfigError(f"data.{key} must be >= 1, got {val}")
        self.stack_sizes = {"train": int(n_train), "val": int(n_val), "test": int(n_test)}
        self.shape = (3, self.image_size, self.image_size)
        self.stacks: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def setup(self, stage: str | None = None) -> None:
        super().setup(stage)
        if self.stacks:
            return
        for i, split in enumerate(("train", "val", "test")):
            digits = self.splits[split][1]
            rng = np.random.default_rng(self.seed * 7 + 101 + i)
            idx = torch.as_tensor(rng.integers(0, len(digits), (self.stack_sizes[split], 3)))
            d = digits[idx]
            self.stacks[split] = (idx, d[:, 0] * 100 + d[:, 1] * 10 + d[:, 2])

    def stacked_split(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """A whole split as ``(x (n, 3, S, S), labels)`` (memory: n * 3 * S * S floats)."""
        idx, y = self.stacks[split]
        return self.splits[split][0][idx].flatten(1, 2), y

    def split_loader(self, split: str, train: bool) -> StackedLoader:
        idx, y = self.stacks[split]
        options = self.loader_options(len(idx), train, "stacks")
        return StackedLoader(self.splits[split][0], idx, y, **options)
