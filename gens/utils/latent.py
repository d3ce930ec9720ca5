"""Latent-space operations for visual evaluation of generators.

- linear and spherical interpolation (slerp: Shoemake 1985; White 2016, "Sampling Generative
  Networks", argues it suits Gaussian latents, whose mass lies near a sphere);
- vector arithmetic on group means, ``mean(a) - mean(b) + mean(c)`` (Radford et al. 2016,
  DCGAN, Sec. 6.3: "smiling woman - neutral woman + neutral man").
"""

from __future__ import annotations

import torch

from gens.utils.errors import ConfigError

__all__ = ["lerp", "slerp", "walk", "arithmetic"]


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``(1 - t) a + t b`` for each ``t``: ``(T, *a.shape)``."""
    t = t.reshape(-1, *([1] * a.dim())).to(a)
    return (1 - t) * a + t * b


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation along the great circle through ``a`` and ``b`` (the norm is
    interpolated linearly); falls back to ``lerp`` for (anti)parallel vectors."""
    fa, fb = a.reshape(-1).double(), b.reshape(-1).double()
    na, nb = fa.norm(), fb.norm()
    cos = torch.clamp(fa @ fb / (na * nb).clamp_min(eps), -1.0, 1.0)
    omega = torch.arccos(cos)
    if float(torch.sin(omega)) < 1e-6:
        return lerp(a, b, t)
    t = t.double().reshape(-1, 1)
    ua, ub = fa / na, fb / nb
    so = torch.sin(omega)
    direction = (torch.sin((1 - t) * omega) * ua + torch.sin(t * omega) * ub) / so
    # sin-weights keep unit norm only for unit vectors: renormalize, then scale
    direction = direction / direction.norm(dim=1, keepdim=True)
    norm = (1 - t) * na + t * nb
    return (direction * norm).to(a.dtype).reshape(len(t), *a.shape)


def walk(a: torch.Tensor, b: torch.Tensor, steps: int, mode: str = "linear") -> torch.Tensor:
    """``steps`` points from ``a`` to ``b`` (both ends included)."""
    if int(steps) < 2:
        raise ConfigError(f"steps must be >= 2, got {steps}")
    t = torch.linspace(0, 1, int(steps))
    if mode == "linear":
        return lerp(a, b, t)
    if mode in ("slerp", "spherical"):
        return slerp(a, b, t)
    raise ConfigError(f"interpolation mode must be linear or slerp, got {mode!r}")


def arithmetic(z: torch.Tensor, a, b, c) -> torch.Tensor:
    """``mean(z[a]) - mean(z[b]) + mean(z[c])`` for index lists ``a``, ``b``, ``c``."""
    for name, idx in (("a", a), ("b", b), ("c", c)):
        if len(idx) == 0:
            raise ConfigError(f"arithmetic group {name} is empty; list latent indices in it")
        if max(idx) >= len(z) or min(idx) < 0:
            raise ConfigError(f"arithmetic group {name} has an index outside 0..{len(z) - 1}")
    mean = lambda idx: z[list(idx)].mean(0)  # noqa: E731
    return mean(a) - mean(b) + mean(c)
