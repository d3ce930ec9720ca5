"""Normalizing layers of flows: RealNVP's batch normalization as a bijection (Dinh et al. 2017,
Sec. 3.7) and NICE's final diagonal scaling (Dinh et al. 2014, Sec. 3.3)."""

from __future__ import annotations

import torch
from torch import nn

from gens.flows.transforms.base import Transform

__all__ = ["BatchNormFlow", "DiagonalScaling"]


def _view(p: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return p.view(1, -1, *([1] * (x.dim() - 2)))


class BatchNormFlow(Transform):
    """``z = (x - mu) / sqrt(var + eps) * exp(log_gamma) + beta`` per channel.

    Training uses the batch statistics (and differentiates through them, as RealNVP does), so
    the log-det then depends on the batch; evaluation uses running averages and is an ordinary
    per-example bijection.
    """

    def __init__(self, channels: int, momentum: float = 0.05, eps: float = 1e-5):
        super().__init__()
        self.log_gamma = nn.Parameter(torch.zeros(channels))
        self.beta = nn.Parameter(torch.zeros(channels))
        self.momentum, self.eps = momentum, eps
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def _stats(self, x):
        if self.training and len(x) > 1:
            dims = [d for d in range(x.dim()) if d != 1]
            mean, var = x.mean(dims), x.var(dims, unbiased=False)
            with torch.no_grad():
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var, self.momentum)
            return mean, var
        return self.running_mean, self.running_var

    def _logdet(self, x, var):
        hw = x[0, 0].numel() if x.dim() > 2 else 1
        return (hw * (self.log_gamma - 0.5 * torch.log(var + self.eps)).sum()).expand(len(x))

    def forward(self, x, context=None):
        mean, var = self._stats(x)
        z = (x - _view(mean, x)) * _view(torch.rsqrt(var + self.eps) * self.log_gamma.exp(), x)
        return z + _view(self.beta, x), self._logdet(x, var)

    def inverse(self, z, context=None):
        mean, var = self.running_mean, self.running_var
        scale = torch.sqrt(var + self.eps) * (-self.log_gamma).exp()
        x = (z - _view(self.beta, z)) * _view(scale, z) + _view(mean, z)
        return x, -self._logdet(z, var)


class DiagonalScaling(Transform):
    """``z = x * exp(s)`` with one learned log-scale per dimension (NICE's last layer, which
    lets the volume-preserving additive couplings weight dimensions)."""

    def __init__(self, shape):
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(*shape))

    def forward(self, x, context=None):
        return x * self.log_scale.exp(), self.log_scale.sum().expand(len(x))

    def inverse(self, z, context=None):
        return z * (-self.log_scale).exp(), -self.log_scale.sum().expand(len(z))
