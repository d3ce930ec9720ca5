"""Modes of stacked digits during validation and testing (``val/modes``, ``val/kl``,
``test/modes``, ``test/kl``), the Stacked-MNIST protocol of VEEGAN / PacGAN.

Acts only on data modules with ``stacked = True`` (``data=stacked_digits``). Samples come from
a fixed seed (``seed + 1`` at test), so evaluation does not change training; PacGAN counts
modes on 26,000 samples (``n_test``).
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch

from gens.metrics.stacked_modes import classify_stacked, stacked_mode_metrics

__all__ = ["StackedModes"]


class StackedModes(pl.Callback):
    """Args:
    n_val, n_test: generated samples classified after each validation / at test.
    seed: sampling seed (test uses ``seed + 1``).
    weights_path: digits classifier (default: the one shipped in ``gens/assets``).
    """

    def __init__(
        self,
        n_val: int = 2600,
        n_test: int = 26000,
        seed: int = 0,
        weights_path: str | None = None,
        batch_size: int = 1000,
    ):
        self.n = {"val": int(n_val), "test": int(n_test)}
        self.seed, self.weights_path, self.batch_size = int(seed), weights_path, int(batch_size)
        self.extractor = None

    def _extractor(self, device):
        if self.extractor is None:
            from gens.metrics.features import ClassifierExtractor

            self.extractor = ClassifierExtractor(weights_path=self.weights_path)
        return self.extractor.to(device)

    @torch.no_grad()
    def evaluate(self, pl_module, n: int, seed: int) -> dict[str, float]:
        g = torch.Generator(device=pl_module.device).manual_seed(seed)
        ex = self._extractor(pl_module.device)
        modes = []
        for i in range(0, n, self.batch_size):
            x = pl_module.sample(min(self.batch_size, n - i), generator=g).clamp(-1, 1)
            modes.append(classify_stacked(x, ex, self.batch_size))
        return stacked_mode_metrics(torch.cat(modes))

    def _log(self, trainer, pl_module, split: str, seed: int) -> None:
        dm = trainer.datamodule
        if trainer.sanity_checking or not getattr(dm, "stacked", False) or self.n[split] < 1:
            return
        m = self.evaluate(pl_module, self.n[split], seed)
        pl_module.log_dict({f"{split}/{k}": v for k, v in m.items()}, prog_bar=False)

    def on_validation_epoch_end(self, trainer, pl_module):
        self._log(trainer, pl_module, "val", self.seed)

    def on_test_epoch_end(self, trainer, pl_module):
        self._log(trainer, pl_module, "test", self.seed + 1)
