"""Normalizing flows: the flow LightningModules, over transforms (``gens.flows.transforms``)
arranged by architectures (``gens.flows.architectures``).

Every public name of the two subpackages is re-exported here, so configs point at
``gens.flows.<Name>``.
"""

from gens.flows import architectures, transforms
from gens.flows.architectures import *  # noqa: F403
from gens.flows.base import FlowModule, standard_normal_log_prob
from gens.flows.energy import EnergyFlow
from gens.flows.model import FlowModel
from gens.flows.transforms import *  # noqa: F403
from gens.flows.vae import FlowVAE

__all__ = [
    "EnergyFlow",
    "FlowModel",
    "FlowModule",
    "FlowVAE",
    "standard_normal_log_prob",
    *transforms.__all__,
    *architectures.__all__,
]
