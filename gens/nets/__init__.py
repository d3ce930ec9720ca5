"""Plain ``nn.Module`` networks (no Lightning). Generators take ``(z, y=None)`` and return data
of ``data_shape``; discriminators take ``(x, y=None)`` and return one logit per example;
coupling nets map ``in`` to ``out`` features/channels (the scale and shift of a coupling)."""

from gens.nets.began import BEGANDiscriminator, BEGANGenerator
from gens.nets.coupling_nets import CouplingMLP, CouplingResNet, GlowNet, ZeroConv2d
from gens.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from gens.nets.heads import AuxiliaryDiscriminator, SemiSupervisedDiscriminator
from gens.nets.joint import JointDiscriminator, MLPReconstructor
from gens.nets.lipschitz import (
    LipschitzConv2d,
    LipschitzLinear,
    LipSwish,
    lipschitz_convnet,
    lipschitz_mlp,
)
from gens.nets.made import MADE, MaskedLinear
from gens.nets.minibatch import MinibatchDiscrimination, MinibatchDiscriminator, MinibatchStdDev
from gens.nets.mlp import Maxout, MLPDiscriminator, MLPGenerator, mlp
from gens.nets.odenet import ConcatSquashConv2d, ConcatSquashLinear, ODENet
from gens.nets.pack import PackedDiscriminator
from gens.nets.projection import ConditionalDiscriminator
from gens.nets.select import by_data_kind

__all__ = [
    "AuxiliaryDiscriminator",
    "ConditionalDiscriminator",
    "SemiSupervisedDiscriminator",
    "BEGANDiscriminator",
    "BEGANGenerator",
    "by_data_kind",
    "ConcatSquashConv2d",
    "ConcatSquashLinear",
    "CouplingMLP",
    "CouplingResNet",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "GlowNet",
    "JointDiscriminator",
    "LipschitzConv2d",
    "LipschitzLinear",
    "LipSwish",
    "MADE",
    "MaskedLinear",
    "Maxout",
    "MinibatchDiscrimination",
    "MinibatchDiscriminator",
    "MinibatchStdDev",
    "MLPDiscriminator",
    "MLPGenerator",
    "MLPReconstructor",
    "ODENet",
    "PackedDiscriminator",
    "ZeroConv2d",
    "lipschitz_convnet",
    "lipschitz_mlp",
    "mlp",
]
