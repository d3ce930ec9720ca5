"""Normalizing flows: invertible transforms with log|det J| and the flow LightningModules."""

from gens.flows.transform import Compose, Inverse, Transform

__all__ = ["Compose", "Inverse", "Transform"]
