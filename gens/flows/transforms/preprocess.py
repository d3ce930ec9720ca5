"""From discrete images to a continuous density: dequantization and RealNVP's logit transform.

An image with ``K`` levels per value is a point ``k`` in {0..K-1}^D (gens stores it in [-1, 1]).
Adding noise ``v`` in [0, 1)^D gives ``u = (k + v) / K`` in [0, 1)^D. For any density q(v | k)
(Theis et al. 2016; Ho et al. 2019, Flow++)

    log P(k) >= E_q[log p_u(u) - log q(v | k)] - D log K,

so a flow's continuous log density becomes a bound on the discrete log-likelihood: the
"dequantization correction". Uniform dequantization has q = 1. The logit transform of Dinh et
al. 2017 (RealNVP, Sec. 4.1) maps u to ``logit(alpha + (1 - 2 alpha) u)`` so the flow sees an
unbounded variable; its log|det| is accounted for here.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gens.flows.transforms.base import Transform
from gens.utils.errors import ConfigError

__all__ = ["UniformDequantization", "LogitTransform", "to_levels"]


def to_levels(x: torch.Tensor, num_levels: int) -> torch.Tensor:
    """Images in [-1, 1] -> integer levels {0..K-1} as floats."""
    return torch.round((x.clamp(-1, 1) + 1) * 0.5 * (num_levels - 1))


class UniformDequantization(nn.Module):
    """``u = (k + v) / K`` with ``v ~ U[0, 1)^D``; ``log q(v | k) = 0``."""

    def forward(self, k: torch.Tensor, num_levels: int) -> tuple[torch.Tensor, torch.Tensor]:
        u = (k + torch.rand_like(k)) / num_levels
        return u, k.new_zeros(len(k))


class LogitTransform(Transform):
    """``y = logit(alpha + (1 - 2 alpha) u)`` for u in [0, 1]; RealNVP uses alpha = 0.05 on
    CIFAR-10 and 1e-6 on MNIST-like data. ``alpha=None`` instead centers: ``y = u - 1/2``
    (what Glow feeds its flow)."""

    def __init__(self, alpha: float | None = 0.05):
        super().__init__()
        if alpha is not None and not 0.0 <= float(alpha) < 0.5:
            raise ConfigError(f"model.logit_alpha must be in [0, 0.5) or null, got {alpha}")
        self.alpha = None if alpha is None else float(alpha)

    def _log_abs_det(self, y: torch.Tensor) -> torch.Tensor:
        """log|dy/du| per example at the output ``y``."""
        if self.alpha is None:
            return y.new_zeros(len(y))
        # d/du logit(s) = (1 - 2a) / (s (1 - s)); softplus form stays finite for s near 0/1.
        ld = math.log(1 - 2 * self.alpha) + F.softplus(-y) + F.softplus(y)
        return ld.flatten(1).sum(1)

    def forward(self, u: torch.Tensor, context=None) -> tuple[torch.Tensor, torch.Tensor]:
        """u -> (y, log|dy/du|) per example."""
        if self.alpha is None:
            return u - 0.5, u.new_zeros(len(u))
        s = self.alpha + (1 - 2 * self.alpha) * u
        y = torch.log(s) - torch.log1p(-s)
        return y, self._log_abs_det(y)

    def inverse(self, y: torch.Tensor, context=None) -> tuple[torch.Tensor, torch.Tensor]:
        """y -> (u, log|du/dy|); u is clamped to [0, 1] against rounding at the ends."""
        if self.alpha is None:
            return y + 0.5, y.new_zeros(len(y))
        u = ((torch.sigmoid(y) - self.alpha) / (1 - 2 * self.alpha)).clamp(0, 1)
        return u, -self._log_abs_det(y)
