"""Packing: the discriminator judges m samples at once (PacGAN, Lin et al. 2018).

``PackedDiscriminator`` wraps any discriminator class. It builds the inner network for inputs
m times as large along the feature dimension (vectors ``(m*D,)``, images ``(m*C, H, W)``) and,
on a batch of N samples, concatenates each run of m consecutive samples into one packed input,
returning N/m logits. Real and generated batches are packed the same way (the GAN calls D on
each separately, so a pack never mixes real and generated samples), and every loss that
averages over D's outputs works unchanged.

``fourier_features=k`` (vectors only) maps each sample to its random Fourier features
(``gens.nets.fourier``) before packing, so every sample of a pack gets the encoding the unpacked
discriminator would give it; one Fourier map of the packed vector would mix the coordinates of
different samples in every frequency and hide the per-sample fine structure it is there to show.
``embed=[w, ...]`` (vectors only) passes each sample through one hidden stack shared by the
samples of a pack (the inner network's ``act`` and ``maxout``) before packing: a first layer
on the raw packed vector mixes the coordinates of all m samples, and on the 2-D mixtures such a
D does not resolve the modes for thousands of steps (docs/benchmarks/packed_discriminator.md),
while the shared stack learns per-sample features as fast as an unpacked D and the layers
after it still judge the pack jointly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from hydra.utils import get_class
from torch import nn

from gens.nets.fourier import FourierFeatures
from gens.nets.mlp import mlp
from gens.utils.errors import ConfigError

__all__ = ["PackedDiscriminator", "pack_samples", "packed_shape"]


def packed_shape(data_shape: Sequence[int], pack: int) -> tuple[int, ...]:
    """The shape of one packed input: the first (feature or channel) dimension times ``pack``."""
    data_shape = tuple(int(s) for s in data_shape)
    return (data_shape[0] * pack, *data_shape[1:])


def pack_samples(x: torch.Tensor, pack: int) -> torch.Tensor:
    """``(N, d0, ...) -> (N/pack, pack*d0, ...)``: samples ``i*pack .. i*pack+pack-1`` form pack i,
    concatenated along dimension 1 in that order."""
    n = len(x)
    if n % pack:
        raise ConfigError(
            f"PacGAN packing needs a batch divisible by pack={pack}, got a batch of {n}; "
            f"choose data.batch_size (and eval batch) as a multiple of {pack}"
        )
    return x.reshape(n // pack, pack * x.shape[1], *x.shape[2:])


class PackedDiscriminator(nn.Module):
    """Any discriminator, made to see ``pack`` samples at a time.

    Args:
        data_shape: shape of one (unpacked) example.
        pack: the packing degree m (PacGAN2/3/4 are 2, 3, 4); 1 is the plain discriminator.
        network: the inner discriminator: an import path (configs) or a factory
            ``(data_shape=, **network_kwargs) -> nn.Module``.
        num_classes: conditional discriminators are not packed (labels cannot be packed the
            same way for every network); raises ``ConfigError``.
        fourier_features: k > 0 maps each sample (vectors only) to ``[x, sin(2 pi B x),
            cos(2 pi B x)]`` with k random frequencies of std ``fourier_scale`` before packing.
        embed: widths of a hidden stack applied to each sample (vectors only, after the
            Fourier features) before packing; empty: the samples are packed as they are.
        **network_kwargs: the inner network's own arguments, so a config packs a model's
            discriminator by changing only ``_target_``, ``network`` and ``pack``.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        pack: int = 2,
        network: str | Callable[..., nn.Module] = "gens.nets.MLPDiscriminator",
        num_classes: int | None = None,
        fourier_features: int = 0,
        fourier_scale: float = 1.0,
        embed: Sequence[int] = (),
        **network_kwargs,
    ):
        super().__init__()
        if int(pack) < 1:
            raise ConfigError(f"model.discriminator.pack must be >= 1, got {pack}")
        if num_classes:
            raise ConfigError(
                "PacGAN packing is for unconditional discriminators; set model.conditional=false"
            )
        self.pack = int(pack)
        self.data_shape = tuple(int(s) for s in data_shape)
        self.fourier, self.embed = None, None
        sample_shape = self.data_shape
        embed = [int(w) for w in embed]
        if (fourier_features or embed) and len(self.data_shape) != 1:
            raise ConfigError(
                "model.discriminator.fourier_features and embed are for vector data; drop them "
                f"for data of shape {self.data_shape}"
            )
        if fourier_features:
            self.fourier = FourierFeatures(
                self.data_shape[0], int(fourier_features), float(fourier_scale)
            )
            sample_shape = (self.fourier.out_features,)
        if embed:
            act = network_kwargs.get("act", "leaky_relu")
            self.embed = mlp(
                [sample_shape[0], *embed], act, maxout=network_kwargs.get("maxout", 0)
            )
            sample_shape = (embed[-1],)
        factory = get_class(network) if isinstance(network, str) else network
        self.inner = factory(data_shape=packed_shape(sample_shape, self.pack), **network_kwargs)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if not self.training and len(x) % self.pack:
            # Held-out diagnostics (eval mode) may come in batches the pack does not divide;
            # they judge the complete packs. Training batches must divide (error otherwise).
            x = x[: len(x) - len(x) % self.pack]
        if self.fourier is not None:
            x = self.fourier(x)
        if self.embed is not None:
            x = self.embed(x)
        return self.inner(pack_samples(x, self.pack))
