"""The transform interface every flow layer implements.

A transform maps data ``x`` to ``z`` (the normalizing direction) and reports the log absolute
Jacobian determinant per example, so log p(x) = log p_Z(f(x)) + log|det df/dx| (Dinh et al.
2014; Rezende & Mohamed 2015). Shapes are preserved: ``z`` has the shape of ``x``.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

__all__ = ["Transform", "Compose", "Inverse"]


class Transform(nn.Module):
    """Base class. Subclasses implement ``forward`` and ``inverse``.

    ``forward(x, context=None) -> (z, logdet)`` with ``logdet = log|det dz/dx|`` of shape ``[N]``;
    ``inverse(z, context=None) -> (x, logdet)`` with ``logdet = log|det dx/dz|`` (the negative of
    the forward one at the same point). ``context`` is conditioning input for layers that take it.
    """

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None):
        raise NotImplementedError

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None):
        raise NotImplementedError


class Compose(Transform):
    """``f = f_n o ... o f_1``: forward applies the layers in order, summing log-dets."""

    def __init__(self, transforms: Iterable[Transform]):
        super().__init__()
        self.transforms = nn.ModuleList(transforms)

    def forward(self, x, context=None):
        total = x.new_zeros(len(x))
        for t in self.transforms:
            x, ld = t(x, context)
            total = total + ld
        return x, total

    def inverse(self, z, context=None):
        total = z.new_zeros(len(z))
        for t in reversed(self.transforms):
            z, ld = t.inverse(z, context)
            total = total + ld
        return z, total


class Inverse(Transform):
    """Swap the directions of a transform (e.g. IAF is the inverse of a MAF layer)."""

    def __init__(self, transform: Transform):
        super().__init__()
        self.transform = transform

    def forward(self, x, context=None):
        return self.transform.inverse(x, context)

    def inverse(self, z, context=None):
        return self.transform(z, context)
