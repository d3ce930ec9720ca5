"""Shape-changing bijections with log|det| = 0: RealNVP's squeeze (Dinh et al. 2017, Sec. 3.6)
and flattening (NICE works on images as vectors)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from gens.flows.transforms.base import Transform
from gens.utils.errors import IncompatibleDataError

__all__ = ["squeeze", "unsqueeze", "Squeeze", "Flatten", "Squeezed", "max_squeezes"]


def max_squeezes(h: int, w: int) -> int:
    """How many times an ``h x w`` image can be squeezed (both sides halved exactly)."""
    n = 0
    while h % 2 == 0 and w % 2 == 0 and h > 1 and w > 1:
        h, w, n = h // 2, w // 2, n + 1
    return n


def squeeze(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W) -> (N, 4C, H/2, W/2)``: each 2x2 patch becomes 4 channels."""
    n, c, h, w = x.shape
    if h % 2 or w % 2:
        raise IncompatibleDataError(
            f"squeeze needs even height and width, got {h}x{w}; resize the data (e.g. a power "
            "of 2) or use fewer multi-scale levels (model.transform.levels)"
        )
    x = x.view(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(n, c * 4, h // 2, w // 2)


def unsqueeze(x: torch.Tensor) -> torch.Tensor:
    n, c, h, w = x.shape
    x = x.view(n, c // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3)
    return x.reshape(n, c // 4, h * 2, w * 2)


class Squeeze(Transform):
    def forward(self, x, context=None):
        return squeeze(x), x.new_zeros(len(x))

    def inverse(self, z, context=None):
        return unsqueeze(z), z.new_zeros(len(z))


class Squeezed(Transform):
    """squeeze -> ``transform`` -> unsqueeze: runs a flow at half resolution, keeps the shape."""

    def __init__(self, transform: Transform):
        super().__init__()
        self.transform = transform

    def forward(self, x, context=None):
        z, ld = self.transform(squeeze(x), context)
        return unsqueeze(z), ld

    def inverse(self, z, context=None):
        x, ld = self.transform.inverse(squeeze(z), context)
        return unsqueeze(x), ld


class Flatten(Transform):
    """``(N, *shape) -> (N, D)`` around an inner vector transform, so z keeps x's shape."""

    def __init__(self, shape: Sequence[int], transform: Transform):
        super().__init__()
        self.shape = tuple(int(s) for s in shape)
        self.transform = transform

    def forward(self, x, context=None):
        z, ld = self.transform(x.reshape(len(x), -1), context)
        return z.view(len(x), *self.shape), ld

    def inverse(self, z, context=None):
        x, ld = self.transform.inverse(z.reshape(len(z), -1), context)
        return x.view(len(z), *self.shape), ld
