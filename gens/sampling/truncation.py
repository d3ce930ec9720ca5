"""The truncation trick (Brock et al. 2019, BigGAN, Sec. 3.1): latents drawn from a normal
truncated to [-t, t], by resampling every entry whose magnitude exceeds the threshold t. Lower
thresholds trade variety for fidelity."""

from __future__ import annotations

import torch

from gens.utils.errors import ConfigError

__all__ = ["truncate"]


def truncate(z: torch.Tensor, threshold: float, generator: torch.Generator | None = None):
    """Resample entries of ``z`` whose magnitude exceeds ``threshold`` until none does."""
    if not threshold > 0:
        raise ConfigError(f"truncation must be > 0, got {threshold}")
    z = z.clone()
    mask = z.abs() > threshold
    while mask.any():
        z[mask] = torch.randn(int(mask.sum()), device=z.device, generator=generator)
        mask = z.abs() > threshold
    return z
