"""The frame of the callbacks that score generated samples with a fixed classifier: the stacked
modes of VEEGAN / PacGAN and the class fidelity of conditional GANs (Odena et al. 2017).

``n_val`` samples are scored after each validation and ``n_test`` at test (0: off), drawn from
a fixed seed (``seed + 1`` at test) so that evaluation does not change training; nothing is
scored while Lightning's sanity check runs. A subclass says whether it applies to a run and
what it measures.
"""

from __future__ import annotations

import pytorch_lightning as pl

__all__ = ["SampleScores"]


class SampleScores(pl.Callback):
    """Logs ``{split}/{name}`` for each metric ``score`` returns.

    Args:
        n_val, n_test: samples scored after each validation / at test (0: off).
        seed: sampling seed (test uses ``seed + 1``).
        batch_size: samples drawn and classified at a time.
    """

    def __init__(self, n_val: int, n_test: int, seed: int = 0, batch_size: int = 500):
        self.n = {"val": int(n_val), "test": int(n_test)}
        self.seed, self.batch_size = int(seed), max(1, int(batch_size))

    def applies(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> bool:
        return True

    def score(self, pl_module: pl.LightningModule, n: int, seed: int) -> dict[str, float]:
        raise NotImplementedError

    def _log(self, trainer, pl_module, split: str) -> None:
        if trainer.sanity_checking or self.n[split] < 1 or not self.applies(trainer, pl_module):
            return
        metrics = self.score(pl_module, self.n[split], self.seed + (split == "test"))
        pl_module.log_dict({f"{split}/{k}": v for k, v in metrics.items()}, prog_bar=False)

    def on_validation_epoch_end(self, trainer, pl_module):
        self._log(trainer, pl_module, "val")

    def on_test_epoch_end(self, trainer, pl_module):
        self._log(trainer, pl_module, "test")
