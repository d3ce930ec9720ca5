"""Lightning callbacks: sample plots, sample-based metrics, checkpoints."""

from gens.callbacks.checkpoint import ModelCheckpoint
from gens.callbacks.image_metrics import ImageMetrics
from gens.callbacks.samples import SamplePlot
from gens.callbacks.stacked_modes import StackedModes
from gens.callbacks.vector_metrics import VectorMetrics

__all__ = ["ImageMetrics", "ModelCheckpoint", "SamplePlot", "StackedModes", "VectorMetrics"]
