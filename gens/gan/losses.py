"""GAN objectives as pure functions of discriminator outputs (logits or critic values).

Each ``d_*`` takes ``(real, fake)`` outputs and returns the discriminator loss to minimize;
each ``g_*`` takes the outputs on generated samples and returns the generator loss.

- ``minimax``: Goodfellow et al. 2014, V(D, G) = E log D(x) + E log(1 - D(G(z))).
- ``nonsaturating``: the same paper's practical generator loss, -E log D(G(z)).
- ``wasserstein``: Arjovsky et al. 2017, critic E[D(G(z))] - E[D(x)], generator -E[D(G(z))].
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


# Name -> function tables for the ``loss.d`` / ``loss.g`` config keys. Other loss modules add
# their entries here when they are imported by this module.
D_LOSSES = {"minimax": d_minimax, "nonsaturating": d_minimax, "wasserstein": d_wasserstein}
G_LOSSES = {
    "minimax": g_minimax,
    "nonsaturating": g_nonsaturating,
    "wasserstein": g_wasserstein,
}


def get_losses(d: str, g: str):
    """Look up a (discriminator, generator) loss pair by config name."""
    if d not in D_LOSSES:
        raise ConfigError(f"unknown model.loss.d '{d}'; choose one of {', '.join(D_LOSSES)}")
    if g not in G_LOSSES:
        raise ConfigError(f"unknown model.loss.g '{g}'; choose one of {', '.join(G_LOSSES)}")
    return D_LOSSES[d], G_LOSSES[g]
