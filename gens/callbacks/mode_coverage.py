"""Mode coverage of generated samples on mixture data (VEEGAN / PacGAN protocol).

Logs ``val/modes``, ``val/hq``, ``val/rkl`` after validation and ``test/...`` after testing, on
``n`` samples from a fixed seed. Does nothing for data sets without modes.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch

from gens.metrics.modes import mode_metrics

__all__ = ["ModeCoverage"]


class ModeCoverage(pl.Callback):
    def __init__(self, n: int = 2500, seed: int = 0, n_std: float = 3.0):
        self.n, self.seed, self.n_std = int(n), int(seed), float(n_std)

    def _evaluate(self, trainer, pl_module, prefix: str, seed_offset: int = 0) -> None:
        dm = trainer.datamodule
        if dm is None or getattr(dm, "modes", None) is None or trainer.sanity_checking:
            return
        g = torch.Generator(device=pl_module.device).manual_seed(self.seed + seed_offset)
        x = pl_module.sample(self.n, generator=g)
        m = mode_metrics(x, dm.modes, dm.mode_std, self.n_std)
        pl_module.log_dict({f"{prefix}/{k}": v for k, v in m.items()}, prog_bar=prefix == "val")

    def on_validation_epoch_end(self, trainer, pl_module):
        self._evaluate(trainer, pl_module, "val")

    def on_test_epoch_end(self, trainer, pl_module):
        self._evaluate(trainer, pl_module, "test", seed_offset=1)
