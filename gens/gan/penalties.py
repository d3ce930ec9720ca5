"""Penalties on a discriminator's input gradients, as pure functions of the critic and its inputs.

- ``gradient_penalty``: WGAN-GP, Gulrajani et al. 2017, E[(||grad D(x_hat)||_2 - 1)^2] on
  x_hat = eps * x + (1 - eps) * G(z), eps ~ U[0, 1] per example.
- ``grad_sq_norm``: E||grad D(x)||^2, the R1 penalty on real data and the R2 penalty on generated
  data of Mescheder et al. 2018 (Which Training Methods for GANs do actually Converge?).

A critic takes one or more inputs, e.g. ``D(x, y)`` with labels or ``D(x, z)`` for the joint
discriminators of BiGAN and VEEGAN. Gradients are taken with respect to every floating-point
input (``x`` and ``z``, not integer labels) and their norm is over all of them together. A packed
critic (PacGAN, ``critic.pack = m``) judges m consecutive samples as one point: the interpolation
coefficient is shared within a pack and the norm taken over the whole pack.

Under a GradScaler (fp16 mixed precision), pass ``scaler``: the critic output is scaled before
``autograd.grad`` and the gradients unscaled, PyTorch's AMP recipe for gradient penalties.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from gens.utils.errors import ConfigError

__all__ = ["grad_sq_norm", "gradient_penalty", "interpolate"]


def _differentiable(t) -> bool:
    return torch.is_tensor(t) and t.is_floating_point()


def interpolate(real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """``eps * real + (1 - eps) * fake`` with ``eps`` broadcast over all but the batch dim."""
    eps = eps.reshape(-1, *([1] * (real.dim() - 1)))
    return eps * real + (1 - eps) * fake


def _pack_eps(n: int, pack: int, like: torch.Tensor) -> torch.Tensor:
    if n % pack:
        raise ConfigError(f"a batch of {n} cannot be packed by {pack}; use a multiple")
    eps = torch.rand(n // pack, device=like.device, dtype=like.dtype)
    return eps.repeat_interleave(pack)


def _input_grads(critic, inputs: Sequence, scaler) -> list[torch.Tensor]:
    """Gradients of ``critic(*inputs).sum()`` w.r.t. the floating inputs, with a graph."""
    wrt = [t for t in inputs if _differentiable(t)]
    # Sum in fp32: under fp16 autocast a half-precision sum times the GradScaler's scale
    # (2**16 by default) overflows to inf and the penalty turns NaN.
    out = critic(*inputs).float().sum()
    if scaler is None:
        return list(torch.autograd.grad(out, wrt, create_graph=True))
    # The scaled gradient can still overflow inside the fp16 backward (2**16 itself exceeds
    # fp16's max). The GradScaler would skip such a step, but the penalty *value* would be NaN
    # and stop training, so back off the scale for this gradient only until it is finite.
    scale = float(scaler.get_scale())
    while True:
        grads = torch.autograd.grad(out * scale, wrt, create_graph=True)
        if scale <= 1.0 or all(bool(torch.isfinite(g).all()) for g in grads):
            return [g / scale for g in grads]
        scale = max(1.0, scale / 2.0**4)


def _per_example(grads: list[torch.Tensor], pack: int) -> torch.Tensor:
    """All gradients of one example (pack) as one row."""
    return torch.cat([g.float().reshape(len(g) // pack, -1) for g in grads], dim=1)


def _as_tuple(inputs) -> tuple:
    return (inputs,) if torch.is_tensor(inputs) else tuple(inputs)


def _leaves(inputs) -> tuple:
    inputs = _as_tuple(inputs)
    return tuple(t.detach().requires_grad_(True) if _differentiable(t) else t for t in inputs)


def grad_sq_norm(
    critic: Callable[..., torch.Tensor],
    inputs: torch.Tensor | Sequence,
    scaler: torch.amp.GradScaler | None = None,
) -> torch.Tensor:
    """Mean over examples (packs) of ``||grad critic(*inputs)||_2^2`` w.r.t. the float inputs
    (``inputs``: one tensor or a tuple of the critic's arguments)."""
    pack = int(getattr(critic, "pack", 1))
    return _per_example(_input_grads(critic, _leaves(inputs), scaler), pack).pow(2).sum(1).mean()


def gradient_penalty(
    critic: Callable[..., torch.Tensor],
    real: torch.Tensor | Sequence,
    fake: torch.Tensor | Sequence,
    center: float = 1.0,
    scaler: torch.amp.GradScaler | None = None,
) -> torch.Tensor:
    """Mean of ``(||grad critic(x_hat)||_2 - center)^2`` over random interpolates ``x_hat`` of
    the float inputs (non-float inputs such as labels are taken from ``real``)."""
    real, fake = _as_tuple(real), _as_tuple(fake)
    pack = int(getattr(critic, "pack", 1))
    n = len(next(t for t in real if _differentiable(t)))
    eps = _pack_eps(n, pack, next(t for t in real if _differentiable(t)))
    mixed = tuple(
        interpolate(r.detach(), f.detach(), eps) if _differentiable(r) else r
        for r, f in zip(real, fake)
    )
    norm = _per_example(_input_grads(critic, _leaves(mixed), scaler), pack).norm(2, dim=1)
    return ((norm - center) ** 2).mean()
