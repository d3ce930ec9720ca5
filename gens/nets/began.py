"""BEGAN networks: Berthelot, Schumm & Metz 2017, BEGAN: Boundary Equilibrium Generative
Adversarial Networks (Sec. 3.5 and Fig. 1).

The discriminator is an autoencoder. Encoder: 3x3 convolutions with ELUs, two per scale,
sub-sampling by stride-2 convolutions, filters growing linearly (n, 2n, 3n, ...), then a fully
connected map to the embedding ``h`` (no nonlinearity). Decoder: a fully connected map from
``h`` to ``n x 8 x 8``, two 3x3 conv + ELU per scale, nearest-neighbour upsampling, a final 3x3
conv to the image channels. The generator has the decoder's architecture with its own weights;
it ends in tanh so samples lie in [-1, 1] (the paper leaves the output linear), the decoder of
D stays linear. The base resolution is 8x8 (halving stops at 8 px; MNIST's 28 px gives 14x14).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import torch
from torch import nn

from gens.nets.dcgan import conv_stages
from gens.nets.mlp import with_label

__all__ = ["BEGANEncoder", "BEGANDecoder", "BEGANGenerator", "BEGANDiscriminator"]


def _conv(c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, stride, 1), nn.ELU(inplace=True)]


class BEGANEncoder(nn.Module):
    def __init__(self, data_shape: Sequence[int], hidden_dim: int = 64, width: int = 64):
        super().__init__()
        k, (h0, w0) = conv_stages(data_shape, min_base=8, model="BEGAN")
        c = int(data_shape[0])
        layers = _conv(c, width)
        for i in range(k):
            layers += _conv(width * (i + 1), width * (i + 1))
            layers += _conv(width * (i + 1), width * (i + 1))
            layers += _conv(width * (i + 1), width * (i + 2), stride=2)
        layers += _conv(width * (k + 1), width * (k + 1)) + _conv(width * (k + 1), width * (k + 1))
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(width * (k + 1) * h0 * w0, int(hidden_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.body(x).flatten(1))


class BEGANDecoder(nn.Module):
    def __init__(
        self,
        data_shape: Sequence[int],
        hidden_dim: int = 64,
        width: int = 64,
        output: str = "none",
    ):
        super().__init__()
        k, (h0, w0) = conv_stages(data_shape, min_base=8, model="BEGAN")
        self.base = (int(width), h0, w0)
        self.fc = nn.Linear(int(hidden_dim), prod(self.base))
        layers: list[nn.Module] = []
        for _ in range(k):
            layers += _conv(width, width) + _conv(width, width)
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        layers += _conv(width, width) + _conv(width, width)
        layers.append(nn.Conv2d(width, int(data_shape[0]), 3, 1, 1))
        if output == "tanh":
            layers.append(nn.Tanh())
        self.body = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.body(self.fc(h).view(len(h), *self.base))


class BEGANGenerator(nn.Module):
    """z (+ one-hot label) -> the decoder architecture -> image; ``decoder`` takes
    ``BEGANDecoder``'s options (``width``), and its output is tanh unless set."""

    def __init__(
        self, latent_dim: int, data_shape: Sequence[int], num_classes: int | None = None, **decoder
    ):
        super().__init__()
        self.num_classes = num_classes
        decoder.setdefault("output", "tanh")
        hidden_dim = int(latent_dim) + (num_classes or 0)
        self.decoder = BEGANDecoder(data_shape, hidden_dim, **decoder)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(with_label(z, y, self.num_classes))


class BEGANDiscriminator(nn.Module):
    """The autoencoder D: ``forward(x)`` returns the reconstruction of ``x``. ``sizes`` (the
    embedding's ``hidden_dim``, the filters ``width``) go to both its encoder and decoder.

    ``embed_norm`` (not in the paper, off by default) batch-normalizes the embedding ``h``. In
    training each batch (real or generated, D sees them apart) is normalized by its own
    statistics, so a batch of near-identical samples has its differences blown up and is
    reconstructed badly: G is pushed apart the way minibatch features push it, which keeps a
    short run from collapsing to one image.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int | None = None,
        embed_norm: bool = False,
        **sizes,
    ):
        super().__init__()
        self.encoder = BEGANEncoder(data_shape, **sizes)
        self.decoder = BEGANDecoder(data_shape=data_shape, output="none", **sizes)
        dim = self.encoder.fc.out_features
        self.embed_norm = nn.BatchNorm1d(dim) if embed_norm else nn.Identity()

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(self.embed_norm(self.encoder(x)))
