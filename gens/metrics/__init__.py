"""Evaluation metrics: mode coverage and MMD for vector data; FID / IS / KID for images.

Image metrics live in submodules that import torchmetrics / torch-fidelity on use:
``gens.metrics.fidelity`` (FidelityMetrics), ``gens.metrics.features`` (extractor interface,
digits classifier), ``gens.metrics.inception``, ``gens.metrics.extractors`` (choice by config),
``gens.metrics.real_stats`` (cached real features).
"""

from gens.metrics.mmd import mmd2
from gens.metrics.modes import mode_metrics

__all__ = ["mmd2", "mode_metrics"]
