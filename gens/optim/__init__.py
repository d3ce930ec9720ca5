"""Optimization helpers: learning-rate schedules whose length is the run's own, and skipping an
optimizer step on the device."""

from gens.optim.schedules import CosineDecay, LinearDecay, run_length
from gens.optim.step_skip import StepSkip, takes_found_inf

__all__ = ["CosineDecay", "LinearDecay", "StepSkip", "run_length", "takes_found_inf"]
