"""2-D density plots of flows: exp(log_prob) on a grid beside the data (the figures of the
density-estimation experiments in NICE/RealNVP/MAF/FFJORD papers). Written as PNG under
``dirpath`` and sent to the logger; a no-op for models without ``log_prob`` or non-2-D data."""

from __future__ import annotations

from pathlib import Path

import torch

from gens.callbacks.periodic import PeriodicFigure

__all__ = ["DensityPlot", "density_grid"]


@torch.no_grad()
def density_grid(log_prob, lim: tuple[float, float, float, float], n: int = 200, device="cpu"):
    """``exp(log_prob)`` on an ``n x n`` grid over ``(xmin, xmax, ymin, ymax)``."""
    xs = torch.linspace(lim[0], lim[1], n, device=device)
    ys = torch.linspace(lim[2], lim[3], n, device=device)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    pts = torch.stack([gx.flatten(), gy.flatten()], 1)
    logp = torch.cat([log_prob(b) for b in pts.split(10_000)])
    return logp.exp().view(n, n).cpu()


class DensityPlot(PeriodicFigure):
    """Plot the model density every ``every_n_steps`` global steps and at the end of training."""

    def __init__(self, dirpath: str, every_n_steps: int = 2000, n_grid: int = 200, margin=0.1):
        super().__init__(dirpath, every_n_steps)
        self.n_grid, self.margin = int(n_grid), float(margin)

    @staticmethod
    def applies(trainer, pl_module) -> bool:
        dm = trainer.datamodule
        return (
            hasattr(pl_module, "log_prob")
            and getattr(pl_module, "data_shape", None) == (2,)
            and dm is not None
            and "train" in getattr(dm, "splits", {})
        )

    def plot(self, trainer, pl_module, tag: str) -> Path | None:
        if not trainer.is_global_zero or not self.applies(trainer, pl_module):
            return None
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        real = trainer.datamodule.splits["train"][0][:5000]
        lo, hi = real.min(0).values, real.max(0).values
        pad = self.margin * (hi - lo)
        lim = (
            float(lo[0] - pad[0]),
            float(hi[0] + pad[0]),
            float(lo[1] - pad[1]),
            float(hi[1] + pad[1]),
        )
        was_training = pl_module.training
        pl_module.eval()
        dens = density_grid(pl_module.log_prob, lim, self.n_grid, pl_module.device)
        pl_module.train(was_training)
        fig, axes = plt.subplots(1, 2, figsize=(8, 4), dpi=100)
        axes[0].hist2d(
            real[:, 0].numpy(),
            real[:, 1].numpy(),
            bins=self.n_grid // 2,
            range=[lim[:2], lim[2:]],
            cmap="viridis",
        )
        axes[0].set_title("data", fontsize=8)
        axes[1].imshow(dens.numpy(), origin="lower", extent=lim, cmap="viridis", aspect="auto")
        axes[1].set_title(f"model density, step {trainer.global_step}", fontsize=8)
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        fig.tight_layout()
        return self.save(fig, trainer, f"density_{tag}.png", "density")
