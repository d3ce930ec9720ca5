"""A callback the report card adds to its runs (``+callbacks.step_clock._target_=...``): the
CPU and wall seconds of the training batches alone (no validation, set-up or test), written to
``step_clock.json`` in the run directory when training ends."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytorch_lightning as pl

__all__ = ["StepClock"]


class StepClock(pl.Callback):
    def __init__(self):
        self.cpu = self.wall = 0.0
        self.batches = 0
        self._start: tuple[float, float] | None = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self._start = (time.process_time(), time.perf_counter())

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self._start is None:
            return
        self.cpu += time.process_time() - self._start[0]
        self.wall += time.perf_counter() - self._start[1]
        self.batches += 1
        self._start = None

    def on_train_end(self, trainer, pl_module):
        if not trainer.is_global_zero:
            return
        out = Path(trainer.default_root_dir) / "step_clock.json"
        out.write_text(
            json.dumps(
                {
                    "cpu_seconds": self.cpu,
                    "wall_seconds": self.wall,
                    "batches": self.batches,
                    "global_step": int(trainer.global_step),
                }
            )
        )
