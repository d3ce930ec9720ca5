"""Figures of samples: scatter (2-D), histogram (1-D), image grid (NCHW in [-1, 1]); one panel
or several labelled ones side by side."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import torch

__all__ = ["save_samples_figure", "save_image_grid", "save_sample_panels"]


def save_image_grid(x: torch.Tensor, path: str | Path, nrow: int | None = None) -> None:
    from torchvision.utils import save_image

    nrow = nrow or max(1, int(math.sqrt(len(x))))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_image((x.float().clamp(-1, 1) + 1) / 2, str(path), nrow=nrow, padding=1)


def _draw(ax, x: torch.Tensor, real: torch.Tensor | None, title: str) -> None:
    if x.dim() == 4:
        from torchvision.utils import make_grid

        nrow = max(1, int(math.sqrt(len(x))))
        grid = make_grid((x.float().clamp(-1, 1) + 1) / 2, nrow=nrow, padding=1)
        ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
        ax.axis("off")
    else:
        x = x.reshape(len(x), -1).float()
        if x.shape[1] == 1:
            if real is not None:
                ax.hist(real[:, 0].numpy(), bins=100, density=True, alpha=0.5, label="data")
            ax.hist(x[:, 0].numpy(), bins=100, density=True, alpha=0.5, label="samples")
            ax.legend(loc="upper right", fontsize=7)
        else:
            if real is not None:
                ax.scatter(real[:, 0], real[:, 1], s=2, c="0.7", alpha=0.5, label="data")
            ax.scatter(x[:, 0], x[:, 1], s=2, c="tab:blue", alpha=0.6, label="samples")
    ax.set_title(title, fontsize=8)


def save_sample_panels(
    panels: Sequence[tuple[str, torch.Tensor]],
    path: str | Path,
    real: torch.Tensor | None = None,
) -> None:
    """Write a PNG with one labelled panel per ``(title, samples)``, drawn over ``real`` data
    for vectors; 2-D panels share one square window, set by the data (or the first panel)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    k = len(panels)
    fig, axes = plt.subplots(1, k, figsize=(4 * k, 4), dpi=100, squeeze=False)
    for ax, (title, x) in zip(axes[0], panels):
        _draw(ax, x, real, title)
        if x.dim() == 2 and x.shape[1] == 2:
            ref = (real if real is not None else panels[0][1]).float()
            lo, hi = ref.min(0).values, ref.max(0).values
            center, half = (lo + hi) / 2, float((hi - lo).max()) * 0.6 + 1e-6
            ax.set_xlim(float(center[0]) - half, float(center[0]) + half)
            ax.set_ylim(float(center[1]) - half, float(center[1]) + half)
            ax.set_aspect("equal", adjustable="box")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def save_samples_figure(
    x: torch.Tensor, path: str | Path, real: torch.Tensor | None = None, title: str = ""
) -> None:
    """Write a PNG of samples ``x``: an image grid, or a plot over ``real`` data for vectors."""
    if x.dim() == 4:
        save_image_grid(x, path)
        return
    save_sample_panels([(title, x)], path, real)
