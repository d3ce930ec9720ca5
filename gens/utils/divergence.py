"""The divergence error and its message: which step, which loss or gradient, the likely cause.

A NaN or Inf in a loss or a gradient is caught before the optimizer step it would poison
(``GensModule.check_finite`` for losses, ``gens.callbacks.DivergenceGuard`` for gradients), so
the weights in memory and in ``last.ckpt`` are still the last good ones.
"""

from __future__ import annotations

from gens.utils.errors import GensError

__all__ = ["DivergenceError", "divergence_message", "likely_cause"]


class DivergenceError(GensError, FloatingPointError):
    """A loss or gradient became NaN or Inf."""


def _lrs(module) -> list[float]:
    trainer = getattr(module, "_trainer", None)
    if trainer is None:
        return []
    return [float(g["lr"]) for opt in trainer.optimizers for g in opt.param_groups if "lr" in g]


def likely_cause(module) -> str:
    lrs = _lrs(module)
    top = max(lrs, default=0.0)
    if top >= 0.1:
        return (
            f"learning rate {top:g} is far too high for this model; lower model.optimizer_*.lr "
            "(GANs train at 1e-4..2e-4)"
        )
    trainer = getattr(module, "_trainer", None)
    precision = str(getattr(trainer, "precision", "")) if trainer is not None else ""
    if precision.startswith("16"):
        return "fp16 overflow; use trainer.precision=bf16-mixed or 32-true"
    return (
        "learning rate too high or an unstable loss; lower model.optimizer_*.lr, add a "
        "regularizer (e.g. a gradient penalty), or set divergence.policy=skip"
    )


def divergence_message(module, what: str) -> str:
    """One line: step, epoch, the offending quantity, the likely cause, what was kept."""
    return (
        f"training diverged at global step {module.global_step} (epoch {module.current_epoch}): "
        f"{what}; likely cause: {likely_cause(module)}. Stopped before the optimizer step; the "
        "last good checkpoint (checkpoints/last.ckpt) is kept"
    )
