"""Optimization helpers: learning-rate schedules whose length is the run's own."""

from gens.optim.schedules import CosineDecay, LinearDecay, run_length

__all__ = ["CosineDecay", "LinearDecay", "run_length"]
