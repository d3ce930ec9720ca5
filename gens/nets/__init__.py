"""Plain ``nn.Module`` networks (no Lightning). Generators take ``(z, y=None)`` and return data
of ``data_shape``; discriminators take ``(x, y=None)`` and return one logit per example."""

from gens.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from gens.nets.mlp import Maxout, MLPDiscriminator, MLPGenerator, mlp

__all__ = [
    "DCGANDiscriminator",
    "DCGANGenerator",
    "Maxout",
    "MLPDiscriminator",
    "MLPGenerator",
    "mlp",
]
