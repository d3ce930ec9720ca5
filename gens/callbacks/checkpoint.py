"""Model checkpointing: ``last.ckpt`` always, ``best.ckpt`` on a monitored metric.

``monitor: auto`` asks the model (``default_monitor``) which metric suits it and the data, e.g.
``val/rkl`` for a GAN on mixture data; with no suitable metric only ``last.ckpt`` is kept.
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
