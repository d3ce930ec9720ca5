"""Base of the figure callbacks: draw every ``every_n_steps`` global steps and at the end of
training, write the PNG under ``dirpath`` and send it to the active loggers."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl

from gens.utils.logging import log_image

__all__ = ["PeriodicFigure"]


class PeriodicFigure(pl.Callback):
    """Subclasses implement ``plot(trainer, pl_module, tag) -> Path | None``."""

    def __init__(self, dirpath: str, every_n_steps: int):
        self.dirpath = Path(dirpath)
        self.every_n_steps = max(1, int(every_n_steps))
        self._last_bucket = 0

    def plot(self, trainer, pl_module, tag: str) -> Path | None:
        raise NotImplementedError

    def save(self, fig, trainer, name: str, key: str) -> Path:
        """Write a matplotlib figure to ``dirpath/name``, close it, and log it as ``key``."""
        import matplotlib.pyplot as plt

        path = self.dirpath / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
        plt.close(fig)
        log_image(trainer, key, path)
        return path

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        bucket = trainer.global_step // self.every_n_steps
        if bucket > self._last_bucket:
            self._last_bucket = bucket
            self.plot(trainer, pl_module, f"step_{trainer.global_step:07d}")

    def on_train_end(self, trainer, pl_module):
        self.plot(trainer, pl_module, "final")
