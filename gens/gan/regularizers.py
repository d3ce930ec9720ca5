"""Discriminator regularizers as pure functions.

- ``gradient_penalty``: WGAN-GP, Gulrajani et al. 2017, E[(||grad D(x_hat)||_2 - 1)^2] on
  x_hat = eps * x + (1 - eps) * G(z), eps ~ U[0, 1] per example.
- ``r1_penalty``: Mescheder et al. 2018 (Which Training Methods for GANs do actually Converge?),
  E_x[||grad D(x)||^2] on real data; the loss adds gamma / 2 times it.

A packed critic (PacGAN, ``critic.pack = m``) judges m consecutive samples as one point: the
interpolation coefficient is shared within a pack and the norm taken over the whole pack.

Under a GradScaler (fp16 mixed precision), pass ``scaler``: the critic output is scaled before
``autograd.grad`` and the gradients unscaled, PyTorch's AMP recipe for gradient penalties.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from gens.utils.errors import ConfigError

__all__ = ["gradient_penalty", "interpolate", "r1_penalty"]


def interpolate(real: torch.Tensor, fake: torch.Tensor, pack: int = 1) -> torch.Tensor:
    """``eps * real + (1 - eps) * fake`` with one ``eps ~ U[0, 1]`` per run of ``pack`` rows."""
    if len(real) % pack:
        raise ConfigError(f"a batch of {len(real)} cannot be packed by {pack}; use a multiple")
    shape = (len(real) // pack, *([1] * (real.dim() - 1)))
    eps = torch.rand(shape, device=real.device, dtype=real.dtype).repeat_interleave(pack, 0)
    return eps * real + (1 - eps) * fake


def gradient_penalty(
    critic: Callable[..., torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    y: torch.Tensor | None = None,
    center: float = 1.0,
    scaler: torch.amp.GradScaler | None = None,
) -> torch.Tensor:
    """Mean of ``(||grad_x critic(x_hat)||_2 - center)^2`` over random interpolates ``x_hat``."""
    pack = int(getattr(critic, "pack", 1))
    x_hat = interpolate(real.detach(), fake.detach(), pack).requires_grad_(True)
    grad = _input_grad(critic, x_hat, y, scaler)
    norm = grad.float().reshape(len(grad) // pack, -1).norm(2, dim=1)
    return ((norm - center) ** 2).mean()


def _input_grad(critic, x, y, scaler):
    out = critic(x) if y is None else critic(x, y)
    # Sum in fp32: under fp16 autocast a half-precision sum times the GradScaler's scale
    # (2**16 by default) overflows to inf and the penalty turns NaN.
    out = out.float().sum()
    if scaler is None:
        return torch.autograd.grad(out, x, create_graph=True)[0]
    # The scaled gradient can still overflow inside the fp16 backward (2**16 itself exceeds
    # fp16's max). The GradScaler would skip such a step, but the penalty *value* would be NaN
    # and stop training, so back off the scale for this gradient only until it is finite.
    scale = float(scaler.get_scale())
    while True:
        (grad,) = torch.autograd.grad(out * scale, x, create_graph=True)
        if scale <= 1.0 or bool(torch.isfinite(grad).all()):
            return grad / scale
        scale = max(1.0, scale / 2.0**4)


def r1_penalty(
    critic: Callable[..., torch.Tensor],
    real: torch.Tensor,
    y: torch.Tensor | None = None,
    scaler: torch.amp.GradScaler | None = None,
) -> torch.Tensor:
    """Mean over real examples (packs, for a packed critic) of ``||grad_x critic(x)||_2^2``."""
    pack = int(getattr(critic, "pack", 1))
    x = real.detach().requires_grad_(True)
    grad = _input_grad(critic, x, y, scaler)
    return grad.float().reshape(len(grad) // pack, -1).pow(2).sum(1).mean()
