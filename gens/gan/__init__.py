"""GAN training systems (LightningModules); losses and regularizers are pure functions."""

from gens.gan.base import GAN
from gens.gan.wgan_gp import WGANGP

__all__ = ["GAN", "WGANGP"]
