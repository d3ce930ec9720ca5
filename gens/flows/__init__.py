"""Normalizing flows: invertible transforms with log|det J| and the flow LightningModules."""

from gens.flows.actnorm import ActNorm
from gens.flows.conv1x1 import Invertible1x1Conv
from gens.flows.coupling import Coupling, channel_mask, checkerboard_mask
from gens.flows.dequantization import VariationalDequantization
from gens.flows.glow import glow
from gens.flows.model import FlowModel, standard_normal_log_prob
from gens.flows.multiscale import LearnedSplitPrior, MultiScale
from gens.flows.nice import nice
from gens.flows.normalization import BatchNormFlow, DiagonalScaling
from gens.flows.permutation import Permutation, Reverse, Shuffle
from gens.flows.preprocess import LogitTransform, UniformDequantization
from gens.flows.realnvp import realnvp
from gens.flows.reshape import Flatten, Squeeze, Squeezed
from gens.flows.transform import Compose, Inverse, Transform

__all__ = [
    "ActNorm",
    "BatchNormFlow",
    "Compose",
    "Coupling",
    "DiagonalScaling",
    "Flatten",
    "FlowModel",
    "Inverse",
    "Invertible1x1Conv",
    "LearnedSplitPrior",
    "LogitTransform",
    "MultiScale",
    "Permutation",
    "Reverse",
    "Shuffle",
    "Squeeze",
    "Squeezed",
    "Transform",
    "UniformDequantization",
    "VariationalDequantization",
    "channel_mask",
    "checkerboard_mask",
    "glow",
    "nice",
    "realnvp",
    "standard_normal_log_prob",
]
