"""Normalizing flows: invertible transforms with log|det J| and the flow LightningModules."""

from gens.flows.actnorm import ActNorm
from gens.flows.autoregressive import IAFLayer, MAFLayer, iaf, made, maf
from gens.flows.conv1x1 import Invertible1x1Conv
from gens.flows.coupling import Coupling, channel_mask, checkerboard_mask
from gens.flows.dequantization import VariationalDequantization
from gens.flows.energy import EnergyFlow
from gens.flows.glow import glow
from gens.flows.model import FlowModel, standard_normal_log_prob
from gens.flows.multiscale import LearnedSplitPrior, MultiScale
from gens.flows.nice import nice
from gens.flows.normalization import BatchNormFlow, DiagonalScaling
from gens.flows.permutation import Permutation, Reverse, Shuffle
from gens.flows.planar import Planar
from gens.flows.preprocess import LogitTransform, UniformDequantization
from gens.flows.radial import Radial
from gens.flows.realnvp import realnvp
from gens.flows.reshape import Flatten, Squeeze, Squeezed
from gens.flows.sylvester import Sylvester
from gens.flows.transform import Compose, Inverse, Transform
from gens.flows.vae import FlowVAE
from gens.flows.vi_flows import planar_flow, radial_flow, sylvester_flow

__all__ = [
    "ActNorm",
    "BatchNormFlow",
    "Compose",
    "Coupling",
    "DiagonalScaling",
    "EnergyFlow",
    "Flatten",
    "FlowModel",
    "FlowVAE",
    "IAFLayer",
    "Inverse",
    "Invertible1x1Conv",
    "LearnedSplitPrior",
    "LogitTransform",
    "MAFLayer",
    "MultiScale",
    "Permutation",
    "Planar",
    "Radial",
    "Reverse",
    "Shuffle",
    "Squeeze",
    "Squeezed",
    "Sylvester",
    "Transform",
    "UniformDequantization",
    "VariationalDequantization",
    "channel_mask",
    "checkerboard_mask",
    "glow",
    "iaf",
    "made",
    "maf",
    "nice",
    "planar_flow",
    "radial_flow",
    "realnvp",
    "standard_normal_log_prob",
    "sylvester_flow",
]
