"""Affine autoregressive layers: MAF (Papamakarios et al. 2017) and IAF (Kingma et al. 2016).

One MAF layer maps data to noise with a MADE (Germain et al. 2015) conditioner:
``z_i = (x_i - mu_i(x_<i)) * exp(-alpha_i(x_<i))``, ``log|det dz/dx| = -sum_i alpha_i``.
All ``mu, alpha`` come from one pass over ``x``, so density evaluation is one network pass; the
inverse (sampling) must recover ``x_i`` in order and takes D passes.

IAF is the same layer used the other way round: its sampling direction
``x_i = z_i * exp(alpha_i(z_<i)) + mu_i(z_<i)`` is one pass, and evaluating the density of an
arbitrary ``x`` needs D passes. Here ``IAFLayer`` is literally ``Inverse(MAFLayer)``.

Example::

    layer = MAFLayer(4, hidden=(16,))
    z, logdet = layer(torch.randn(8, 4))
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import torch

from gens.flows.transforms.base import Inverse, Transform
from gens.nets.made import MADE
from gens.utils.errors import ConfigError

__all__ = ["MAFLayer", "IAFLayer"]


class MAFLayer(Transform):
    """Masked affine autoregressive transform on the flattened features of ``x``.

    The log-scale is soft-clamped to ``(-bound, bound)`` with ``bound * tanh(a / bound)`` so a
    single layer cannot blow up; the MADE output starts at zero, so the layer starts as identity.
    """

    def __init__(
        self,
        dim: int,
        hidden: Sequence[int] = (64, 64),
        order: torch.Tensor | None = None,
        context_dim: int = 0,
        act: str = "relu",
        scale_bound: float = 5.0,
        random_degrees: bool = False,
        seed: int = 0,
    ):
        super().__init__()
        if scale_bound <= 0:
            raise ConfigError(f"scale_bound must be > 0, got {scale_bound}")
        self.dim, self.scale_bound = int(dim), float(scale_bound)
        self.made = MADE(
            self.dim, 2, hidden, order, context_dim, act, random_degrees=random_degrees, seed=seed
        )

    def _shift_logscale(self, x: torch.Tensor, context):
        p = self.made(x, context)
        shift, raw = p[:, 0], p[:, 1]
        return shift, self.scale_bound * torch.tanh(raw / self.scale_bound)

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        if prod(x.shape[1:]) != self.dim:
            raise ConfigError(
                f"{type(self).__name__} was built for {self.dim} features, got {x.shape}"
            )
        return x.reshape(len(x), self.dim)

    def forward(self, x, context=None):
        flat = self._flat(x)
        shift, logscale = self._shift_logscale(flat, context)
        z = (flat - shift) * torch.exp(-logscale)
        return z.view_as(x), -logscale.sum(1)

    def inverse(self, z, context=None):
        flat = self._flat(z)
        x = torch.zeros_like(flat)
        # After pass k every variable of degree <= k is exact, so D passes recover x.
        for _ in range(self.dim):
            shift, logscale = self._shift_logscale(x, context)
            x = flat * torch.exp(logscale) + shift
        return x.view_as(z), logscale.sum(1)


class IAFLayer(Inverse):
    """IAF (Kingma et al. 2016): a MAF layer run backwards; one pass to sample, D to evaluate."""

    def __init__(self, dim: int, **kwargs):
        super().__init__(MAFLayer(dim, **kwargs))
