"""ALI / BiGAN: Dumoulin et al. 2017, Adversarially Learned Inference (ALI), and Donahue et al.
2017, Adversarial Feature Learning (BiGAN).

An encoder E: x -> z is trained jointly with the generator G: z -> x. The discriminator D(x, z)
judges joint pairs: it tells encoder pairs (x, E(x)), x ~ data, from generator pairs
(G(z), z), z ~ N(0, I). The game is

    min_{G, E} max_D  E_x log D(x, E(x)) + E_z log(1 - D(G(z), z)),

whose optimum matches the two joint distributions, so E inverts G. D minimizes the
cross-entropy above (``loss.d``); G and E minimize the same game on swapped labels, the
non-saturating form ``-E_z log D(G(z), z) - E_x log(1 - D(x, E(x)))`` by default (the form both
papers train with), or any ``loss.g`` of ``gens.gan.losses`` mirrored onto the encoder pair.

Unlike VEEGAN (``gens.gan.veegan``) there is no reconstruction term: E gets its gradient only
through D. The two papers differ in the encoder:

- BiGAN (Donahue et al.): deterministic, z = E(x) (``stochastic_encoder=false``);
- ALI (Dumoulin et al.): stochastic, z ~ q(z|x) = N(mu(x), diag sigma(x)^2), sampled with the
  reparameterization z = mu + sigma * eps, eps ~ N(0, I) (``stochastic_encoder=true``); here
  sigma = softplus(s(x)) + 1e-4, mu and s the two halves of the encoder net's output.

``configs/model/bigan.yaml`` defaults to ALI's stochastic encoder: the published 2-D mode
numbers (the VEEGAN paper's and PacGAN's Table 1 "ALI" rows) are for ALI.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from gens.gan import losses as L  # noqa: N812
from gens.gan.joint import JointGAN
from gens.gan.regularizers import Judged
from gens.utils.errors import ConfigError

__all__ = ["BiGAN", "encoder_loss_for"]

# The generator loss on the encoder pair (x, E(x)) with the labels swapped: E wants D to call
# its pairs fake. Negating a logit swaps the labels of the sigmoid and linear losses; the
# least-squares one pulls the encoder pair to the fake target a = 0 instead of c = 1.
_ENCODER_LOSSES: dict[Callable, Callable[[torch.Tensor], torch.Tensor]] = {
    L.g_minimax: lambda real: L.g_minimax(-real),
    L.g_nonsaturating: lambda real: L.g_nonsaturating(-real),
    L.g_wasserstein: lambda real: L.g_wasserstein(-real),
    L.g_hinge: lambda real: L.g_hinge(-real),
    L.g_least_squares: lambda real: L.g_least_squares(real, c=0.0),
}


def encoder_loss_for(g_loss_fn: Callable) -> Callable[[torch.Tensor], torch.Tensor]:
    """The encoder-pair counterpart of a generator loss (``g_nonsaturating`` -> -E log(1 - D))."""
    if g_loss_fn not in _ENCODER_LOSSES:
        names = ", ".join(k for k, v in L.G_LOSSES.items() if v in _ENCODER_LOSSES)
        raise ConfigError(f"model=bigan cannot swap labels for this model.loss.g; use {names}")
    return _ENCODER_LOSSES[g_loss_fn]


class BiGAN(JointGAN):
    """Args (beyond ``GAN``'s):
    encoder: factory ``(data_shape=, latent_dim=) -> nn.Module`` mapping x to ``latent_dim``
        outputs (e.g. ``gens.nets.MLPReconstructor``); built with twice ``latent_dim`` outputs
        (mean and pre-softplus scale) when the encoder is stochastic.
    stochastic_encoder: ALI's Gaussian q(z|x) (true) or BiGAN's deterministic E(x) (false).

    ``discriminator`` is any vector discriminator factory; ``JointDiscriminator`` builds it for
    inputs ``cat(flatten(x), z)``. Images are flattened, as in VEEGAN. G and E share G's
    optimizer (``generator_parameters``); input-gradient regularizers (R1) penalize D's gradient
    with respect to the whole pair (x, E(x)).
    """

    def __init__(
        self,
        *args,
        encoder: Callable[..., nn.Module],
        stochastic_encoder: bool = True,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.encoder_loss_fn = encoder_loss_for(self.g_loss_fn)
        self.stochastic_encoder = bool(stochastic_encoder)
        out = self.latent_dim * (2 if self.stochastic_encoder else 1)
        self.encoder = encoder(data_shape=self.data_shape, latent_dim=out)

    # --- inference -----------------------------------------------------------------------
    def infer(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``(z, mu, sigma)`` with gradients: z = mu + sigma * eps for ALI's stochastic encoder
        (``sigma`` is None and ``z = mu = E(x)`` for BiGAN's deterministic one)."""
        h = self.encoder(x)
        if not self.stochastic_encoder:
            return h, h, None
        mu, s = h.chunk(2, dim=1)
        sigma = F.softplus(s) + 1e-4
        eps = torch.randn(mu.shape, device=mu.device, dtype=mu.dtype, generator=generator)
        return mu + sigma * eps, mu, sigma

    @torch.no_grad()
    def encode(
        self, x: torch.Tensor, sample: bool = False, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """The inference network: latent codes of data ``x`` (eval mode, no gradients). For a
        stochastic encoder, the mean of q(z|x), or a draw from it with ``sample=True``."""
        was_training = self.encoder.training
        self.encoder.eval()
        z, mu, _ = self.infer(x.to(self.device), generator)
        self.encoder.train(was_training)
        return z if sample else mu

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """G(E(x)) with the mean code, through the sampling generator (EMA when kept)."""
        return self.sample(len(x), z=self.encode(x))

    # --- objectives ----------------------------------------------------------------------
    def d_objective(self, real, y):
        z = self.noise(len(real))
        with torch.no_grad():
            fake = self.generator(z)
            z_real = self.infer(real)[0]
        # encoder pairs are D's positive class, generator pairs its negative one
        d_real, d_fake = self.discriminator(real, z_real), self.discriminator(fake, z)
        loss = self.d_loss_fn(d_real, d_fake)
        return loss, {"d_loss": loss}, Judged((real, z_real), (fake, z), d_real, d_fake)

    def g_objective(self, real, y):
        z = self.noise(len(real))
        g_adv = self.g_loss_fn(self.discriminator(self.generator(z), z))
        e_adv = self.encoder_loss_fn(self.discriminator(real, self.infer(real)[0]))
        loss = g_adv + e_adv
        return loss, {"g_loss": loss, "g_adv": g_adv.detach(), "e_adv": e_adv.detach()}

    @torch.no_grad()
    def eval_losses(self, real, y, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """D's objective on held-out encoder pairs against fresh generator pairs, and how well
        G inverts the encoder: ``recon_x`` = E ||x - G(mu(x))||^2 (a diagnostic, not trained)."""
        z = self.noise(len(real), generator)
        z_real, mu, _ = self.infer(real, generator)
        d_loss = self.d_loss_fn(
            self.discriminator(real, z_real), self.discriminator(self.generator(z), z)
        )
        recon = (real - self.generator(mu)).reshape(len(real), -1).pow(2).sum(1).mean()
        return {"d_loss": d_loss, "recon_x": recon}

    def generator_parameters(self):
        return chain(self.generator.parameters(), self.encoder.parameters())
