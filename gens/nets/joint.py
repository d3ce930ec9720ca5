"""Networks on (data, latent) pairs: a reconstructor x -> z and a discriminator of (x, z).

VEEGAN (Srivastava et al. 2017) and BiGAN/ALI (Donahue et al. 2017, Dumoulin et al. 2017)
judge joint pairs (x, z). ``JointDiscriminator`` wraps any vector discriminator factory: it
builds it for inputs of size ``prod(data_shape) + latent_dim`` and feeds it the flattened
sample concatenated with its code. ``MLPReconstructor`` is a fully connected map from data to
the latent space.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import prod

import torch
from torch import nn

from gens.nets.mlp import mlp

__all__ = ["JointDiscriminator", "MLPReconstructor"]


class JointDiscriminator(nn.Module):
    """``(x, z) -> logit``: an inner discriminator on ``cat(flatten(x), z)``."""

    def __init__(
        self,
        discriminator: Callable[..., nn.Module],
        data_shape: Sequence[int],
        latent_dim: int,
    ):
        super().__init__()
        self.data_shape, self.latent_dim = tuple(int(s) for s in data_shape), int(latent_dim)
        in_dim = prod(self.data_shape) + self.latent_dim
        self.inner = discriminator(data_shape=(in_dim,), num_classes=None)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.inner(torch.cat([x.reshape(len(x), -1), z], dim=1))


class MLPReconstructor(nn.Module):
    """``x -> z``: a hidden stack on the flattened sample, then a linear map to ``latent_dim``."""

    def __init__(
        self,
        data_shape: Sequence[int],
        latent_dim: int,
        hidden: Sequence[int] = (400, 400),
        act: str = "relu",
        batch_norm: bool = False,
    ):
        super().__init__()
        in_dim = prod(int(s) for s in data_shape)
        hidden = [int(h) for h in hidden]
        self.body = mlp([in_dim, *hidden], act, batch_norm)
        self.out = nn.Linear(hidden[-1] if hidden else in_dim, int(latent_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x.reshape(len(x), -1)))
