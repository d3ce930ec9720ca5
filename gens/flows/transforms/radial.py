"""Radial flow (Rezende & Mohamed 2015, Sec. 4.1).

Generative direction ``x = f(z) = z + beta h(alpha, r) (z - z0)``, ``r = |z - z0|``,
``h = 1 / (alpha + r)``, with
``log|det df/dz| = (d - 1) log(1 + beta h) + log(1 + beta h + beta h'(r) r)``.

Invertibility (Appendix A.2): ``beta >= -alpha``. Parameterized as ``alpha = softplus(a)`` and
``beta = -alpha + softplus(c)``, so ``beta > -alpha`` always.

The inverse has no closed form in Rezende & Mohamed's presentation, but it reduces to a scalar
equation in the radius: ``r' = |x - z0| = r (1 + beta / (alpha + r))``, increasing in ``r``
when ``beta > -alpha``, i.e. the quadratic ``r^2 + (alpha + beta - r') r - alpha r' = 0``,
whose non-negative root gives ``r`` and then ``z - z0 = (x - z0) / (1 + beta / (alpha + r))``.
That exact inverse is ``forward`` here.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from gens.flows.transforms.amortized import ParamLayer

__all__ = ["Radial"]


class Radial(ParamLayer):
    """One radial layer on ``dim`` features; ``context_dim > 0`` makes it amortized."""

    def __init__(self, dim: int, context_dim: int = 0):
        self.dim = int(dim)
        super().__init__(self.dim + 2, context_dim)

    def init_params(self) -> torch.Tensor:
        p = 0.1 * torch.randn(self.num_params)
        p[: self.dim] = torch.randn(self.dim)  # centres spread over the base's bulk
        return p

    def _params(self, n: int, context):
        p = self.params(n, context)
        z0 = p[:, : self.dim]
        alpha = F.softplus(p[:, -2])
        beta = -alpha + F.softplus(p[:, -1])
        return z0, alpha, beta

    def _logdet(self, r, alpha, beta):
        h = 1 / (alpha + r)
        dh = -h * h
        return (self.dim - 1) * torch.log1p(beta * h) + torch.log(1 + beta * h + beta * dh * r)

    def inverse(self, z, context=None):
        """Closed form: ``z -> x = f(z)`` with ``log|det df/dz|``."""
        flat = z.reshape(len(z), self.dim)
        z0, alpha, beta = self._params(len(z), context)
        d = flat - z0
        r = d.norm(dim=1)
        x = flat + (beta / (alpha + r))[:, None] * d
        return x.view_as(z), self._logdet(r, alpha, beta)

    def forward(self, x, context=None):
        """Exact inverse ``x -> z`` via the radius quadratic, with ``log|det dz/dx|``."""
        flat = x.reshape(len(x), self.dim)
        z0, alpha, beta = self._params(len(x), context)
        d = flat - z0
        r_out = d.norm(dim=1)
        c = alpha + beta - r_out
        r = 0.5 * (-c + torch.sqrt(c * c + 4 * alpha * r_out))
        z = z0 + d / (1 + beta / (alpha + r))[:, None]
        return z.view_as(x), -self._logdet(r, alpha, beta)
