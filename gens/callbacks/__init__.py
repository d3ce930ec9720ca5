"""Lightning callbacks: sample plots, mode coverage, checkpoints."""

from gens.callbacks.checkpoint import ModelCheckpoint
from gens.callbacks.mode_coverage import ModeCoverage
from gens.callbacks.samples import SamplePlot

__all__ = ["ModelCheckpoint", "ModeCoverage", "SamplePlot"]
