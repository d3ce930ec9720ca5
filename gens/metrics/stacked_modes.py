"""Mode coverage on stacked digits (Stacked-MNIST protocol of VEEGAN, Srivastava et al. 2017,
and PacGAN, Lin et al. 2018): each of the three channels of a generated image is classified
by a digits classifier; the triple of digits is the sample's mode (1,000 possible). Reported:
the number of modes hit, and KL(p || uniform) of the mode histogram p over 1,000 modes.
"""

from __future__ import annotations

import math

import torch

__all__ = ["classify_stacked", "stacked_mode_metrics"]


@torch.no_grad()
def classify_stacked(x: torch.Tensor, extractor, batch_size: int = 1000) -> torch.Tensor:
    """Mode ids ``100 * d_0 + 10 * d_1 + d_2`` of ``(N, 3, S, S)`` images in [-1, 1];
    ``extractor.both(gray) -> (pool, logits)`` classifies one channel."""
    modes = []
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size].float()
        digits = [extractor.both(xb[:, c : c + 1].contiguous())[1].argmax(1) for c in range(3)]
        modes.append(digits[0] * 100 + digits[1] * 10 + digits[2])
    return torch.cat(modes).cpu()


def stacked_mode_metrics(modes: torch.Tensor, num_modes: int = 1000) -> dict[str, float]:
    """``{"modes": distinct modes hit, "kl": KL(p || uniform over num_modes)}``."""
    counts = torch.bincount(modes.long(), minlength=num_modes).double()
    p = counts / counts.sum()
    nz = p > 0
    kl = float((p[nz] * (p[nz] * num_modes).log()).sum()) if len(modes) else math.log(num_modes)
    return {"modes": float(nz.sum()), "kl": kl}
