"""What the task returns to a Hydra sweeper (Optuna), including for trials that fail.

A sweep must outlive its bad trials: a learning rate that makes training diverge, a NaN metric
or a crash in one configuration reports the worst value for the sweeper's direction (``inf``
when minimizing, ``-inf`` when maximizing, or ``sweep_failure_value`` from the config) so the
sampler learns to avoid that region and the study goes on to its next trial.
"""

from __future__ import annotations

import math

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from gens.utils.errors import GensError
from gens.utils.logging import get_logger

log = get_logger(__name__)

__all__ = ["failure_value", "objective", "sweep_direction"]


def sweep_direction() -> str:
    """``"minimize"`` or ``"maximize"``: the Optuna sweeper's direction (minimize otherwise)."""
    try:
        sweeper = HydraConfig.get().sweeper
    except ValueError:  # no Hydra run (tests calling train() directly)
        return "minimize"
    direction = sweeper.get("direction", "minimize") if sweeper is not None else "minimize"
    return str(getattr(direction, "name", direction)).lower()


def failure_value(cfg: DictConfig) -> float:
    """The value a failed trial reports: ``sweep_failure_value`` or the worst one possible."""
    value = cfg.get("sweep_failure_value")
    if value is not None:
        return float(value)
    return -math.inf if sweep_direction() == "maximize" else math.inf


def objective(cfg: DictConfig, metrics: dict[str, float]) -> float | None:
    """``metrics[cfg.optimized_metric]`` (``None`` when no metric is optimized).

    A metric that training did not log is a configuration error; a NaN or infinite one is a
    failed trial and reports ``failure_value``.
    """
    name = cfg.get("optimized_metric")
    if not name:
        return None
    if name not in metrics:
        raise GensError(f"optimized_metric '{name}' was not logged; logged: {sorted(metrics)}")
    value = float(metrics[name])
    if not math.isfinite(value):
        bad = failure_value(cfg)
        log.warning(f"{name} = {value}: reporting {bad} to the sweeper")
        return bad
    return value
