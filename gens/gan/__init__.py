"""GAN training systems (LightningModules); losses and regularizers are pure functions."""

from gens.gan.base import GAN
from gens.gan.began import BEGAN
from gens.gan.bigan import BiGAN
from gens.gan.lsgan import LSGAN
from gens.gan.unrolled import UnrolledGAN
from gens.gan.veegan import VEEGAN
from gens.gan.wgan import WGAN
from gens.gan.wgan_gp import WGANGP

__all__ = ["BEGAN", "BiGAN", "GAN", "LSGAN", "UnrolledGAN", "VEEGAN", "WGAN", "WGANGP"]
