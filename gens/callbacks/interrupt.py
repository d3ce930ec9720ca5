"""Ctrl-C (SIGINT) stops training cleanly: finish the batch, save ``last.ckpt``, exit.

The first SIGINT only sets a flag; at the end of the current training batch (a consistent
state: both D and G steps done) the checkpoint is written atomically to the run's
``checkpoints/last.ckpt`` and the trainer stops. ``gens.train`` then skips testing, writes no
``metrics.json`` (the run is not complete) and exits with code 130, printing the resume
command. A second Ctrl-C aborts at once (Lightning's own KeyboardInterrupt handling).
Under DDP the flag is OR-reduced across ranks so every rank stops at the same batch.

``gens.train`` always adds it.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pytorch_lightning as pl

from gens.utils.errors import GensError
from gens.utils.logging import get_logger

__all__ = ["GracefulInterrupt", "TrainingInterrupted"]

log = get_logger(__name__)


class TrainingInterrupted(GensError):
    """Training stopped on Ctrl-C after saving a checkpoint."""


class GracefulInterrupt(pl.Callback):
    def __init__(self, dirpath: str | Path | None = None):
        self.dirpath = None if dirpath is None else Path(dirpath)
        self.requested = False
        self.saved_path: Path | None = None
        self.step: int | None = None
        self._previous = None

    def _handler(self, signum, frame) -> None:
        if self.requested:  # second Ctrl-C: abort now
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        self.requested = True
        log.warning("Ctrl-C: saving a checkpoint after this batch (Ctrl-C again to abort)")

    def on_fit_start(self, trainer, pl_module) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)

    def _restore(self) -> None:
        if self._previous is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._previous)
        self._previous = None

    def on_fit_end(self, trainer, pl_module) -> None:
        self._restore()

    def on_exception(self, trainer, pl_module, exception) -> None:
        self._restore()

    def _path(self, trainer) -> Path:
        if self.dirpath is not None:
            return self.dirpath / "last.ckpt"
        cb = trainer.checkpoint_callback
        if cb is not None and getattr(cb, "dirpath", None):
            return Path(cb.dirpath) / "last.ckpt"
        return Path(trainer.default_root_dir) / "checkpoints" / "last.ckpt"

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        stop = self.requested
        if trainer.world_size > 1:
            stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
        if not stop or self.saved_path is not None:
            return
        self.requested = True
        cb = trainer.checkpoint_callback
        if self.dirpath is None and hasattr(cb, "save_last_now") and cb.save_last:
            # through the checkpoint callback: the one last.ckpt, no versioned copy beside it
            path = Path(cb.save_last_now(trainer))
        else:
            path = self._path(trainer)
            trainer.save_checkpoint(path, weights_only=False)
        self.saved_path, self.step = path, trainer.global_step
        # stop now, even inside the first epoch (min_epochs would otherwise keep it going)
        trainer.fit_loop.min_epochs = 0
        trainer.fit_loop.epoch_loop.min_steps = 0
        trainer.should_stop = True
        log.warning(f"interrupted at global step {trainer.global_step}; saved {path}")

    def raise_if_interrupted(self) -> None:
        if self.requested and self.saved_path is not None:
            raise TrainingInterrupted(
                f"interrupted at global step {self.step}; checkpoint saved to {self.saved_path}; "
                f"resume with ckpt_path={self.saved_path}"
            )
