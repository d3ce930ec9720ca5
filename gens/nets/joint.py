"""Networks on (data, latent) pairs: a reconstructor x -> z and a discriminator of (x, z).

VEEGAN (Srivastava et al. 2017) and BiGAN/ALI (Donahue et al. 2017, Dumoulin et al. 2017)
judge joint pairs (x, z). ``JointDiscriminator`` wraps any vector discriminator factory: it
builds it for inputs of size ``prod(data_shape) + latent_dim`` and feeds it the flattened
sample concatenated with its code. ``MLPReconstructor`` is a fully connected map from data to
the latent space. ``embed=[w, ...]`` gives x and z each a hidden stack of their own before the
joint layers, as ALI's discriminator has separate x and z pathways (Dumoulin et al. 2017,
Table 4): a first layer on the raw ``cat(x, z)`` mixes the code's spread into every unit and
hides the data's fine structure (on grid25 such a D stays at chance for a 1-minute run).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import prod

import torch
from torch import nn

from gens.nets.mlp import mlp

__all__ = ["JointDiscriminator", "MLPReconstructor"]


class JointDiscriminator(nn.Module):
    """``(x, z) -> logit``: an inner discriminator on ``cat(flatten(x), z)``, or on
    ``cat(f(x), g(z))`` with ``embed`` widths of the two pathways ``f`` and ``g`` (``act`` and
    ``maxout`` as in ``gens.nets.mlp.mlp``)."""

    def __init__(
        self,
        discriminator: Callable[..., nn.Module],
        data_shape: Sequence[int],
        latent_dim: int,
        embed: Sequence[int] = (),
        act: str = "leaky_relu",
        maxout: int = 0,
    ):
        super().__init__()
        self.data_shape, self.latent_dim = tuple(int(s) for s in data_shape), int(latent_dim)
        embed = [int(w) for w in embed]
        x_dim = prod(self.data_shape)
        self.embed_x = mlp([x_dim, *embed], act, maxout=maxout) if embed else nn.Identity()
        self.embed_z = (
            mlp([self.latent_dim, *embed], act, maxout=maxout) if embed else nn.Identity()
        )
        in_dim = 2 * embed[-1] if embed else x_dim + self.latent_dim
        self.inner = discriminator(data_shape=(in_dim,), num_classes=None)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        h = [self.embed_x(x.reshape(len(x), -1)), self.embed_z(z)]
        return self.inner(torch.cat(h, dim=1))


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
