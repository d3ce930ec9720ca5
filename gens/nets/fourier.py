"""Random Fourier feature input mapping (Tancik et al. 2020, "Fourier Features Let Networks
Learn High Frequency Functions in Low Dimensional Domains").

An MLP on low-dimensional coordinates learns high-frequency functions very slowly (spectral
bias). On the 2-D mixtures this is what keeps a GAN discriminator from seeing the thin
"bridges" a generator leaves between modes (std 0.05 apart by 2.0): a plain maxout D trained
against a fixed generator does not separate them, while the same D on Fourier features does
within a few hundred steps. The mapping is ``x -> [x, sin(2 pi B x), cos(2 pi B x)]`` with a
fixed Gaussian matrix ``B ~ N(0, scale^2)`` (a seeded buffer, saved in checkpoints).

``gain`` (a buffer, 1 by default) multiplies the sine and cosine features. Ramping it from 0 to
1 during training is coarse-to-fine: the network first sees only ``x`` and learns the coarse
function, then the high frequencies (the frequency annealing of BARF, Lin et al. 2021).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gens.utils.errors import ConfigError

__all__ = ["FourierFeatures"]


class FourierFeatures(nn.Module):
    """``(N, D) -> (N, D + 2 * num_features)``."""

    def __init__(self, in_features: int, num_features: int, scale: float = 1.0, seed: int = 0):
        super().__init__()
        if num_features < 1:
            raise ConfigError(f"Fourier features need num_features >= 1, got {num_features}")
        if scale <= 0:
            raise ConfigError(f"Fourier feature scale must be > 0, got {scale}")
        g = torch.Generator().manual_seed(int(seed))
        self.register_buffer("B", torch.randn(in_features, num_features, generator=g) * scale)
        self.register_buffer("gain", torch.ones(()))
        self.out_features = in_features + 2 * num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = (2 * math.pi) * (x @ self.B.to(x.dtype))
        gain = self.gain.to(x.dtype)
        return torch.cat([x, gain * h.sin(), gain * h.cos()], dim=-1)
