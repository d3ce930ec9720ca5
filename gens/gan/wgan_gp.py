"""WGAN-GP: Gulrajani et al. 2017, Improved Training of Wasserstein GANs.

Critic loss E[D(G(z))] - E[D(x)] + lambda * E[(||grad D(x_hat)||_2 - 1)^2] on random
interpolates x_hat; defaults lambda = 10, n_critic = 5, Adam(lr 1e-4, betas (0, 0.9)).
"""

from __future__ import annotations

import torch

from gens.gan.base import GAN
from gens.gan.regularizers import gradient_penalty
from gens.utils.errors import ConfigError

__all__ = ["WGANGP"]


class WGANGP(GAN):
    def __init__(self, *args, gp_weight: float = 10.0, gp_center: float = 1.0, **kwargs):
        kwargs.setdefault("loss", {"d": "wasserstein", "g": "wasserstein"})
        kwargs.setdefault("n_critic", 5)
        super().__init__(*args, **kwargs)
        if float(gp_weight) < 0:
            raise ConfigError(f"model.gp_weight must be >= 0, got {gp_weight}")
        self.gp_weight, self.gp_center = float(gp_weight), float(gp_center)

    def d_objective(self, real, y):
        with torch.no_grad():
            fake = self.generator(self.noise(len(real)), self._gen_labels(y))
        wdist_loss = self.d_loss_fn(self.discriminator(real, y), self.discriminator(fake, y))
        gp = gradient_penalty(
            self.discriminator, real, fake, y, center=self.gp_center, scaler=self.grad_scaler()
        )
        loss = wdist_loss + self.gp_weight * gp
        return loss, {"d_loss": loss, "wdist": -wdist_loss.detach(), "gp": gp.detach()}
