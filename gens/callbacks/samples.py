"""Sample figures during training: a scatter plot over the data for 2-D sets, a histogram for
1-D sets, an image grid for images. Written as PNG under ``dirpath`` and sent to the logger."""

from __future__ import annotations

from pathlib import Path

import torch

from gens.callbacks.periodic import PeriodicFigure
from gens.utils.logging import log_image
from gens.utils.plots import save_samples_figure

__all__ = ["SamplePlot"]


class SamplePlot(PeriodicFigure):
    """Plot ``n`` samples every ``every_n_steps`` global steps and at the end of training.

    GANs draw from their fixed evaluation noise (so frames are comparable across steps) when
    ``n`` fits in it; other models use a seeded generator.
    """

    def __init__(self, dirpath: str, every_n_steps: int = 1000, n: int = 2500, seed: int = 0):
        super().__init__(dirpath, every_n_steps)
        self.n, self.seed = int(n), int(seed)

    def _samples(self, pl_module, n: int) -> torch.Tensor:
        fixed = getattr(pl_module, "fixed_z", None)
        if fixed is not None and pl_module.is_image and n <= len(fixed):
            y = pl_module.fixed_y[:n] if getattr(pl_module, "conditional", False) else None
            return pl_module.sample(n, y=y, z=fixed[:n])
        g = torch.Generator(device=pl_module.device).manual_seed(self.seed)
        return pl_module.sample(n, generator=g)

    def plot(self, trainer, pl_module, tag: str) -> Path | None:
        if not trainer.is_global_zero:
            return None
        n = min(self.n, 64) if pl_module.is_image else self.n
        x = self._samples(pl_module, n).cpu()
        dm = trainer.datamodule
        real = None
        if not pl_module.is_image and dm is not None and "train" in getattr(dm, "splits", {}):
            real = dm.splits["train"][0][: self.n]
        path = self.dirpath / f"{tag}.png"
        save_samples_figure(x, path, real=real, title=f"step {trainer.global_step}")
        log_image(trainer, "samples", path)
        return path
