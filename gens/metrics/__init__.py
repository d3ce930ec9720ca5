"""Evaluation metrics: mode coverage for mixture data; image metrics and bits/dim elsewhere."""

from gens.metrics.modes import mode_metrics

__all__ = ["mode_metrics"]
