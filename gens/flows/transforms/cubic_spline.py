"""Monotonic cubic splines: Durkan, Bekasov, Murray & Papamakarios 2019, Cubic-Spline Flows
(ICML INNF workshop), as in nflows ``splines/cubic.py``.

On ``[-B, B]`` a piecewise cubic through K + 1 knots (identity outside; the end knots sit at
±B, so the map is continuous there). Monotonicity comes from the knot derivatives: at an inner
knot Steffen's (1990) choice ``2 min(s_{k-1}, s_k, (w_k s_{k-1} + w_{k-1} s_k) / (2 (w_{k-1}
+ w_k)))`` of the neighbouring bin slopes s; at the two ends ``3 s sigmoid(raw)``, inside the
Fritsch-Carlson bound (0, 3 s). Within bin k, with ``u = x - x_k``:

    y = a u^3 + b u^2 + c u + y_k,   c = d_k,  b = (3 s - 2 d_k - d_{k+1}) / w,
    a = (d_k + d_{k+1} - 2 s) / w^2.

The inverse solves that cubic for its one root in ``[0, w]``: Cardano's formula where the
discriminant is positive (one real root), the trigonometric form where it is not (three real
roots, the one inside the bin is chosen), and the stable quadratic root ``-2e / (c + sqrt(c^2
- 4 b e))`` where ``|a|`` is too small for either. Newton steps, kept inside the bin, then
polish the root: in float32 the closed forms can land far from it in steep, narrow bins.
"""

from __future__ import annotations

import math

import torch

from gens.flows.transforms.rq_spline import BinnedSpline, _gather, _positions

__all__ = ["CubicSpline"]

NEWTON_STEPS = 8  # enough for float32 in every bin the floors allow


def _cbrt(x: torch.Tensor) -> torch.Tensor:
    return torch.sign(x) * x.abs().pow(1.0 / 3.0)


def _cubic_root_in_bin(a, b, c, e, w):
    """The root of ``a u^3 + b u^2 + c u + e`` in ``[0, w]`` (the cubic increases there)."""
    small = a.abs() < 1e-3 * (b.abs() + c.abs()) / w.clamp_min(1e-12)
    a_safe = torch.where(small, torch.ones_like(a), a)
    shift = b / (3 * a_safe)
    p = (3 * a_safe * c - b**2) / (3 * a_safe**2)
    q = (2 * b**3 - 9 * a_safe * b * c + 27 * a_safe**2 * e) / (27 * a_safe**3)
    disc = (q / 2) ** 2 + (p / 3) ** 3
    one = _cbrt(-q / 2 + disc.clamp_min(0).sqrt()) + _cbrt(-q / 2 - disc.clamp_min(0).sqrt())
    p_neg = p.clamp_max(-1e-30)
    r = 2 * (-p_neg / 3).sqrt()
    phi = torch.acos(((3 * q) / (2 * p_neg) * (-3 / p_neg).sqrt()).clamp(-1, 1)) / 3
    three = torch.stack([r * torch.cos(phi - 2 * math.pi * k / 3) for k in range(3)], -1)
    cands = torch.where((disc > 0)[..., None], one[..., None].expand_as(three), three)
    cands = cands - shift[..., None]
    # the quadratic branch: b u^2 + c u + e = 0, the root continued from u = 0
    quad = -2 * e / (c + (c**2 - 4 * b * e).clamp_min(0).sqrt())
    cands = torch.where(small[..., None], quad[..., None].expand_as(cands), cands)
    cands = torch.nan_to_num(cands, nan=0.0, posinf=0.0, neginf=0.0)
    outside = (cands.clamp_min(0) - cands) + (cands - w[..., None]).clamp_min(0)
    best = cands.gather(-1, outside.argmin(-1, keepdim=True))[..., 0]
    u = torch.min(best.clamp_min(0), w)
    for _ in range(NEWTON_STEPS):
        f = ((a * u + b) * u + c) * u + e
        df = ((3 * a * u + 2 * b) * u + c).clamp_min(1e-12)
        u = torch.min((u - f / df).clamp_min(0), w)
    return u


class CubicSpline(BinnedSpline):
    """Monotone cubic spline transformer: K widths, K heights, 2 end derivatives (P = 2K + 2)."""

    min_bins = 2

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.num_params = 2 * self.bins + 2

    def knots(self, params: torch.Tensor):
        k = self.bins
        xk = _positions(params[..., :k], self.bound, self.mins[0])
        yk = _positions(params[..., k : 2 * k], self.bound, self.mins[1])
        w, h = xk.diff(dim=-1), yk.diff(dim=-1)
        s = h / w
        steffen = (w[..., 1:] * s[..., :-1] + w[..., :-1] * s[..., 1:]) / (
            2 * (w[..., :-1] + w[..., 1:])
        )
        inner = 2 * torch.min(torch.min(s[..., :-1], s[..., 1:]), steffen)
        left = 3 * s[..., :1] * torch.sigmoid(params[..., 2 * k : 2 * k + 1])
        right = 3 * s[..., -1:] * torch.sigmoid(params[..., 2 * k + 1 :])
        return xk, yk, torch.cat([left, inner, right], -1)

    def _bin(self, v, params, inverse: bool):
        xk, yk, dk = self.knots(params)
        inside = (v >= -self.bound) & (v <= self.bound)
        vc = torch.where(inside, v, torch.zeros_like(v))
        ref = yk if inverse else xk
        idx = torch.searchsorted(ref[..., 1:-1].contiguous(), vc[..., None], right=True)[..., 0]
        x0, x1 = _gather(xk, idx), _gather(xk, idx + 1)
        y0, y1 = _gather(yk, idx), _gather(yk, idx + 1)
        d0, d1 = _gather(dk, idx), _gather(dk, idx + 1)
        w = x1 - x0
        s = (y1 - y0) / w
        a = (d0 + d1 - 2 * s) / w**2
        b = (3 * s - 2 * d0 - d1) / w
        return inside, vc, x0, y0, w, a, b, d0

    def forward(self, x, params):
        inside, xc, x0, y0, w, a, b, c = self._bin(x, params, inverse=False)
        u = torch.min((xc - x0).clamp_min(0), w)
        y = ((a * u + b) * u + c) * u + y0
        deriv = (3 * a * u + 2 * b) * u + c
        ld = torch.where(inside, deriv.clamp_min(1e-30).log(), torch.zeros_like(x))
        return torch.where(inside, y, x), ld

    def inverse(self, y, params):
        inside, yc, x0, y0, w, a, b, c = self._bin(y, params, inverse=True)
        u = _cubic_root_in_bin(a, b, c, y0 - yc, w)
        x = torch.where(inside, x0 + u, y)
        return x, -self(x, params)[1]
