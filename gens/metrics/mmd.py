"""Kernel two-sample statistic for vector data: the unbiased MMD^2 of Gretton et al. 2012 with a
Gaussian kernel whose bandwidth is the median pairwise distance (the median heuristic)."""

from __future__ import annotations

import torch

__all__ = ["mmd2"]


def mmd2(x: torch.Tensor, y: torch.Tensor, bandwidth: float | None = None) -> float:
    """Unbiased estimate of MMD^2(P, Q) from samples ``x ~ P`` and ``y ~ Q`` (rows)."""
    x = x.detach().double().reshape(len(x), -1).cpu()
    y = y.detach().double().reshape(len(y), -1).cpu()
    xy = torch.cat([x, y])
    d2 = torch.cdist(xy, xy).pow(2)
    if bandwidth is None:
        bandwidth = float(d2[d2 > 0].median().sqrt()) if (d2 > 0).any() else 1.0
    k = torch.exp(-d2 / (2 * bandwidth**2))
    n, m = len(x), len(y)
    kxx, kyy, kxy = k[:n, :n], k[n:, n:], k[:n, n:]
    sxx = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    syy = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return float(sxx + syy - 2 * kxy.mean())
