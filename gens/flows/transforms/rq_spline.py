"""Monotonic rational-quadratic splines: Durkan, Bekasov, Murray & Papamakarios 2019, Neural
Spline Flows (after Gregory & Delbourgo 1982).

On ``[-B, B]`` the map is a spline of K rational-quadratic bins through K + 1 knots
``(x_k, y_k)`` with positive derivatives ``d_k`` at the knots; outside it is the identity. The
end knots sit exactly at ``(±B, ±B)`` and their derivatives are pinned to 1, so the map and its
derivative are continuous at ±B; the K - 1 inner derivatives are learnt. Within bin k, with
``s = (y_{k+1} - y_k) / (x_{k+1} - x_k)`` and ``xi = (x - x_k) / (x_{k+1} - x_k)`` (eq. 4):

    y = y_k + (y_{k+1} - y_k) [s xi^2 + d_k xi (1 - xi)] / [s + (d_{k+1} + d_k - 2 s) xi (1 - xi)]

Its inverse solves a quadratic ``a xi^2 + b xi + c = 0`` (App. A.3); the root is taken as
``2c / (-b - sqrt(b^2 - 4ac))``, which does not cancel catastrophically when ``a`` is small.
Raw network outputs become bins through a softmax with a minimum width/height and a softplus
with a minimum derivative (the floors keep every bin invertible in float32).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from gens.flows.transforms.transformer import Transformer
from gens.utils.errors import ConfigError

__all__ = ["BinnedSpline", "RQSpline", "rq_knots", "rq_spline"]


def _softmax(raw: torch.Tensor) -> torch.Tensor:
    # torch.softmax over a last dimension of a few bins is several times slower on CPU than the
    # same max-shifted exponentials written out
    e = (raw - raw.amax(dim=-1, keepdim=True)).exp()
    return e / e.sum(dim=-1, keepdim=True)


def _positions(raw: torch.Tensor, bound: float, minimum: float) -> torch.Tensor:
    """Softmax bin sizes with a floor, cumulated to K + 1 knots with the ends exactly at ±B."""
    k = raw.shape[-1]
    sizes = minimum + (1 - minimum * k) * _softmax(raw)
    # the inner K - 1 knots; the ends are set, not summed: a softmax's sum misses 1 by rounding
    inner = torch.cumsum(sizes[..., :-1], dim=-1) * (2 * bound) - bound
    return F.pad(F.pad(inner, (1, 0), value=-bound), (0, 1), value=bound)


def rq_knots(
    widths: torch.Tensor,
    heights: torch.Tensor,
    derivatives: torch.Tensor,
    bound: float,
    min_width: float = 1e-3,
    min_height: float = 1e-3,
    min_derivative: float = 1e-3,
):
    """Raw ``[..., K]``, ``[..., K]``, ``[..., K-1]`` -> knots ``xk, yk, dk``, each ``[..., K+1]``.

    Zero raw derivatives give inner derivatives of exactly 1 (with equal bins: the identity)."""
    xk = _positions(widths, bound, min_width)
    yk = _positions(heights, bound, min_height)
    shift = math.log(math.expm1(1 - min_derivative))
    inner = min_derivative + F.softplus(derivatives + shift)
    dk = F.pad(inner, (1, 1), value=1.0)
    return xk, yk, dk


def _gather(t: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    return t.gather(-1, idx[..., None])[..., 0]


def rq_spline(x, xk, yk, dk, inverse: bool = False):
    """The spline (or its inverse) at ``x [...]`` with knots ``[..., K+1]``: ``(y, log|dy/dx|)``
    with identity tails outside the knots' range; the log-derivative is of the direction taken."""
    lo, hi = (yk[..., 0], yk[..., -1]) if inverse else (xk[..., 0], xk[..., -1])
    inside = (x >= lo) & (x <= hi)
    xc = torch.where(inside, x, torch.zeros_like(x))  # tails must not reach the bin formulas
    ref = yk if inverse else xk
    k = torch.searchsorted(ref[..., 1:-1].contiguous(), xc[..., None], right=True)[..., 0]
    x0, x1 = _gather(xk, k), _gather(xk, k + 1)
    y0, y1 = _gather(yk, k), _gather(yk, k + 1)
    d0, d1 = _gather(dk, k), _gather(dk, k + 1)
    w, h = x1 - x0, y1 - y0
    s = h / w
    if inverse:
        r = xc - y0
        c2 = d0 + d1 - 2 * s
        a = h * (s - d0) + r * c2
        b = h * d0 - r * c2
        c = -s * r
        disc = (b.pow(2) - 4 * a * c).clamp_min(0)
        xi = (2 * c / (-b - disc.sqrt())).clamp(0, 1)
        out = x0 + xi * w
    else:
        xi = ((xc - x0) / w).clamp(0, 1)
        c2 = d0 + d1 - 2 * s
    theta = xi * (1 - xi)
    denom = s + c2 * theta
    if not inverse:
        out = y0 + h * (s * xi.pow(2) + d0 * theta) / denom
    logd = (
        2 * torch.log(s)
        + torch.log(d1 * xi.pow(2) + 2 * s * theta + d0 * (1 - xi).pow(2))
        - 2 * torch.log(denom)
    )
    if inverse:
        logd = -logd
    return torch.where(inside, out, x), torch.where(inside, logd, torch.zeros_like(logd))


class BinnedSpline(Transformer):
    """A spline on ``[-bound, bound]`` (the identity outside) with ``bins`` bins, each at least
    ``min_width`` wide and ``min_height`` high as fractions of the interval."""

    min_bins = 1

    def __init__(
        self, bins: int = 8, bound: float = 5.0, min_width: float = 1e-3, min_height: float = 1e-3
    ):
        super().__init__()
        name = type(self).__name__
        if bound <= 0:
            raise ConfigError(f"{name}: the spline bound must be > 0, got {bound}")
        if int(bins) < self.min_bins:
            raise ConfigError(f"{name} needs bins >= {self.min_bins}, got {bins}")
        if min(min_width, min_height) * int(bins) >= 1 or min(min_width, min_height) < 0:
            raise ConfigError(
                f"{name}: min_width and min_height must be in [0, 1/bins), got {min_width}, "
                f"{min_height}"
            )
        self.bins, self.bound = int(bins), float(bound)
        self.mins: tuple[float, ...] = (float(min_width), float(min_height))


class RQSpline(BinnedSpline):
    """Rational-quadratic spline transformer with ``bins`` bins on ``[-bound, bound]``.

    Parameters per variable: K widths, K heights, K - 1 inner derivatives (P = 3K - 1)."""

    def __init__(self, *args, min_derivative: float = 1e-3, **kwargs):
        super().__init__(*args, **kwargs)
        if not 0 <= min_derivative < 1:
            raise ConfigError(f"min_derivative must be in [0, 1), got {min_derivative}")
        self.mins = (*self.mins, float(min_derivative))
        self.num_params = 3 * self.bins - 1

    def knots(self, params: torch.Tensor):
        k = self.bins
        # contiguous parts: elementwise kernels on the strided slices are several times slower
        w, h, d = (t.contiguous() for t in params.split((k, k, k - 1), dim=-1))
        return rq_knots(w, h, d, self.bound, *self.mins)

    def forward(self, x, params):
        return rq_spline(x, *self.knots(params))

    def inverse(self, y, params):
        return rq_spline(y, *self.knots(params), inverse=True)
