"""Lightning callbacks: sample plots, sample-based metrics, checkpoints, progress bar."""

from gens.callbacks.checkpoint import ModelCheckpoint
from gens.callbacks.cond_accuracy import ConditionalAccuracy
from gens.callbacks.density import DensityPlot
from gens.callbacks.energy_plot import EnergyPlot
from gens.callbacks.fourier_annealing import FourierAnnealing
from gens.callbacks.image_metrics import ImageMetrics
from gens.callbacks.linear_probe import LinearProbe
from gens.callbacks.network_options import NetworkOptions
from gens.callbacks.progress import RichProgressBar
from gens.callbacks.samples import SamplePlot
from gens.callbacks.stacked_modes import StackedModes
from gens.callbacks.traversal import LatentTraversal
from gens.callbacks.vector_metrics import VectorMetrics

__all__ = [
    "ConditionalAccuracy",
    "LatentTraversal",
    "LinearProbe",
    "DensityPlot",
    "EnergyPlot",
    "FourierAnnealing",
    "ImageMetrics",
    "ModelCheckpoint",
    "NetworkOptions",
    "RichProgressBar",
    "SamplePlot",
    "StackedModes",
    "VectorMetrics",
]
