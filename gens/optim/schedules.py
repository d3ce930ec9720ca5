"""Learning-rate schedules that follow the run's length.

A schedule built by a model gets ``total_steps``: how many times it will be stepped in this run,
derived from the trainer (``trainer.max_epochs`` or ``trainer.max_steps``, whichever ends the run
first), so no config repeats the budget and changing it can never make a schedule restart. A
resumed run derives it again from its own budget (the count is not stored in checkpoints).

- ``CosineDecay``: Loshchilov & Hutter 2017 (SGDR) without restarts, from the base learning rate
  to ``final_ratio`` times it over the run, then held.
- ``LinearDecay``: a straight line from the base learning rate to ``final_ratio`` times it (the
  CIFAR-10 schedule of WGAN-GP, Gulrajani et al. 2017), then held.
"""

from __future__ import annotations

import math

import torch
from torch.optim.lr_scheduler import LRScheduler

from gens.utils.errors import ConfigError

__all__ = ["CosineDecay", "LinearDecay", "run_length"]


class _RunSchedule(LRScheduler):
    """A closed-form schedule ``lr_0 * (r + (1 - r) * shape(min(t, T) / T))`` whose length
    ``T = total_steps`` is not stored in checkpoints."""

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        total_steps: int,
        final_ratio: float = 0.0,
        last_epoch: int = -1,
    ):
        if int(total_steps) < 1:
            raise ConfigError(f"a cosine schedule needs total_steps >= 1, got {total_steps}")
        if not 0.0 <= float(final_ratio) <= 1.0:
            raise ConfigError(f"final_ratio must be in [0, 1], got {final_ratio}")
        self.total_steps, self.final_ratio = int(total_steps), float(final_ratio)
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def shape(t: float) -> float:
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        t = min(max(self.last_epoch, 0), self.total_steps) / self.total_steps
        f = self.final_ratio + (1 - self.final_ratio) * self.shape(t)
        return [base * f for base in self.base_lrs]

    def state_dict(self) -> dict:
        state = super().state_dict()
        state.pop("total_steps", None)  # derived from the (possibly resumed) run, not stored
        return state


class CosineDecay(_RunSchedule):
    """``lr_t = lr_0 * (r + (1 - r) * (1 + cos(pi * min(t, T) / T)) / 2)``, ``T = total_steps``."""

    @staticmethod
    def shape(t: float) -> float:
        return 0.5 * (1 + math.cos(math.pi * t))


class LinearDecay(_RunSchedule):
    """``lr_t = lr_0 * (r + (1 - r) * (1 - min(t, T) / T))``, ``T = total_steps``."""

    @staticmethod
    def shape(t: float) -> float:
        return 1.0 - t


def run_length(trainer, optimizer_steps_per_batch: float = 1.0) -> tuple[int, int]:
    """``(epochs, batches)`` this run trains for: ``max_epochs`` of the training loader, or fewer
    when ``max_steps`` (counted in optimizer steps, ``optimizer_steps_per_batch`` per batch)
    ends it first."""
    trainer.estimated_stepping_batches  # noqa: B018  (loads the training data to count batches)
    per_epoch = trainer.num_training_batches
    epochs = trainer.max_epochs if trainer.max_epochs not in (None, -1) else None
    if not math.isfinite(per_epoch):
        per_epoch = None
    batches = epochs * per_epoch if epochs and per_epoch else None
    if trainer.max_steps not in (None, -1):
        by_steps = math.ceil(trainer.max_steps / optimizer_steps_per_batch)
        batches = by_steps if batches is None else min(batches, by_steps)
    if batches is None:
        raise ConfigError(
            "a learning-rate schedule over the run needs a finite run: set trainer.max_epochs "
            "or trainer.max_steps"
        )
    if per_epoch:
        epochs = (
            math.ceil(batches / per_epoch)
            if epochs is None
            else min(epochs, math.ceil(batches / per_epoch))
        )
    return int(epochs or 1), int(batches)
