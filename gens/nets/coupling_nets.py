"""Networks that compute the scale and shift of coupling layers (no Lightning in here).

- ``CouplingMLP``: the fully connected nets of NICE (Dinh et al. 2014) and of 2-D flows.
- ``CouplingResNet``: the residual s/t networks of RealNVP (Dinh et al. 2017, Sec. 4.1).
- ``GlowNet``: Glow's conv3x3 -> conv1x1 -> zero-initialized conv3x3 (Kingma & Dhariwal 2018).

Every net ends in a zero-initialized layer, so each coupling starts as the identity map, which
keeps deep flows stable at the start of training (Glow Sec. 3.3).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from gens.nets.mlp import activation, mlp

__all__ = ["CouplingMLP", "CouplingResNet", "GlowNet", "ZeroConv2d", "zero_init"]


def zero_init(layer: nn.Module) -> nn.Module:
    nn.init.zeros_(layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


class ZeroConv2d(nn.Conv2d):
    """A 3x3 convolution initialized to output zeros."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3):
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        zero_init(self)


class CouplingMLP(nn.Module):
    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: Sequence[int] = (64, 64),
        act: str = "relu",
    ):
        super().__init__()
        hidden = [int(h) for h in hidden]
        self.body = mlp([in_features, *hidden], act)
        self.out = zero_init(nn.Linear(hidden[-1] if hidden else in_features, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x))


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    from gens.utils.errors import ConfigError

    raise ConfigError(f"unknown norm '{kind}' for a coupling net; choose batch or none")


class _ResBlock(nn.Module):
    def __init__(self, channels: int, norm: str, act: str):
        super().__init__()
        self.body = nn.Sequential(
            _norm(norm, channels),
            activation(act),
            nn.Conv2d(channels, channels, 3, padding=1),
            _norm(norm, channels),
            activation(act),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x):
        return x + self.body(x)


class _FramedConvNet(nn.Module):
    """conv3x3 to ``channels`` -> the layers ``middle()`` builds -> zero-initialized conv3x3."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        channels: int,
        middle: Callable[[], list[nn.Module]],
    ):
        super().__init__()
        # built in this order so that the layers draw their initial weights in sequence
        first = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.net = nn.Sequential(first, *middle(), ZeroConv2d(channels, out_channels))

    def forward(self, x):
        return self.net(x)


class CouplingResNet(_FramedConvNet):
    """conv3x3 -> ``blocks`` pre-activation residual blocks -> norm, act -> zero conv3x3."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        channels: int = 64,
        blocks: int = 4,
        norm: str = "batch",
        act: str = "relu",
    ):
        def middle() -> list[nn.Module]:
            res = [_ResBlock(channels, norm, act) for _ in range(int(blocks))]
            return [*res, _norm(norm, channels), activation(act)]

        super().__init__(in_channels, out_channels, channels, middle)


class GlowNet(_FramedConvNet):
    """Glow's coupling network: conv3x3, act, conv1x1, act, zero-initialized conv3x3."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        channels: int = 512,
        norm: str = "none",
        act: str = "relu",
    ):
        def middle() -> list[nn.Module]:
            return [
                _norm(norm, channels),
                activation(act),
                nn.Conv2d(channels, channels, 1),
                _norm(norm, channels),
                activation(act),
            ]

        super().__init__(in_channels, out_channels, channels, middle)
