"""VEEGAN: Srivastava et al. 2017, VEEGAN: Reducing Mode Collapse in GANs using Implicit
Variational Learning.

A reconstructor network F maps data back to the noise space, trained jointly with G so that
F inverts G; the discriminator D(z, x) tells generated pairs (z, G(z)), z ~ N(0, I), from
reconstructed pairs (F(x), x), x ~ data. Algorithm 1 of the paper:

- D maximizes  E_z log sigmoid(D(z, G(z))) + E_x log(1 - sigmoid(D(F(x), x)));
- G and F minimize  O = E_z D(z, G(z)) + lambda * E_z ||z - F(G(z))||_2^2,
  the logit of D estimating the KL term of the variational bound and the reconstruction term
  in z-space (F only receives the reconstruction gradient, as in the paper).

Mode collapse makes G many-to-one, so F cannot map its samples back to the noise that made
them: the z-space reconstruction penalizes it. F has no optimizer of its own: it is trained
with G's objective by G's optimizer (``generator_parameters`` yields both).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain

import torch
from torch import nn

from gens.gan.joint import JointGAN
from gens.gan.regularizers import Judged
from gens.utils.errors import ConfigError

__all__ = ["VEEGAN"]


class VEEGAN(JointGAN):
    """Args (beyond ``GAN``'s):
    reconstructor: factory ``(data_shape=, latent_dim=) -> nn.Module`` mapping x to z.
    recon_weight: lambda, the weight of the z-space reconstruction term.

    ``discriminator`` is any vector discriminator factory; it is built for joint inputs
    ``cat(flatten(x), z)`` by ``JointDiscriminator``.
    """

    def __init__(
        self,
        *args,
        reconstructor: Callable[..., nn.Module],
        recon_weight: float = 1.0,
        **kwargs,
    ):
        if float(recon_weight) < 0:
            raise ConfigError(f"model.recon_weight must be >= 0, got {recon_weight}")
        super().__init__(*args, **kwargs)
        self.recon_weight = float(recon_weight)
        self.reconstructor = reconstructor(data_shape=self.data_shape, latent_dim=self.latent_dim)

    def d_objective(self, real, y):
        z = self.noise(len(real))
        with torch.no_grad():
            fake = self.generator(z)
            z_real = self.reconstructor(real)
        # The generated pair is D's positive class (Algorithm 1 of the paper).
        d_fake, d_real = self.discriminator(fake, z), self.discriminator(real, z_real)
        loss = self.d_loss_fn(d_fake, d_real)
        return loss, {"d_loss": loss}, Judged((real, z_real), (fake, z), d_real, d_fake)

    def g_objective(self, real, y):
        z = self.noise(len(real))
        fake = self.generator(z)
        adv = self.discriminator(fake, z).mean()
        recon = (z - self.reconstructor(fake)).pow(2).sum(1).mean()
        loss = adv + self.recon_weight * recon
        return loss, {"g_loss": loss, "g_adv": adv.detach(), "recon_z": recon.detach()}

    @torch.no_grad()
    def eval_losses(self, real, y, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """D's objective on held-out pairs (F(x), x) against fresh (z, G(z))."""
        z = self.noise(len(real), generator)
        pos = self.discriminator(self.generator(z), z)
        neg = self.discriminator(real, self.reconstructor(real))
        recon = (z - self.reconstructor(self.generator(z))).pow(2).sum(1).mean()
        return {"d_loss": self.d_loss_fn(pos, neg), "recon_z": recon}

    def generator_parameters(self):
        return chain(self.generator.parameters(), self.reconstructor.parameters())
