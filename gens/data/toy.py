"""Embedded 2-D (and 1-D) toy distributions; nothing to download.

``ring8`` and ``grid25`` are the mode-collapse benchmarks of VEEGAN (Srivastava et al. 2017) and
PacGAN (Lin et al. 2018): 8 Gaussians on the unit circle (std 0.01) and 25 Gaussians at
{-4,-2,0,2,4}^2 (std 0.05). ``moons``, ``checkerboard`` and ``spirals`` are the density
benchmarks used by flow papers (e.g. FFJORD); ``gauss1d`` is a 1-D mixture of three Gaussians;
``overlap1d`` two equally likely classes N(-1, 1) and N(1, 1) that overlap (where AC-GAN's
bias shows, Shu et al. 2017). The sets made of components expose them as labels
(``num_classes``): the mixture components, the two moons, the two spirals, the two classes.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from gens.data.base import GensDataModule
from gens.utils.errors import ConfigError

__all__ = ["ToyDataModule", "sample_toy", "TOY_CLASSES", "TOY_SETS", "toy_modes"]


def _mixture(rng: np.random.Generator, n: int, means: np.ndarray, std: float):
    k = rng.integers(0, len(means), size=n)
    return means[k] + std * rng.standard_normal((n, means.shape[1])), k


def toy_modes(name: str) -> tuple[np.ndarray, float] | None:
    """Mode means and std of the mixture sets; ``None`` for sets without discrete modes."""
    if name == "ring8":
        a = 2 * math.pi * np.arange(8) / 8
        return np.stack([np.cos(a), np.sin(a)], 1), 0.01
    if name == "grid25":
        g = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
        return np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2), 0.05
    if name == "gauss1d":
        return np.array([[-3.0], [0.0], [3.0]]), 0.3
    return None


def _overlap1d(rng, n):
    k = rng.integers(0, 2, size=n)
    return (2.0 * k - 1.0 + rng.standard_normal(n))[:, None], k


def _moons(rng, n):
    from sklearn.datasets import make_moons

    x, k = make_moons(n, noise=0.05, random_state=int(rng.integers(2**31)))
    return (x - np.array([0.5, 0.25])) * 2.0, k


def _checkerboard(rng, n):
    x1 = rng.uniform(-2, 2, n)
    x2 = rng.uniform(0, 1, n) - rng.integers(0, 2, n) * 2.0 + np.floor(x1) % 2
    return np.stack([x1, x2], 1) * 2.0, np.zeros(n, dtype=np.int64)


def _spirals(rng, n):
    t = np.sqrt(rng.uniform(0, 1, n)) * 3 * math.pi
    k = rng.integers(0, 2, n)
    sign = np.where(k == 0, 1.0, -1.0)
    x = np.stack([-np.cos(t) * t, np.sin(t) * t], 1) * sign[:, None]
    return x / 3.0 + 0.1 * rng.standard_normal((n, 2)), k


def sample_toy(name: str, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points of the named set as float32 ``(n, D)`` plus a long tensor of component ids."""
    rng = np.random.default_rng(seed)
    modes = toy_modes(name)
    if modes is not None:
        x, k = _mixture(rng, n, *modes)
    elif name == "moons":
        x, k = _moons(rng, n)
    elif name == "overlap1d":
        x, k = _overlap1d(rng, n)
    elif name == "checkerboard":
        x, k = _checkerboard(rng, n)
    elif name == "spirals":
        x, k = _spirals(rng, n)
    else:
        raise ConfigError(f"unknown toy set '{name}'; choose one of {', '.join(TOY_SETS)}")
    return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(k, dtype=torch.long)


TOY_SETS = ("ring8", "grid25", "moons", "checkerboard", "spirals", "gauss1d", "overlap1d")
#: number of labelled components of each set (the checkerboard has none)
TOY_CLASSES = {"ring8": 8, "grid25": 25, "gauss1d": 3, "moons": 2, "spirals": 2, "overlap1d": 2}


class ToyDataModule(GensDataModule):
    """Fixed-size, seeded train/val/test splits of a toy distribution, served from memory.

    The defaults follow the PacGAN set-up: 100,000 training points, batch size 100. Other
    arguments as ``GensDataModule``.
    """

    kind = "vector"

    def __init__(
        self,
        name: str = "grid25",
        n_train: int = 100_000,
        n_val: int = 2_500,
        n_test: int = 2_500,
        batch_size: int = 100,
        **options,
    ):
        super().__init__(batch_size=batch_size, **options)
        if name not in TOY_SETS:
            raise ConfigError(f"unknown toy set '{name}'; choose one of {', '.join(TOY_SETS)}")
        for key, val in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
            if int(val) < 1:
                raise ConfigError(f"data.{key} must be >= 1, got {val}")
        self.name = name
        self.sizes = {"train": int(n_train), "val": int(n_val), "test": int(n_test)}
        self.shape = (1,) if name in ("gauss1d", "overlap1d") else (2,)
        self.num_classes = TOY_CLASSES.get(name)
        modes = toy_modes(name)
        self.modes = None if modes is None else torch.as_tensor(modes[0], dtype=torch.float32)
        self.mode_std = None if modes is None else modes[1]
        self.splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def setup(self, stage: str | None = None) -> None:
        for i, split in enumerate(("train", "val", "test")):
            if split not in self.splits:
                self.splits[split] = sample_toy(self.name, self.sizes[split], self.seed * 3 + i)
