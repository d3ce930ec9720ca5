"""Sample-based metrics for vector (toy) data, logged after validation and testing.

- mixture sets (ring8, grid25, gauss1d): modes captured, % high quality and reverse KL on ``n``
  samples, the VEEGAN / PacGAN protocol (``val/modes``, ``val/hq``, ``val/rkl``);
- every vector set: MMD^2 between ``n`` samples and the held-out split (``val/mmd``).

Samples come from ``gens.callbacks.seeds.evaluation_samples`` (a different seed for test),
never from the global RNG, so evaluation does not change the training trajectory.
"""

from __future__ import annotations

import pytorch_lightning as pl

from gens.callbacks.seeds import evaluation_samples
from gens.metrics.mmd import mmd2
from gens.metrics.modes import mode_metrics

__all__ = ["VectorMetrics"]


class VectorMetrics(pl.Callback):
    def __init__(self, n: int = 2500, seed: int = 0, n_std: float = 3.0, mmd_n: int = 1000):
        self.n, self.seed, self.n_std, self.mmd_n = int(n), int(seed), float(n_std), int(mmd_n)

    def evaluate(self, trainer, pl_module, split: str) -> dict[str, float]:
        dm = trainer.datamodule
        if dm is None or getattr(dm, "kind", None) != "vector" or not hasattr(pl_module, "sample"):
            return {}
        x = evaluation_samples(trainer, pl_module, self.n, self.seed, split)
        out = {}
        if getattr(dm, "modes", None) is not None:
            out.update(mode_metrics(x, dm.modes, dm.mode_std, self.n_std))
        held_out = getattr(dm, "splits", {}).get(split)
        if held_out is not None:
            out["mmd"] = mmd2(x[: self.mmd_n], held_out[0][: self.mmd_n])
        return out

    def _log(self, trainer, pl_module, prefix: str) -> None:
        if trainer.sanity_checking:
            return
        m = self.evaluate(trainer, pl_module, prefix)
        if m:
            pl_module.log_dict({f"{prefix}/{k}": v for k, v in m.items()}, prog_bar=False)

    def on_validation_epoch_end(self, trainer, pl_module):
        self._log(trainer, pl_module, "val")

    def on_test_epoch_end(self, trainer, pl_module):
        self._log(trainer, pl_module, "test")
