"""ActNorm: Kingma & Dhariwal 2018 (Glow), Sec. 3.1.

A per-channel affine map ``z = (x + b) * exp(logs)`` whose parameters are initialized from the
first batch so that the output has zero mean and unit variance per channel (data-dependent
initialization), then trained freely. log|det| = (spatial size) * sum(logs). The ``initialized``
flag is a buffer, so a resumed or reloaded model does not re-initialize.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

from gens.flows.transforms.base import Transform

__all__ = ["ActNorm"]


def _spatial(x: torch.Tensor) -> int:
    return x[0, 0].numel() if x.dim() > 2 else 1


class ActNorm(Transform):
    """Per-channel (dim 1) scale and bias, data-initialized on the first forward pass."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))
        self.logs = nn.Parameter(torch.zeros(channels))
        self.eps = eps
        # checkpointed, and mirrored in a Python flag so that forward never reads the tensor
        # (a host sync per layer and step on a GPU)
        self.register_buffer("initialized", torch.tensor(False))
        self._pending_init = True

    def _view(self, p: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return p.view(1, -1, *([1] * (x.dim() - 2)))

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        dims = [d for d in range(x.dim()) if d != 1]
        mean = x.mean(dims)
        sq = x.pow(2).mean(dims)
        if dist.is_available() and dist.is_initialized():  # same init on every rank
            stats = torch.stack([mean, sq])
            dist.all_reduce(stats)
            mean, sq = stats / dist.get_world_size()
        std = (sq - mean.pow(2)).clamp_min(0).sqrt()
        self.bias.copy_(-mean)
        self.logs.copy_(-torch.log(std + self.eps))
        self.initialized.fill_(True)
        self._pending_init = False

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self._pending_init = not bool(self.initialized)

    def forward(self, x, context=None):
        if self._pending_init and len(x) > 1:
            self.initialize(x)
        z = (x + self._view(self.bias, x)) * self._view(self.logs.exp(), x)
        return z, self.logs.sum().expand(len(x)) * _spatial(x)

    def inverse(self, z, context=None):
        x = z * self._view((-self.logs).exp(), z) - self._view(self.bias, z)
        return x, -self.logs.sum().expand(len(z)) * _spatial(z)
