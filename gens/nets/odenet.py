"""Time-dependent dynamics networks ``f(t, z)`` of continuous normalizing flows, with FFJORD's
concat-squash layers (Grathwohl et al. 2019, App. B): every layer is gated and shifted by the
time, ``(W z + b) * sigmoid(a t + c) + d t``, so the vector field can change along the flow.

``ODENet`` is an MLP of ``ConcatSquashLinear`` on vectors and a stack of 3x3
``ConcatSquashConv2d`` on images, with smooth activations (tanh, softplus): the solver and the
trace need a differentiable field.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from gens.utils.errors import ConfigError

__all__ = ["ConcatSquashLinear", "ConcatSquashConv2d", "ODENet"]

ACTS = {"tanh": nn.Tanh, "softplus": nn.Softplus, "elu": nn.ELU}


class _ConcatSquash(nn.Module):
    layer: nn.Module

    def __init__(self, out: int):
        super().__init__()
        self.gate = nn.Linear(1, out)
        self.shift = nn.Linear(1, out, bias=False)

    def forward(self, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        tt = t.reshape(1, 1).to(z)
        view = (1, -1) + (1,) * (z.dim() - 2)
        gate = torch.sigmoid(self.gate(tt)).view(view)
        return self.layer(z) * gate + self.shift(tt).view(view)


class ConcatSquashLinear(_ConcatSquash):
    def __init__(self, in_features: int, out_features: int):
        super().__init__(out_features)
        self.layer = nn.Linear(in_features, out_features)


class ConcatSquashConv2d(_ConcatSquash):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3):
        super().__init__(out_channels)
        self.layer = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)


class ODENet(nn.Module):
    """``f(t, z)`` for ``z`` of ``shape``: ``hidden`` widths (vectors) or channels (images)."""

    def __init__(self, shape: Sequence[int], hidden: Sequence[int] = (64, 64, 64), act="tanh"):
        super().__init__()
        if act not in ACTS:
            raise ConfigError(f"unknown ODE net activation '{act}'; choose {', '.join(ACTS)}")
        shape = tuple(int(s) for s in shape)
        sizes = [shape[0], *(int(h) for h in hidden), shape[0]]
        layer = ConcatSquashLinear if len(shape) == 1 else ConcatSquashConv2d
        self.layers = nn.ModuleList(layer(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.act = ACTS[act]()

    def forward(self, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        for k, layer in enumerate(self.layers):
            z = layer(t, z)
            if k < len(self.layers) - 1:
                z = self.act(z)
        return z
