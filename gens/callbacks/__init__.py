"""Lightning callbacks: sample plots, sample-based metrics, checkpoints."""

from gens.callbacks.checkpoint import ModelCheckpoint
from gens.callbacks.density import DensityPlot
from gens.callbacks.energy_plot import EnergyPlot
from gens.callbacks.samples import SamplePlot
from gens.callbacks.vector_metrics import VectorMetrics

__all__ = ["DensityPlot", "EnergyPlot", "ModelCheckpoint", "SamplePlot", "VectorMetrics"]
