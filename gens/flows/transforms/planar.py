"""Planar flow (Rezende & Mohamed 2015, Sec. 4.1).

Generative direction ``x = f(z) = z + u_hat * tanh(w.z + b)`` with
``log|det df/dz| = log|1 + u_hat . psi(z)|``, ``psi(z) = tanh'(w.z + b) w``.

Invertibility (Rezende & Mohamed, Appendix A.1): with ``h = tanh`` the map is invertible iff
``w.u_hat >= -1``. The free vector ``u`` is reparameterized as
``u_hat = u + (m(w.u) - w.u) w / |w|^2`` with ``m(a) = -1 + softplus(a + log(e - 1))``, so
``w.u_hat = m(w.u) > -1`` always. The shift ``log(e - 1)`` (ours; the paper has none) makes
``m(0) = 0``: small initial ``u, w`` then give a layer close to the identity, where the
unshifted ``m(0) = -0.31`` makes every layer contract by ~30% along ``w`` at initialization
(32 such layers start the flow far from the base density).

There is no closed-form inverse. Along ``w`` the map is scalar and increasing:
``w.x = a + (w.u_hat) tanh(a + b)`` with ``a = w.z``, whose derivative ``1 + (w.u_hat) tanh'``
is positive, so ``a`` is found by bisection in ``[w.x - |w.u_hat|, w.x + |w.u_hat|]`` and then
``z = x - u_hat tanh(a + b)``. That numerical inverse is ``forward`` here.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from gens.flows.transforms.amortized import ParamLayer, bisect

__all__ = ["Planar"]

_SHIFT = math.log(math.e - 1)


class Planar(ParamLayer):
    """One planar layer on ``dim`` features; ``context_dim > 0`` makes it amortized."""

    def __init__(self, dim: int, context_dim: int = 0):
        self.dim = int(dim)
        super().__init__(2 * self.dim + 1, context_dim)

    def _uwb(self, n: int, context):
        p = self.params(n, context)
        u, w, b = p[:, : self.dim], p[:, self.dim : 2 * self.dim], p[:, -1]
        wu = (w * u).sum(1, keepdim=True)
        u_hat = u + (F.softplus(wu + _SHIFT) - 1 - wu) * w / (w * w).sum(
            1, keepdim=True
        ).clamp_min(1e-12)
        return u_hat, w, b

    def inverse(self, z, context=None):
        """Closed form: ``z -> x = f(z)`` with ``log|det df/dz|``."""
        flat = z.reshape(len(z), self.dim)
        u, w, b = self._uwb(len(z), context)
        pre = (w * flat).sum(1) + b
        h = torch.tanh(pre)
        x = flat + u * h[:, None]
        dh = 1 - h * h
        logdet = torch.log((1 + dh * (w * u).sum(1)).abs())
        return x.view_as(z), logdet

    def forward(self, x, context=None):
        """Numerical inverse ``x -> z`` (bisection along ``w``) with ``log|det dz/dx|``."""
        flat = x.reshape(len(x), self.dim)
        u, w, b = self._uwb(len(x), context)
        wu = (w * u).sum(1)
        wx = (w * flat).sum(1)
        a = bisect(lambda a: a + wu * torch.tanh(a + b), wx, wx - wu.abs(), wx + wu.abs())
        h = torch.tanh(a + b)
        z = flat - u * h[:, None]
        logdet = -torch.log((1 + (1 - h * h) * wu).abs())
        return z.view_as(x), logdet
