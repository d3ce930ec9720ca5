"""GAN training systems (LightningModules); losses, penalties and regularizers apart."""

from gens.gan.acgan import ACGAN
from gens.gan.began import BEGAN
from gens.gan.bigan import BiGAN
from gens.gan.game import GAN
from gens.gan.infogan import InfoGAN
from gens.gan.lsgan import LSGAN
from gens.gan.ssgan import SSGAN
from gens.gan.unrolled import UnrolledGAN
from gens.gan.veegan import VEEGAN
from gens.gan.wgan import WGAN

__all__ = [
    "ACGAN",
    "BEGAN",
    "BiGAN",
    "GAN",
    "InfoGAN",
    "LSGAN",
    "SSGAN",
    "UnrolledGAN",
    "VEEGAN",
    "WGAN",
]
