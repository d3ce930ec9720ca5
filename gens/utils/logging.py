"""Rank-aware console logging and logger-agnostic image logging."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from pytorch_lightning.utilities import rank_zero_only

__all__ = ["get_logger", "log_image"]


class _RankZeroAdapter(logging.LoggerAdapter):
    """Emits only on global rank 0, so DDP runs print each message once."""

    def log(self, level, msg, *args, **kwargs):
        if rank_zero_only.rank == 0 and self.isEnabledFor(level):
            msg, kwargs = self.process(msg, kwargs)
            self.logger.log(level, msg, *args, **kwargs)


def get_logger(name: str = __name__) -> logging.LoggerAdapter:
    return _RankZeroAdapter(logging.getLogger(name), extra={})


def log_image(trainer, key: str, path: str | Path, step: int | None = None) -> None:
    """Send a PNG already written to disk to every active logger that takes images."""
    if trainer is None or not trainer.is_global_zero:
        return
    step = trainer.global_step if step is None else step
    for lg in trainer.loggers:
        name = type(lg).__name__
        if name == "WandbLogger":
            lg.log_image(key=key, images=[str(path)], step=step)
        elif name == "TensorBoardLogger":
            import matplotlib.image as mpimg

            img = mpimg.imread(str(path))
            img = (np.clip(img[..., :3], 0, 1) * 255).astype(np.uint8)
            lg.experiment.add_image(key, img, step, dataformats="HWC")
