"""Elementwise monotone transformers: the part of a coupling or autoregressive layer that maps
each variable given its parameters (Huang et al. 2018, NAF, Sec. 2, call it the transformer and
the network that produces its parameters the conditioner; Papamakarios et al. 2021, Sec. 3.1).

A ``Transformer`` maps ``x[..., D]`` with parameters ``params[..., D, P]`` to ``y`` and reports
the log-derivative of every element (the Jacobian of an elementwise map is diagonal). Those with
a closed-form inverse override ``inverse``; the others are inverted by bisection, which needs
only monotonicity: the bracket is widened until it holds the target, then halved until it is
narrower than ``tol`` or than the float resolution (or ``max_iter`` halvings); a target that no
input reaches (outside a bounded map's range) gives NaN. A final Newton step carries the
implicit-function gradients, so the inverse is differentiable too.

Example::

    tr = RQSpline(bins=8)
    y, ld = tr(torch.randn(5, 2), torch.zeros(5, 2, tr.num_params))
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Transformer"]


class Transformer(nn.Module):
    """Base class: ``forward(x, params) -> (y, log dy/dx)`` elementwise; ``num_params`` = P."""

    num_params: int

    def __init__(self, tol: float = 1e-10, max_iter: int = 200):
        super().__init__()
        self.tol, self.max_iter = float(tol), int(max_iter)

    def forward(self, x: torch.Tensor, params: torch.Tensor):
        raise NotImplementedError

    @torch.no_grad()
    def _bisect(self, y: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        lo, hi = y.new_full(y.shape, -1.0), y.new_full(y.shape, 1.0)
        for _ in range(64):  # a bracket of [-2^64, 2^64] holds every reachable float target
            below = self(lo, params)[0] > y
            above = self(hi, params)[0] < y
            if not (below.any() or above.any()):
                break
            lo = torch.where(below, 2 * lo, lo)
            hi = torch.where(above, 2 * hi, hi)
        # a target still outside the bracket is outside the map's range (a bounded map such as
        # the deep sigmoidal one): it has no preimage, and NaN says so
        missing = below | above
        for _ in range(self.max_iter):
            mid = 0.5 * (lo + hi)
            # done at the tolerance, or where no float lies between the ends
            if ((hi - lo <= self.tol) | (mid == lo) | (mid == hi)).all():
                break
            up = self(mid, params)[0] > y
            hi, lo = torch.where(up, mid, hi), torch.where(up, lo, mid)
        return torch.where(missing, torch.nan, 0.5 * (lo + hi))

    def inverse(self, y: torch.Tensor, params: torch.Tensor):
        """``(x, log dx/dy)``; by bisection unless a subclass has a closed form."""
        x0 = self._bisect(y, params)
        fx, ld = self(x0, params)
        # one Newton step: the value stays at the root (to float resolution), and its gradients
        # are the implicit ones, dx/dy = 1 / f'(x) and dx/dtheta = -(df/dtheta) / f'(x)
        x = x0 + (y - fx) / ld.detach().exp()
        return x, -self(x, params)[1]
