"""A Rich progress bar that does its per-batch work only every ``refresh_rate`` batches.

Lightning's ``RichProgressBar`` updates the task, collects the progress-bar metrics and
soft-refreshes the console on every training batch whatever ``refresh_rate`` says; for small
models that is a measurable share of a step (see ``docs/benchmarks/speed.md``). This subclass
forwards the batch-end hook every ``refresh_rate`` batches and on an epoch's last batch, so the
bar and its metrics show the same values at those points.
"""

from __future__ import annotations

from pytorch_lightning.callbacks import RichProgressBar as _RichProgressBar

__all__ = ["RichProgressBar"]


class RichProgressBar(_RichProgressBar):
    def __init__(self, refresh_rate: int = 10, leave: bool = False, **kwargs):
        super().__init__(refresh_rate=refresh_rate, leave=leave, **kwargs)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        done = batch_idx + 1
        if done % max(1, self.refresh_rate) == 0 or done >= self.total_train_batches:
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
