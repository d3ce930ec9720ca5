"""GANs whose discriminator judges joint (x, z) pairs: ALI/BiGAN (Dumoulin et al. 2017, Donahue
et al. 2017) and VEEGAN (Srivastava et al. 2017).

Both learn a network from data back to the latent space beside the generator, and both tell
pairs (G(z), z) from pairs (x, F(x)). ``JointGAN`` builds the configured vector discriminator
for inputs ``cat(flatten(x), z)`` (``gens.nets.JointDiscriminator``), so any discriminator
config serves, and every regularizer of the loop sees both halves of a pair. ``joint_embed``
gives x and z pathways of their own before the joint layers (ALI's discriminator), with the
discriminator config's ``act`` and ``maxout``.
"""

from __future__ import annotations

from collections.abc import Sequence

from gens.gan.game import GAN
from gens.nets.joint import JointDiscriminator
from gens.utils.errors import ConfigError

__all__ = ["JointGAN"]


class JointGAN(GAN):
    """A GAN with a discriminator of (x, z) pairs; unconditional."""

    def __init__(
        self, generator, discriminator, *optimizers, joint_embed: Sequence[int] = (), **kwargs
    ):
        if kwargs.get("conditional"):
            raise ConfigError(
                f"{type(self).__name__} here is unconditional; set model.conditional=false"
            )
        # the pathways' layers are the discriminator's kind: its act and maxout
        net_kwargs = getattr(discriminator, "keywords", {})

        def joint(data_shape, num_classes=None):
            # built inside GAN.__init__, after it has resolved self.latent_dim
            return JointDiscriminator(
                discriminator,
                data_shape,
                self.latent_dim,
                embed=list(joint_embed or ()),
                act=net_kwargs.get("act", "leaky_relu"),
                maxout=net_kwargs.get("maxout", 0),
            )

        super().__init__(generator, joint, *optimizers, **kwargs)
