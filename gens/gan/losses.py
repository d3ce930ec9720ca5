"""GAN objectives as pure functions of discriminator outputs (logits or critic values).

Each ``d_*`` takes ``(real, fake)`` outputs and returns the discriminator loss to minimize;
each ``g_*`` takes the outputs on generated samples and returns the generator loss.

- ``minimax``: Goodfellow et al. 2014, V(D, G) = E log D(x) + E log(1 - D(G(z))).
- ``nonsaturating``: the same paper's practical generator loss, -E log D(G(z)).
- ``wasserstein``: Arjovsky et al. 2017, critic E[D(G(z))] - E[D(x)], generator -E[D(G(z))].
- ``least_squares``: Mao et al. 2017 (LSGAN), D: 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2],
  G: 1/2 E[(D(G(z)) - c)^2]; the table entry uses a=0, b=1, c=1, ``gens.gan.LSGAN`` any a, b, c.
- ``hinge``: the hinge loss of Lim & Ye 2017 / Miyato et al. 2018 (SNGAN) used by BigGAN,
  D: E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))], G: -E[D(G(z))].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812

from gens.utils.errors import ConfigError

__all__ = [
    "d_minimax",
    "g_minimax",
    "g_nonsaturating",
    "d_wasserstein",
    "g_wasserstein",
    "d_least_squares",
    "g_least_squares",
    "d_hinge",
    "g_hinge",
    "D_LOSSES",
    "G_LOSSES",
    "get_losses",
]


def d_minimax(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """-E log sigmoid(real) - E log(1 - sigmoid(fake)), in the stable softplus form."""
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def g_minimax(fake: torch.Tensor) -> torch.Tensor:
    """E log(1 - sigmoid(fake)): the saturating generator loss of the minimax game."""
    return -F.softplus(fake).mean()


def g_nonsaturating(fake: torch.Tensor) -> torch.Tensor:
    """-E log sigmoid(fake)."""
    return F.softplus(-fake).mean()


def d_wasserstein(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return fake.mean() - real.mean()


def g_wasserstein(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


def d_least_squares(
    real: torch.Tensor, fake: torch.Tensor, a: float = 0.0, b: float = 1.0
) -> torch.Tensor:
    """LSGAN discriminator: real outputs pulled to ``b``, fake ones to ``a``."""
    return 0.5 * ((real - b) ** 2).mean() + 0.5 * ((fake - a) ** 2).mean()


def g_least_squares(fake: torch.Tensor, c: float = 1.0) -> torch.Tensor:
    """LSGAN generator: fake outputs pulled to ``c``, the value G wants D to believe."""
    return 0.5 * ((fake - c) ** 2).mean()


def d_hinge(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def g_hinge(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


# Name -> function tables for the ``loss.d`` / ``loss.g`` config keys. Other loss modules add
# their entries here when they are imported by this module.
D_LOSSES = {
    "minimax": d_minimax,
    "nonsaturating": d_minimax,
    "wasserstein": d_wasserstein,
    "least_squares": d_least_squares,
    "hinge": d_hinge,
}
G_LOSSES = {
    "minimax": g_minimax,
    "nonsaturating": g_nonsaturating,
    "wasserstein": g_wasserstein,
    "least_squares": g_least_squares,
    "hinge": g_hinge,
}


def get_losses(d: str, g: str):
    """Look up a (discriminator, generator) loss pair by config name."""
    if d not in D_LOSSES:
        raise ConfigError(f"unknown model.loss.d '{d}'; choose one of {', '.join(D_LOSSES)}")
    if g not in G_LOSSES:
        raise ConfigError(f"unknown model.loss.g '{g}'; choose one of {', '.join(G_LOSSES)}")
    return D_LOSSES[d], G_LOSSES[g]
