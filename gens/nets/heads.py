"""A discriminator body with an auxiliary head on its features: the networks of the GANs whose
discriminator also predicts something about its input.

- AC-GAN (Odena et al. 2017, Conditional Image Synthesis with Auxiliary Classifier GANs): one
  real/fake logit plus K class logits from the same features;
- InfoGAN (Chen et al. 2016): the Q head, the parameters of q(c | x) for the latent codes,
  sharing every layer of D but the last;
- the semi-supervised GAN (Salimans et al. 2016, Improved Techniques for Training GANs): K class
  logits and no separate real/fake output, whose real/fake logit is derived from them
  (``SemiSupervisedDiscriminator``).

The body is any discriminator exposing ``features(x)``, ``feature_dim`` and ``head``
(``MLPDiscriminator``, ``DCGANDiscriminator``); it is built unconditional. ``forward`` returns
the real/fake logit alone, so every loss and regularizer of the GAN loop applies unchanged;
``heads`` returns ``(logit, auxiliary outputs)`` from one pass through the body.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from gens.utils.errors import ConfigError

__all__ = ["AuxiliaryDiscriminator", "SemiSupervisedDiscriminator"]


class AuxiliaryDiscriminator(nn.Module):
    """Args:
    body: factory ``(data_shape=, num_classes=None) -> nn.Module`` of the shared body.
    data_shape: shape of one example.
    num_outputs: size of the auxiliary head's output.
    hidden: width of a hidden layer (with LeakyReLU 0.2) in the auxiliary head; 0 for a linear
        head (InfoGAN's Q adds one hidden layer of 128 units on MNIST).
    """

    def __init__(
        self,
        body: Callable[..., nn.Module],
        data_shape: Sequence[int],
        num_outputs: int,
        hidden: int = 0,
    ):
        super().__init__()
        if int(num_outputs) < 1:
            raise ConfigError(f"an auxiliary head needs >= 1 outputs, got {num_outputs}")
        self.body = body(data_shape=tuple(data_shape), num_classes=None)
        if not hasattr(self.body, "features") or not hasattr(self.body, "feature_dim"):
            raise ConfigError(
                f"{type(self.body).__name__} exposes no features(); use a discriminator with "
                "features and feature_dim (MLPDiscriminator, DCGANDiscriminator)"
            )
        self.num_outputs, dim = int(num_outputs), int(self.body.feature_dim)
        if int(hidden) > 0:
            self.aux = nn.Sequential(
                nn.Linear(dim, int(hidden)),
                nn.LeakyReLU(0.2),
                nn.Linear(int(hidden), self.num_outputs),
            )
        else:
            self.aux = nn.Linear(dim, self.num_outputs)

    @property
    def feature_dim(self) -> int:
        return self.body.feature_dim

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body.features(x)

    def source(self, f: torch.Tensor, aux: torch.Tensor) -> torch.Tensor:
        """The real/fake logit from the features (and the auxiliary outputs)."""
        return self.body.head(f).squeeze(-1)

    def heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.features(x)
        aux = self.aux(f)
        return self.source(f, aux), aux

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.heads(x)[0]


class SemiSupervisedDiscriminator(AuxiliaryDiscriminator):
    """K class logits ``l`` and the real/fake logit they imply.

    With the fake class's logit fixed at 0 (Salimans et al. 2016), p(real | x) = Z / (Z + 1),
    Z = sum_k exp(l_k), so the real/fake logit is ``logsumexp(l)``. With an explicit (K+1)-th
    fake logit (Odena 2016, ``explicit_fake=True``) it is ``logsumexp(l[:K]) - l[K]``.
    """

    def __init__(self, body, data_shape, num_classes: int, hidden: int = 0, explicit_fake=False):
        self.explicit_fake = bool(explicit_fake)
        super().__init__(body, data_shape, int(num_classes) + int(self.explicit_fake), hidden)
        self.body.head = nn.Identity()  # the logit comes from the class logits, not this head

    def source(self, f: torch.Tensor, aux: torch.Tensor) -> torch.Tensor:
        if self.explicit_fake:
            return torch.logsumexp(aux[:, :-1], 1) - aux[:, -1]
        return torch.logsumexp(aux, 1)
