"""Flow transforms: invertible layers that report log|det J| (``Transform``), one per file.

Every ``Transform`` maps data ``x`` to ``z`` (``forward``, the normalizing direction) and back
(``inverse``), each with the log absolute Jacobian determinant per example; the pre-processing
of discrete images (dequantization, the logit transform) lives here too.
"""

from gens.flows.transforms.actnorm import ActNorm
from gens.flows.transforms.amortized import ParamLayer, bisect
from gens.flows.transforms.autoregressive import IAFLayer, MAFLayer
from gens.flows.transforms.base import Compose, Inverse, Transform
from gens.flows.transforms.cnf import CNF
from gens.flows.transforms.conv1x1 import Invertible1x1Conv
from gens.flows.transforms.coupling import Coupling, channel_mask, checkerboard_mask
from gens.flows.transforms.cubic_spline import CubicSpline
from gens.flows.transforms.dequantization import VariationalDequantization
from gens.flows.transforms.elementwise import TransformerAutoregressive, TransformerCoupling
from gens.flows.transforms.multiscale import LearnedSplitPrior, MultiScale
from gens.flows.transforms.normalization import BatchNormFlow, DiagonalScaling
from gens.flows.transforms.permutation import Permutation, Reverse, Shuffle
from gens.flows.transforms.planar import Planar
from gens.flows.transforms.preprocess import LogitTransform, UniformDequantization, to_levels
from gens.flows.transforms.radial import Radial
from gens.flows.transforms.reshape import Flatten, Squeeze, Squeezed
from gens.flows.transforms.residual import ResidualBlock
from gens.flows.transforms.rq_spline import RQSpline
from gens.flows.transforms.sigmoidal import DeepSigmoid
from gens.flows.transforms.sos import SOSPolynomial
from gens.flows.transforms.sylvester import Sylvester
from gens.flows.transforms.transformer import Transformer
from gens.flows.transforms.umnn import UMNN

__all__ = [
    "ActNorm",
    "BatchNormFlow",
    "CNF",
    "Compose",
    "Coupling",
    "CubicSpline",
    "DeepSigmoid",
    "DiagonalScaling",
    "Flatten",
    "IAFLayer",
    "Inverse",
    "Invertible1x1Conv",
    "LearnedSplitPrior",
    "LogitTransform",
    "MAFLayer",
    "MultiScale",
    "ParamLayer",
    "Permutation",
    "Planar",
    "RQSpline",
    "ResidualBlock",
    "Radial",
    "Reverse",
    "SOSPolynomial",
    "Shuffle",
    "Squeeze",
    "Squeezed",
    "Sylvester",
    "Transform",
    "Transformer",
    "TransformerAutoregressive",
    "TransformerCoupling",
    "UMNN",
    "UniformDequantization",
    "VariationalDequantization",
    "bisect",
    "channel_mask",
    "checkerboard_mask",
    "to_levels",
]
