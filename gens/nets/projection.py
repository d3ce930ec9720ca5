"""Label conditioning of a discriminator: by concatenation (Mirza & Osindero 2014, Conditional
Generative Adversarial Nets) or by projection (Miyato & Koyama 2018, cGANs with Projection
Discriminator).

``ConditionalDiscriminator`` wraps any discriminator that exposes ``features(x)``,
``feature_dim`` and ``head`` (``MLPDiscriminator``, ``DCGANDiscriminator``):

- ``concat``: the inner network gets ``num_classes`` and concatenates a one-hot label to its
  input (vectors) or as constant planes (images), the CGAN of Mirza & Osindero;
- ``projection``: the inner network sees x alone and the label enters at the output,
  ``D(x, y) = psi(phi(x)) + <embed(y), phi(x)>`` with ``phi`` the inner features and ``psi`` its
  linear head: the form that follows from a log-linear model of p(y | x) (Miyato & Koyama, Eq. 3).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from hydra.utils import get_object
from torch import nn

from gens.utils.errors import ConfigError

__all__ = ["ConditionalDiscriminator", "CONDITIONINGS"]

CONDITIONINGS = ("concat", "projection")


class ConditionalDiscriminator(nn.Module):
    """Args:
    data_shape: shape of one example.
    num_classes: number of labels (``None``: unconditional, the inner network alone).
    network: the inner discriminator, an import path or a factory ``(data_shape=,
        num_classes=, **network_kwargs)``.
    conditioning: ``concat`` or ``projection``.
    **network_kwargs: the inner network's own arguments.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int | None = None,
        network: str | Callable[..., nn.Module] = "gens.nets.MLPDiscriminator",
        conditioning: str = "concat",
        **network_kwargs,
    ):
        super().__init__()
        if conditioning not in CONDITIONINGS:
            raise ConfigError(
                f"model.discriminator.conditioning must be one of {', '.join(CONDITIONINGS)}, "
                f"got {conditioning!r}"
            )
        self.conditioning = conditioning
        self.num_classes = num_classes
        factory = get_object(network) if isinstance(network, str) else network
        project = conditioning == "projection" and bool(num_classes)
        inner_classes = None if project else num_classes
        self.inner = factory(data_shape=data_shape, num_classes=inner_classes, **network_kwargs)
        self.embed = None
        if project:
            self.embed = nn.Embedding(int(num_classes), int(self.inner.feature_dim))
            # small start: the class term grows from zero beside the unconditional head
            nn.init.normal_(self.embed.weight, 0.0, 0.02)

    @property
    def feature_dim(self) -> int:
        return self.inner.feature_dim

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is None:
            return self.inner(x, y)
        if y is None:
            raise ConfigError("a projection discriminator needs labels y")
        f = self.inner.features(x)
        return self.inner.head(f).squeeze(-1) + (self.embed(y) * f).sum(1)
