"""Our monotone cubic spline (``gens.flows.transforms.cubic_spline``, Durkan et al. 2019,
Cubic-Spline Flows) against nflows' ``unconstrained_cubic_spline``, in float64.

What is compared, and why at this level. The two squash raw parameters the same way, so the
test feeds both the same raw parameters and first checks that they build the same spline:

- widths and heights: ``min + (1 - K min) softmax(raw)``, cumulated to K + 1 knots with the
  ends pinned; nflows does it on the unit square and scales to [-B, B], we do it on [-B, B].
  Both axes scale by 2B, so the bin slopes s, and with them the derivatives, do not change;
- inner derivatives: Steffen's ``2 min(s_{k-1}, s_k, (w_k s_{k-1} + w_{k-1} s_k) /
  (2 (w_{k-1} + w_k)))``; nflows writes the factor 2 as ``sign(s_{k-1}) + sign(s_k)`` and
  takes |s|, the same for the positive slopes a softmax gives;
- end derivatives: ``3 s sigmoid(raw)`` (the Fritsch-Carlson bound).

nflows keeps its knots inside the function, so the knots are compared through it: at our knot
positions it must return our knot heights, and its derivative there (the exponential of its
log-det) our knot derivatives. Then forward outputs and log-dets at points inside and outside
[-B, B] (identity tails), and the inverse. The two inverses are different root-finders
(nflows: Blinn's closed forms, with a quadratic fallback where |a| < ``quadratic_threshold``
on the unit square, which drops the cubic term and so is approximate; ours: Cardano or the
trigonometric form, a stable quadratic, then Newton steps), so nflows' fallback is switched
off (threshold 0) and the roots must agree to float64 accuracy.
"""

from __future__ import annotations

import pytest
import torch

from gens.flows import CubicSpline

cubic = pytest.importorskip("nflows.transforms.splines.cubic")

K, B, MIN = 6, 3.0, 1e-3


def _params(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return 1.5 * torch.randn(n, 2 * K + 2, generator=g, dtype=torch.float64)


def _nflows(x: torch.Tensor, p: torch.Tensor, inverse: bool = False):
    return cubic.unconstrained_cubic_spline(
        x,
        p[:, :K],
        p[:, K : 2 * K],
        p[:, 2 * K : 2 * K + 1],
        p[:, 2 * K + 1 :],
        inverse=inverse,
        tail_bound=B,
        min_bin_width=MIN,
        min_bin_height=MIN,
        quadratic_threshold=0.0,
    )


def test_same_knots_heights_and_derivatives():
    ours = CubicSpline(K, B, MIN, MIN)
    p = _params(32)
    xk, yk, dk = ours.knots(p)
    # inner knots only: nflows' searchsorted puts x = B in no bin of its own
    at = xk[:, 1:-1]
    rows = p[:, None, :].expand(-1, K - 1, -1).reshape(-1, 2 * K + 2)
    y, ld = _nflows(at.reshape(-1), rows)
    torch.testing.assert_close(y, yk[:, 1:-1].reshape(-1), atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(ld.exp(), dk[:, 1:-1].reshape(-1), atol=1e-10, rtol=1e-10)
    # the end derivatives: nflows' slope at the lower end, ours from the knots
    y0, ld0 = _nflows(xk[:, 0], p)
    torch.testing.assert_close(y0, yk[:, 0], atol=1e-12, rtol=0)
    torch.testing.assert_close(ld0.exp(), dk[:, 0], atol=1e-10, rtol=1e-10)


def test_forward_outputs_and_log_dets_match():
    ours = CubicSpline(K, B, MIN, MIN)
    n = 4000
    p = _params(n, seed=1)
    g = torch.Generator().manual_seed(1)
    x = torch.empty(n, dtype=torch.float64).uniform_(-1.2 * B, 1.2 * B, generator=g)
    y, ld = ours(x, p)
    y_nf, ld_nf = _nflows(x, p)
    assert ((x.abs() > B).sum() > 100) and ((x.abs() < B).sum() > 1000)
    torch.testing.assert_close(y, y_nf, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(ld, ld_nf, atol=1e-9, rtol=1e-9)


def test_inverse_outputs_and_log_dets_match():
    ours = CubicSpline(K, B, MIN, MIN)
    n = 4000
    p = _params(n, seed=2)
    g = torch.Generator().manual_seed(2)
    y = torch.empty(n, dtype=torch.float64).uniform_(-1.2 * B, 1.2 * B, generator=g)
    x, ld = ours.inverse(y, p)
    x_nf, ld_nf = _nflows(y, p, inverse=True)
    # nflows takes the cubic's closed-form root, we refine ours by Newton steps: in the steepest
    # narrow bins the two land up to ~1e-8 apart
    torch.testing.assert_close(x, x_nf, atol=1e-7, rtol=1e-7)
    torch.testing.assert_close(ld, ld_nf, atol=1e-7, rtol=1e-7)
