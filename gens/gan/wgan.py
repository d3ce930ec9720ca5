"""WGAN: Arjovsky, Chintala & Bottou 2017, Wasserstein Generative Adversarial Networks.

Critic loss E[D(G(z))] - E[D(x)] (minimized, i.e. the critic maximizes E[D(x)] - E[D(G(z))]),
generator loss -E[D(G(z))]. The critic is kept K-Lipschitz by clipping every weight to
[-c, c] after each critic update (Algorithm 1: c = 0.01, n_critic = 5, RMSProp lr 5e-5).

``clip_value=None`` drops the clipping for a critic kept Lipschitz by a regularizer instead
(WGAN-GP: ``model=wgan_gp``, the gradient penalty of ``gens.gan.regularizers``).

``critic_boost`` reproduces the authors' reference schedule: ``iters`` (100) critic steps per
generator step for the first ``first`` (25) generator steps and every ``every``-th (500) one,
so the critic stays near optimal early on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from gens.gan.game import GAN
from gens.utils.errors import ConfigError

__all__ = ["WGAN", "clip_weights"]


@torch.no_grad()
def clip_weights(module: torch.nn.Module, c: float) -> None:
    """Clamp every parameter of ``module`` to ``[-c, c]`` in place."""
    for p in module.parameters():
        p.clamp_(-c, c)


class WGAN(GAN):
    """A Wasserstein GAN whose critic is clipped to ``[-clip_value, clip_value]`` after every
    update (no clipping when ``clip_value`` is None)."""

    def __init__(
        self,
        *args,
        clip_value: float | None = 0.01,
        critic_boost: Mapping[str, int] | None = None,
        **kwargs,
    ):
        kwargs.setdefault("loss", {"d": "wasserstein", "g": "wasserstein"})
        kwargs.setdefault("n_critic", 5)
        super().__init__(*args, **kwargs)
        if clip_value is not None and not float(clip_value) > 0:
            raise ConfigError(f"model.clip_value must be > 0 or null, got {clip_value}")
        self.clip_value = None if clip_value is None else float(clip_value)
        self.boost = None
        if critic_boost:
            boost = {
                k: int(critic_boost.get(k, d))
                for k, d in (("iters", 100), ("first", 25), ("every", 500))
            }
            if min(boost.values()) < 1:
                raise ConfigError(f"model.critic_boost values must be >= 1, got {boost}")
            self.boost = boost
        self.critic_since_g = 0

    def critic_iters(self) -> int:
        """Critic steps before the next generator step."""
        b = self.boost
        if b and (self.g_steps < b["first"] or self.g_steps % b["every"] == 0):
            return b["iters"]
        return self.n_critic

    def generator_step_due(self) -> bool:
        self.critic_since_g += 1
        if self.critic_since_g >= self.critic_iters():
            self.critic_since_g = 0
            return True
        return False

    def extra_state(self) -> dict[str, Any]:
        return {**super().extra_state(), "critic_since_g": self.critic_since_g}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        super().load_extra_state(state)
        self.critic_since_g = int(state.get("critic_since_g", 0))

    def on_fit_start(self) -> None:
        # Algorithm 1 keeps the critic's weights in the compact box from the start.
        if self.clip_value is not None:
            clip_weights(self.discriminator, self.clip_value)

    def after_d_step(self) -> None:
        if self.clip_value is not None:
            clip_weights(self.discriminator, self.clip_value)
