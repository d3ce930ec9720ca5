"""WGAN: Arjovsky, Chintala & Bottou 2017, Wasserstein Generative Adversarial Networks.

Critic loss E[D(G(z))] - E[D(x)] (minimized, i.e. the critic maximizes E[D(x)] - E[D(G(z))]),
generator loss -E[D(G(z))]. The critic is kept K-Lipschitz by clipping every weight to
[-c, c] after each critic update (Algorithm 1: c = 0.01, n_critic = 5, RMSProp lr 5e-5).
"""

from __future__ import annotations

import torch

from gens.gan.base import GAN
from gens.utils.errors import ConfigError

__all__ = ["WGAN", "clip_weights"]


@torch.no_grad()
def clip_weights(module: torch.nn.Module, c: float) -> None:
    """Clamp every parameter of ``module`` to ``[-c, c]`` in place."""
    for p in module.parameters():
        p.clamp_(-c, c)


class WGAN(GAN):
    """A GAN whose critic is clipped to ``[-clip_value, clip_value]`` after every update."""

    def __init__(self, *args, clip_value: float = 0.01, **kwargs):
        kwargs.setdefault("loss", {"d": "wasserstein", "g": "wasserstein"})
        kwargs.setdefault("n_critic", 5)
        super().__init__(*args, **kwargs)
        if not float(clip_value) > 0:
            raise ConfigError(f"model.clip_value must be > 0, got {clip_value}")
        self.clip_value = float(clip_value)

    def on_fit_start(self) -> None:
        # Algorithm 1 keeps the critic's weights in the compact box from the start.
        clip_weights(self.discriminator, self.clip_value)

    def after_d_step(self) -> None:
        clip_weights(self.discriminator, self.clip_value)

    def d_objective(self, real, y):
        loss, logs = super().d_objective(real, y)
        logs["wdist"] = -loss.detach()
        return loss, logs
