"""Checks and builders shared by the flow tests."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["perturb_", "random_context", "autograd_logdet", "assert_grads_reach_every_parameter"]


@torch.no_grad()
def perturb_(module: nn.Module, scale: float = 0.1, seed: int = 0) -> nn.Module:
    """Add seeded noise to every parameter: zero-initialized last layers (MADE, ZeroConv2d,
    coupling nets) would otherwise make many transforms start as the identity."""
    g = torch.Generator().manual_seed(seed)
    for p in module.parameters():
        p.add_(scale * torch.randn(p.shape, generator=g).to(p))
    return module


def random_context(shape: tuple[int, ...] | None, n: int, dtype=torch.float32, seed: int = 0):
    """Conditioning input ``[n, *shape]`` (``None`` for an unconditional transform)."""
    if shape is None:
        return None
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, *shape, generator=g).to(dtype)


def autograd_logdet(
    fn: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor],
    x: torch.Tensor,
    context: torch.Tensor | None,
) -> torch.Tensor:
    """log|det| of the Jacobian of ``fn`` (flattened, one example at a time) per example."""
    out = []
    for i in range(len(x)):
        ci = None if context is None else context[i : i + 1]

        def flat(v, ci=ci):
            return fn(v.view(1, *x.shape[1:]), ci).flatten()

        jac = torch.autograd.functional.jacobian(flat, x[i].flatten())
        out.append(torch.linalg.slogdet(jac)[1])
    return torch.stack(out)


def assert_grads_reach_every_parameter(module: nn.Module) -> None:
    """After a backward pass: every parameter has a finite, non-zero gradient."""
    for name, p in module.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{name} has a non-finite gradient"
        assert p.grad.abs().sum() > 0, f"{name} got a zero gradient"
