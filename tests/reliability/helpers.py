"""Test doubles for the reliability suite: models that break on cue, slow or failing writers,
and a small on-disk data module that uses the generic data-folder checks."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch

from gens.data.base import GensDataModule
from gens.data.checks import require_files
from gens.gan import GAN
from gens.utils.ckpt_io import AtomicCheckpointIO

__all__ = ["BreakingGAN", "SlowCheckpointIO", "NpyFolderData", "KeepLastCheckpoint"]


class BreakingGAN(GAN):
    """A vanilla GAN that turns its G loss (``mode=loss``) or the gradient of the first D
    parameter (``mode=grad``) into NaN at generator steps ``break_at`` (a list, or from a step on
    with ``forever``)."""

    def __init__(self, *args, break_at=(5,), mode: str = "loss", forever: bool = False, **kw):
        super().__init__(*args, **kw)
        self.break_at, self.mode, self.forever = {int(s) for s in break_at}, mode, forever

    def _breaks(self) -> bool:
        nxt = self.g_steps + 1
        return nxt in self.break_at or (self.forever and nxt >= min(self.break_at))

    def g_objective(self, real, y):
        loss, logs = super().g_objective(real, y)
        if self._breaks() and self.mode == "loss":
            loss = loss * float("nan")
            logs = {**logs, "g_loss": loss}
        return loss, logs

    def d_objective(self, real, y):
        if self.mode == "grad" and not hasattr(self, "_hooked"):
            self._hooked = next(self.discriminator.parameters()).register_hook(
                lambda g: g * float("nan") if self._breaks() else g
            )
        return super().d_objective(real, y)


class SlowCheckpointIO(AtomicCheckpointIO):
    """Writes checkpoints in small chunks with pauses, and drops a ``.writing`` marker next to
    the target while a write is in progress, so a test can kill the process mid-write."""

    def __init__(self, delay: float = 0.2, chunks: int = 10):
        super().__init__()
        self.delay, self.chunks = float(delay), int(chunks)

    def save_checkpoint(self, checkpoint, path, storage_options=None):
        marker = Path(path).parent / f".writing-{Path(path).name}"
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(str(checkpoint.get("global_step")))
        super().save_checkpoint(checkpoint, path, storage_options)
        marker.unlink(missing_ok=True)

    def dump(self, checkpoint, f):
        import io

        buf = io.BytesIO()
        torch.save(checkpoint, buf)
        data = buf.getvalue()
        step = -(-len(data) // self.chunks)
        for i in range(0, len(data), step):
            f.write(data[i : i + step])
            f.flush()
            os.fsync(f.fileno())
            time.sleep(self.delay / self.chunks)


class NpyFolderData(GensDataModule):
    """Vectors from ``*.npy`` files in a folder: a minimal on-disk set for the data checks."""

    kind = "vector"

    def __init__(self, root: str, batch_size: int = 100, seed: int = 0, monitor=None, **loader):
        super().__init__(batch_size=batch_size, seed=seed, monitor=monitor, **loader)
        self.files = require_files(
            root, ["*.npy"], "npy folder", "write (N, D) float arrays as .npy files there"
        )
        self.x = torch.as_tensor(
            np.concatenate([np.load(p) for p in self.files]), dtype=torch.float32
        )
        self.shape = tuple(self.x.shape[1:])

    def setup(self, stage=None):
        self.y = torch.zeros(len(self.x), dtype=torch.long)

    def train_dataloader(self):
        return self._loader((self.x, self.y), train=True)

    def val_dataloader(self):
        return self._loader((self.x, self.y), train=False)

    def test_dataloader(self):
        return self._loader((self.x, self.y), train=False)


class KeepLastCheckpoint(pl.Callback):
    """Copies ``last.ckpt`` as it stands when epoch ``epoch`` starts to ``<dirpath>/<name>``:
    what a run killed at that epoch boundary would leave for a resume to continue."""

    def __init__(self, dirpath: str, epoch: int = 1, name: str = "preempted.ckpt"):
        self.dirpath, self.epoch, self.name = Path(dirpath), int(epoch), name

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.epoch:
            shutil.copyfile(self.dirpath / "last.ckpt", self.dirpath / self.name)
