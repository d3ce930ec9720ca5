"""Modes of stacked digits during validation and testing (``val/modes``, ``val/kl``,
``test/modes``, ``test/kl``), the Stacked-MNIST protocol of VEEGAN / PacGAN.

Acts only on data modules with ``stacked = True`` (``data=stacked_digits``). Samples come from
a fixed seed (``seed + 1`` at test), so evaluation does not change training; PacGAN counts
modes on 26,000 samples (``n_test``).
"""

from __future__ import annotations

import torch

from gens.callbacks.sample_scores import SampleScores
from gens.metrics.stacked_modes import classify_stacked, stacked_mode_metrics

__all__ = ["StackedModes"]


class StackedModes(SampleScores):
    """Args:
    n_val, n_test: generated samples classified after each validation / at test.
    weights_path: digits classifier (default: the one shipped in ``gens/assets``).
    batch_size: samples drawn and classified at a time.
    Other arguments as ``SampleScores`` (``seed``).
    """

    def __init__(
        self,
        n_val: int = 2600,
        n_test: int = 26000,
        weights_path: str | None = None,
        batch_size: int = 1000,
        **kwargs,
    ):
        super().__init__(n_val, n_test, batch_size=batch_size, **kwargs)
        self.weights_path = weights_path
        self.extractor = None

    def _extractor(self, device):
        if self.extractor is None:
            from gens.metrics.features import ClassifierExtractor

            self.extractor = ClassifierExtractor(weights_path=self.weights_path)
        return self.extractor.to(device)

    def applies(self, trainer, pl_module) -> bool:
        return getattr(trainer.datamodule, "stacked", False)

    @torch.no_grad()
    def score(self, pl_module, n: int, seed: int) -> dict[str, float]:
        g = torch.Generator(device=pl_module.device).manual_seed(seed)
        ex = self._extractor(pl_module.device)
        modes = []
        for i in range(0, n, self.batch_size):
            x = pl_module.sample(min(self.batch_size, n - i), generator=g).clamp(-1, 1)
            modes.append(classify_stacked(x, ex, self.batch_size))
        return stacked_mode_metrics(torch.cat(modes))
