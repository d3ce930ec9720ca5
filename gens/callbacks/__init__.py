"""Lightning callbacks: sample plots, sample-based metrics, checkpoints, progress bar."""

from gens.callbacks.checkpoint import ModelCheckpoint
from gens.callbacks.progress import RichProgressBar
from gens.callbacks.samples import SamplePlot
from gens.callbacks.vector_metrics import VectorMetrics

__all__ = ["ModelCheckpoint", "RichProgressBar", "SamplePlot", "VectorMetrics"]
