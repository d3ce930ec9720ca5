"""Channel permutations between coupling layers: reversal (Dinh et al. 2017, RealNVP) and a
fixed random shuffle (Kingma & Dhariwal 2018, Glow's ablation baselines). Volume preserving."""

from __future__ import annotations

import torch

from gens.flows.transforms.base import Transform

__all__ = ["Permutation", "Reverse", "Shuffle"]


class Permutation(Transform):
    """Permute dim 1 (features or channels) by a fixed index buffer; log|det| = 0."""

    def __init__(self, perm: torch.Tensor):
        super().__init__()
        self.register_buffer("perm", perm.long())
        self.register_buffer("inv_perm", torch.argsort(perm.long()))

    def forward(self, x, context=None):
        return x.index_select(1, self.perm), x.new_zeros(len(x))

    def inverse(self, z, context=None):
        return z.index_select(1, self.inv_perm), z.new_zeros(len(z))


class Reverse(Permutation):
    def __init__(self, channels: int):
        super().__init__(torch.arange(channels - 1, -1, -1))


class Shuffle(Permutation):
    """A random permutation drawn once from ``seed`` (and stored in the state dict)."""

    def __init__(self, channels: int, seed: int = 0):
        g = torch.Generator().manual_seed(int(seed))
        super().__init__(torch.randperm(channels, generator=g))
