"""Shared machinery of the variational-inference flows (planar, radial, Sylvester).

Rezende & Mohamed (2015) and van den Berg et al. (2018) use these layers in two ways: with free
parameters (fitting a fixed target energy) and *amortized*, with the parameters of every layer
produced per example by the VAE encoder. ``ParamLayer`` supports both: with ``context_dim = 0``
its raw parameters are an ``nn.Parameter``; otherwise a linear head maps the context (e.g. the
encoder's features) to them. The head starts at the free layer's initial values (bias) with a
small weight, so an amortized flow starts close to the same map for every example.

These layers are closed-form in the *generative* direction ``z -> x``, which is their
``inverse`` here (the ``Transform`` convention: ``forward`` normalizes data to noise).
``forward`` is a numerical inverse where one exists, computed by bisection on a monotone scalar
equation (``bisect``); it is for checks and density evaluation, not for training.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from gens.flows.transforms.base import Transform
from gens.utils.errors import ConfigError

__all__ = ["ParamLayer", "bisect"]


class ParamLayer(Transform):
    """A transform whose raw parameter vector is free or a linear function of the context."""

    num_params: int

    def __init__(self, num_params: int, context_dim: int = 0):
        super().__init__()
        self.num_params, self.context_dim = int(num_params), int(context_dim)
        init = self.init_params()
        if self.context_dim:
            self.head = nn.Linear(self.context_dim, self.num_params)
            with torch.no_grad():
                self.head.weight.mul_(0.01)
                self.head.bias.copy_(init)
        else:
            self.raw = nn.Parameter(init)

    def init_params(self) -> torch.Tensor:
        return 0.1 * torch.randn(self.num_params)

    def params(self, n: int, context: torch.Tensor | None) -> torch.Tensor:
        """Raw parameters ``[n, num_params]``, one row per example."""
        if not self.context_dim:
            return self.raw.expand(n, self.num_params)
        if context is None:
            raise ConfigError(
                f"{type(self).__name__} is amortized (context_dim > 0); pass context"
            )
        return self.head(context)


@torch.no_grad()
def bisect(
    fn: Callable[[torch.Tensor], torch.Tensor],
    target: torch.Tensor,
    lo: torch.Tensor,
    hi: torch.Tensor,
    iters: int = 60,
) -> torch.Tensor:
    """Elementwise solution of ``fn(a) = target`` for increasing ``fn`` on ``[lo, hi]``.

    The bracket halves every step: 60 steps reach float32 resolution from any finite bracket.
    """
    lo, hi = lo.clone(), hi.clone()
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        above = fn(mid) > target
        hi = torch.where(above, mid, hi)
        lo = torch.where(above, lo, mid)
    return 0.5 * (lo + hi)
