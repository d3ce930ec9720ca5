"""Model checkpointing: ``last.ckpt`` always, ``best.ckpt`` on a monitored metric.

The metric is declared in config: ``callbacks.model_checkpoint.monitor`` takes the model
config's ``monitor`` when it sets one (flows: ``val/nll``), else the data config's (``val/rkl``
on mixtures, ``val/fid`` on image sets), else none (last only). A declared metric that the run
never logs (e.g. ``val/fid`` with ``callbacks.image_metrics=null``) keeps ``last.ckpt`` only,
with one warning. ``last.ckpt`` is written at every save point (Lightning >= 2.5 writes it only
when a top-k checkpoint was written at the same step, so a run whose monitored metric stopped
improving would resume from a stale state). ``best.ckpt`` is written only right after a
validation at the same step, so it always holds the weights its score was measured on.
"""

from __future__ import annotations

import pytorch_lightning as pl

from gens.utils.logging import get_logger

__all__ = ["ModelCheckpoint"]

log = get_logger(__name__)


class ModelCheckpoint(pl.callbacks.ModelCheckpoint):
    """Lightning's callback with gens' defaults: ``best.ckpt`` on ``monitor`` (minimized),
    ``last.ckpt`` always, checked every epoch."""

    def __init__(
        self,
        dirpath: str | None = None,
        filename: str = "best",
        monitor: str | None = None,
        mode: str = "min",
        save_last: bool = True,
        save_top_k: int = 1,
        auto_insert_metric_name: bool = False,
        every_n_epochs: int = 1,
        **kwargs,
    ):
        super().__init__(
            dirpath=dirpath,
            filename=filename,
            monitor=monitor,
            mode=mode,
            save_last=save_last,
            save_top_k=save_top_k if monitor is not None else 0,
            auto_insert_metric_name=auto_insert_metric_name,
            every_n_epochs=every_n_epochs,
            **kwargs,
        )
        self._missing_warned = False
        self._validated_step: int | None = None

    def save_last_now(self, trainer) -> str:
        """Write ``last.ckpt`` at this step (e.g. on Ctrl-C) as this callback's own last
        checkpoint, so a later save at the same step neither repeats nor versions it."""
        self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
        self._last_global_step_saved = trainer.global_step
        return self.last_model_path

    def _save_topk_checkpoint(self, trainer, monitor_candidates) -> None:
        if self._validated_step != trainer.global_step:
            return  # the monitored value is from an earlier validation, not these weights
        if self.monitor is not None and self.monitor not in monitor_candidates:
            if not self._missing_warned:
                log.warning(
                    f"no best.ckpt: the monitored metric {self.monitor} is not logged in this "
                    "run; keeping last.ckpt only (set callbacks.model_checkpoint.monitor)"
                )
                self._missing_warned = True
            return
        super()._save_topk_checkpoint(trainer, monitor_candidates)

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
        if not trainer.sanity_checking:
            self._validated_step = trainer.global_step
        due = self._due(trainer, at_train_epoch_end=False)
        super().on_validation_end(trainer, pl_module)
        if due:
            self._save_last_if_missed(trainer)
