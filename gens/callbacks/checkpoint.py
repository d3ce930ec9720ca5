"""Model checkpointing: ``last.ckpt`` always, ``best.ckpt`` on a monitored metric.

``monitor: auto`` asks the model (``default_monitor``) which metric suits it and the data, e.g.
``val/rkl`` for a GAN on mixture data; with no suitable metric only ``last.ckpt`` is kept.
``last.ckpt`` is written at every save point (Lightning >= 2.5 writes it only when a top-k
checkpoint was written at the same step, so a run whose monitored metric stopped improving
would resume from a stale state).
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(pl.callbacks.ModelCheckpoint):
    def __init__(self, *args, monitor: str | None = "auto", **kwargs):
        self._auto = monitor == "auto"
        super().__init__(*args, monitor=None if self._auto else monitor, **kwargs)

    def setup(self, trainer, pl_module, stage: str) -> None:
        if self._auto:
            choice = pl_module.default_monitor()
            if choice is None:
                self.monitor, self.save_top_k = None, 0
            else:
                self.monitor, self.mode = choice
                inf = torch.tensor(float("inf"))
                self.kth_value = inf if self.mode == "min" else -inf
        super().setup(trainer, pl_module, stage)

    def _save_last_if_missed(self, trainer) -> None:
        if self.save_last and self._last_global_step_saved != trainer.global_step:
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def _due(self, trainer, at_train_epoch_end: bool) -> bool:
        return (
            not self._should_skip_saving_checkpoint(trainer)
            and self._should_save_on_train_epoch_end(trainer) == at_train_epoch_end
            and self._every_n_epochs >= 1
            and (trainer.current_epoch + 1) % self._every_n_epochs == 0
        )

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        due = self._due(trainer, at_train_epoch_end=True)
        super().on_train_epoch_end(trainer, pl_module)
        if due:
            self._save_last_if_missed(trainer)

    def on_validation_end(self, trainer, pl_module) -> None:
        due = self._due(trainer, at_train_epoch_end=False)
        super().on_validation_end(trainer, pl_module)
        if due:
            self._save_last_if_missed(trainer)
