"""Evaluation metrics: mode coverage for mixture data; image metrics and bits/dim elsewhere."""

from gens.metrics.mmd import mmd2
from gens.metrics.modes import mode_metrics

__all__ = ["mmd2", "mode_metrics"]
