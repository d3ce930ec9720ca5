"""Latent traversals of InfoGAN (Chen et al. 2016, Fig. 2): after testing, one image grid per
continuous code, rows the categories of the first categorical code and columns the code swept
over [-span, span] (``samples/traversal_c<j>.png``), and one grid of the categories with fresh
noise per column (``samples/traversal_categories.png``). Acts on image models that provide
``traversal(code, steps, span, seed)`` (``gens.gan.InfoGAN``)."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl

from gens.utils.logging import log_image
from gens.utils.plots import save_image_grid

__all__ = ["LatentTraversal"]


class LatentTraversal(pl.Callback):
    def __init__(self, dirpath: str, steps: int = 10, span: float = 2.0, seed: int = 0):
        self.dirpath, self.steps, self.span, self.seed = Path(dirpath), int(steps), span, seed

    def write(self, pl_module) -> list[Path]:
        """Write the grids; returns their paths."""
        paths = []
        codes = [None, *range(pl_module.continuous)]
        for code in codes:
            x = pl_module.traversal(code, self.steps, float(self.span), self.seed)
            name = "traversal_categories" if code is None else f"traversal_c{code}"
            path = self.dirpath / f"{name}.png"
            save_image_grid(x.cpu(), path, nrow=self.steps)
            paths.append(path)
        return paths

    def on_test_epoch_end(self, trainer, pl_module) -> None:
        if not trainer.is_global_zero or not hasattr(pl_module, "traversal"):
            return
        if not pl_module.is_image:
            return
        for path in self.write(pl_module):
            log_image(trainer, f"samples/{path.stem}", path)
