"""Coarse-to-fine Fourier features: fade the discriminator's random Fourier features in over
generator steps (the frequency annealing of BARF, Lin et al. 2021).

The features' ``gain`` (a buffer of ``gens.nets.fourier.FourierFeatures``) goes linearly from 0
at generator step ``start`` to 1 at ``end``, so D first learns the coarse function of ``x`` and
then the high frequencies. Add it to a GAN whose discriminator has Fourier features::

    python train.py model=gan model.discriminator.fourier_features=32 \\
        +callbacks.fourier_annealing._target_=gens.callbacks.FourierAnnealing \\
        +callbacks.fourier_annealing.start=3000 +callbacks.fourier_annealing.end=6000
"""

from __future__ import annotations

import pytorch_lightning as pl

from gens.nets.fourier import FourierFeatures
from gens.utils.errors import ConfigError

__all__ = ["FourierAnnealing"]


class FourierAnnealing(pl.Callback):
    def __init__(self, start: int = 0, end: int = 1000):
        if not 0 <= int(start) <= int(end):
            raise ConfigError(
                f"fourier_annealing needs 0 <= start <= end generator steps, got {start}, {end}"
            )
        self.start, self.end = int(start), int(end)

    def gain(self, g_steps: int) -> float:
        if g_steps >= self.end:
            return 1.0
        return max(0.0, (g_steps - self.start) / (self.end - self.start))

    def _features(self, pl_module) -> list[FourierFeatures]:
        return [m for m in pl_module.discriminator.modules() if isinstance(m, FourierFeatures)]

    def setup(self, trainer, pl_module, stage: str) -> None:
        if not self._features(pl_module):
            raise ConfigError(
                "callbacks.fourier_annealing fades in Fourier features, but the discriminator "
                "has none; set model.discriminator.fourier_features or drop the callback"
            )

    def _apply(self, pl_module) -> None:
        gain = self.gain(pl_module.g_steps)
        for m in self._features(pl_module):
            m.gain.fill_(gain)

    def on_train_start(self, trainer, pl_module) -> None:
        self._apply(pl_module)  # also right after a resume

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._apply(pl_module)
