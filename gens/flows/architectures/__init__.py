"""Flow architectures: factories ``(data_shape=, ...) -> Transform`` that size a paper's stack
of transforms to the data (what ``model.transform`` configs point at)."""

from gens.flows.architectures.autoregressive import iaf, layer_orders, made, maf
from gens.flows.architectures.elementwise import elementwise_flow
from gens.flows.architectures.ffjord import ffjord
from gens.flows.architectures.glow import glow
from gens.flows.architectures.nice import nice
from gens.flows.architectures.realnvp import realnvp
from gens.flows.architectures.residual import iresnet, resflow, residual_flow
from gens.flows.architectures.vi import planar_flow, radial_flow, sylvester_flow

__all__ = [
    "elementwise_flow",
    "ffjord",
    "glow",
    "iaf",
    "iresnet",
    "layer_orders",
    "made",
    "maf",
    "nice",
    "planar_flow",
    "radial_flow",
    "realnvp",
    "resflow",
    "residual_flow",
    "sylvester_flow",
]
