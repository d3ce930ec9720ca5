"""Mode coverage of samples from a Gaussian mixture, as in VEEGAN (Srivastava et al. 2017) and
PacGAN (Lin et al. 2018).

A sample is *high quality* when it lies within ``3 * std`` of its nearest mode; a mode is
*captured* when it is the nearest mode of at least one high-quality sample. The reverse KL is
KL(p || uniform), with p the histogram of nearest modes over the high-quality samples; with no
high-quality sample it is ``log K`` (all mass on one mode, the worst histogram).
"""

from __future__ import annotations

import math

import torch

__all__ = ["mode_metrics"]


def mode_metrics(
    samples: torch.Tensor, modes: torch.Tensor, std: float, n_std: float = 3.0
) -> dict[str, float]:
    """Return ``{"modes": captured, "hq": fraction high quality, "rkl": reverse KL}``."""
    samples = samples.detach().float().reshape(len(samples), -1).cpu()
    modes = modes.float().reshape(len(modes), -1).cpu()
    dist = torch.cdist(samples, modes)
    nearest_d, nearest = dist.min(dim=1)
    hq = nearest_d < n_std * std
    k = len(modes)
    counts = torch.bincount(nearest[hq], minlength=k).double()
    n_hq = counts.sum().item()
    if n_hq == 0:
        rkl = math.log(k)
    else:
        p = counts / n_hq
        nz = p > 0
        rkl = float((p[nz] * (p[nz] * k).log()).sum())
    return {
        "modes": float((counts > 0).sum()),
        "hq": float(hq.float().mean()) if len(samples) else 0.0,
        "rkl": rkl,
    }
