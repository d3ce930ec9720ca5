"""Fully connected generator and discriminator for vector data.

The discriminator can use maxout units (Goodfellow et al. 2013), as the original GAN
(Goodfellow et al. 2014) and the PacGAN 2-D experiments (Lin et al. 2018) do.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import torch
from torch import nn

from gens.nets.fourier import FourierFeatures
from gens.utils.errors import ConfigError

__all__ = ["Maxout", "MLPGenerator", "MLPDiscriminator", "mlp", "activation", "with_label"]


def activation(name: str) -> nn.Module:
    table = {
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(0.2),
        "tanh": nn.Tanh,
        "elu": nn.ELU,
        "silu": nn.SiLU,
    }
    if name not in table:
        raise ConfigError(f"unknown activation '{name}'; choose one of {', '.join(table)}")
    return table[name]()


def with_label(h: torch.Tensor, y: torch.Tensor | None, num_classes: int | None) -> torch.Tensor:
    """``h [N, F]`` with the one-hot label appended (conditioning by concatenation), or ``h``
    itself when the network is unconditional."""
    if not num_classes:
        return h
    return torch.cat([h, nn.functional.one_hot(y, num_classes).to(h.dtype)], 1)


class Maxout(nn.Module):
    """Linear map to ``out_features * pieces`` units, then the max over each group of pieces."""

    def __init__(self, in_features: int, out_features: int, pieces: int):
        super().__init__()
        self.out_features, self.pieces = out_features, pieces
        self.linear = nn.Linear(in_features, out_features * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear(x).view(*x.shape[:-1], self.out_features, self.pieces)
        return y.max(dim=-1).values


def mlp(
    sizes: Sequence[int],
    act: str = "relu",
    batch_norm: bool = False,
    maxout: int = 0,
    dropout: float = 0.0,
) -> nn.Sequential:
    """Hidden stack ``sizes[0] -> ... -> sizes[-1]``, every layer followed by its nonlinearity."""
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        if maxout > 1:
            layers.append(Maxout(a, b, maxout))
        else:
            layers.append(nn.Linear(a, b))
            if batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(activation(act))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z (and an optional one-hot label) -> hidden ReLU stack -> data of ``data_shape``."""

    def __init__(
        self,
        latent_dim: int,
        data_shape: Sequence[int],
        hidden: Sequence[int] = (400, 400, 400, 400),
        act: str = "relu",
        batch_norm: bool = True,
        num_classes: int | None = None,
        output: str | None = None,
    ):
        super().__init__()
        self.latent_dim, self.data_shape = int(latent_dim), tuple(int(s) for s in data_shape)
        self.num_classes = num_classes
        in_dim = self.latent_dim + (num_classes or 0)
        hidden = [int(h) for h in hidden]
        self.body = mlp([in_dim, *hidden], act, batch_norm)
        self.out = nn.Linear(hidden[-1] if hidden else in_dim, prod(self.data_shape))
        self.output_act = activation(output) if output else nn.Identity()

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        z = with_label(z, y, self.num_classes)
        x = self.output_act(self.out(self.body(z)))
        return x.view(len(z), *self.data_shape)


class MLPDiscriminator(nn.Module):
    """x (and an optional one-hot label) -> hidden stack (maxout or LeakyReLU) -> one logit.

    ``features`` and ``head`` are separate so wrappers (minibatch discrimination, packing) can
    act on the penultimate features. ``fourier_features=k`` feeds the stack
    ``[x, sin(2 pi B x), cos(2 pi B x)]`` with ``k`` random frequencies of std ``fourier_scale``
    (``gens.nets.fourier``) so that D resolves fine structure in low-dimensional data.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        hidden: Sequence[int] = (200, 200, 200),
        act: str = "leaky_relu",
        maxout: int = 5,
        dropout: float = 0.0,
        num_classes: int | None = None,
        layer_norm: bool = False,
        spectral_norm: bool = False,
        fourier_features: int = 0,
        fourier_scale: float = 1.0,
    ):
        super().__init__()
        self.data_shape = tuple(int(s) for s in data_shape)
        self.num_classes = num_classes
        in_dim = prod(self.data_shape)
        self.fourier = None
        if fourier_features:
            self.fourier = FourierFeatures(in_dim, int(fourier_features), float(fourier_scale))
            in_dim = self.fourier.out_features
        in_dim += num_classes or 0
        hidden = [int(h) for h in hidden]
        self.body = mlp([in_dim, *hidden], act, batch_norm=False, maxout=maxout, dropout=dropout)
        self.feature_dim = hidden[-1] if hidden else in_dim
        self.norm = nn.LayerNorm(self.feature_dim) if layer_norm else nn.Identity()
        self.head = nn.Linear(self.feature_dim, 1)
        if spectral_norm:  # Miyato et al. 2018, on every linear layer
            from gens.nets.norm import apply_spectral_norm

            apply_spectral_norm(self)

    def features(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = x.reshape(len(x), -1)
        if self.fourier is not None:
            x = self.fourier(x)
        x = with_label(x, y, self.num_classes)
        return self.norm(self.body(x))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x, y)).squeeze(-1)
