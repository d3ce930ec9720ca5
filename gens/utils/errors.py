"""Errors users can act on. The task turns them into a one-line message and a non-zero exit."""

__all__ = [
    "GensError",
    "ConfigError",
    "DataError",
    "CheckpointError",
    "IncompatibleDataError",
    "SolverError",
]


class GensError(Exception):
    """Base class: the message names the problem and the fix."""


class ConfigError(GensError, ValueError):
    """A config value of the wrong type or range."""


class DataError(GensError, FileNotFoundError):
    """A data set that is missing, incomplete or does not fit the model."""


class CheckpointError(GensError, ValueError):
    """A checkpoint that is corrupt, foreign, unsafe or of another model type."""


class IncompatibleDataError(DataError):
    """The model cannot work on this kind of data (e.g. an image GAN on 2-D points)."""


class SolverError(GensError, RuntimeError):
    """A numerical solver that could not finish within its budget (e.g. an ODE's step count)."""
