"""Energy-fit figures (Rezende & Mohamed 2015, Fig. 3): the target ``exp(-U)`` on a grid beside
a 2-D histogram of the flow's samples. A no-op unless the data module is an energy
(``kind == "energy"``) and the model can ``sample``."""

from __future__ import annotations

from pathlib import Path

import torch

from gens.callbacks.periodic import PeriodicFigure

__all__ = ["EnergyPlot"]


class EnergyPlot(PeriodicFigure):
    """Plot target and samples at the end of training (and every ``every_n_steps`` steps)."""

    def __init__(
        self, dirpath: str, every_n_steps: int = 5000, n: int = 50_000, n_grid: int = 200
    ):
        super().__init__(dirpath, every_n_steps)
        self.n, self.n_grid = int(n), int(n_grid)

    @staticmethod
    def applies(trainer, pl_module) -> bool:
        dm = trainer.datamodule
        return getattr(dm, "kind", None) == "energy" and hasattr(pl_module, "sample")

    def plot(self, trainer, pl_module, tag: str) -> Path | None:
        if not trainer.is_global_zero or not self.applies(trainer, pl_module):
            return None
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        dm = trainer.datamodule
        lim = 4.0 if dm.bound is None else dm.bound
        g = torch.linspace(-lim, lim, self.n_grid)
        grid = torch.stack(torch.meshgrid(g, g, indexing="xy"), -1).reshape(-1, 2)
        target = dm.log_density(grid).exp().view(self.n_grid, self.n_grid)
        gen = torch.Generator(device=pl_module.device).manual_seed(0)
        x = pl_module.sample(self.n, generator=gen).cpu()
        fig, axes = plt.subplots(1, 2, figsize=(8, 4), dpi=100)
        ext = (-lim, lim, -lim, lim)
        axes[0].imshow(target.numpy(), origin="lower", extent=ext, cmap="viridis")
        axes[0].set_title(f"target exp(-{dm.energy.upper()})", fontsize=8)
        rng = [[-lim, lim], [-lim, lim]]
        axes[1].hist2d(x[:, 0].numpy(), x[:, 1].numpy(), bins=self.n_grid // 2, range=rng)
        axes[1].set_title(f"flow samples, step {trainer.global_step}", fontsize=8)
        for ax in axes:
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
        fig.tight_layout()
        return self.save(fig, trainer, f"energy_{tag}.png", "energy")
