"""Rational-quadratic splines (Durkan et al. 2019): the knots, the tails, and parity with zuko's
``MonotonicRQSTransform`` at the knot level (the two libraries squash raw parameters
differently, so each evaluates the other's knots)."""

from __future__ import annotations

from functools import partial

import pytest
import torch

from gens.flows import CubicSpline, RQSpline, elementwise_flow
from gens.flows.transforms.rq_spline import rq_knots, rq_spline
from gens.utils.errors import ConfigError

zuko = pytest.importorskip("zuko")

K, B = 6, 3.0


def _params(n: int = 50, d: int = 2, scale: float = 1.5, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, d, 3 * K - 1, generator=g, dtype=torch.float64)


def test_knots_end_exactly_at_the_bound_with_unit_boundary_slopes_and_floors():
    tr = RQSpline(K, B, min_width=0.01, min_height=0.02, min_derivative=0.05)
    p = _params(scale=20.0)  # extreme raw values push every floor
    xk, yk, dk = tr.knots(p)
    assert torch.equal(xk[..., 0], torch.full_like(xk[..., 0], -B))
    assert torch.equal(xk[..., -1], torch.full_like(xk[..., -1], B))
    assert torch.equal(yk[..., 0], xk[..., 0]) and torch.equal(yk[..., -1], xk[..., -1])
    assert torch.equal(dk[..., 0], torch.ones_like(dk[..., 0]))
    assert torch.equal(dk[..., -1], torch.ones_like(dk[..., -1]))
    assert xk.diff(dim=-1).min() >= 2 * B * 0.01 * (1 - 1e-9)
    assert yk.diff(dim=-1).min() >= 2 * B * 0.02 * (1 - 1e-9)
    assert dk.min() >= 0.05
    assert tr.num_params == 3 * K - 1


def test_zero_parameters_give_the_identity():
    tr = RQSpline(K, B)
    x = torch.linspace(-5, 5, 101, dtype=torch.float64)[:, None]
    y, ld = tr(x, torch.zeros(101, 1, tr.num_params, dtype=torch.float64))
    torch.testing.assert_close(y, x)
    torch.testing.assert_close(ld, torch.zeros_like(ld))


def _value_and_slope(tr, x, p):
    x = x.clone().requires_grad_(True)
    y, ld = tr(x, p)
    (g,) = torch.autograd.grad(y.sum(), x)
    return y.detach(), g, ld.exp().detach()


def test_continuous_with_unit_slope_across_the_bound():
    tr = RQSpline(K, B)
    p = _params(4, 1)
    eps = 1e-10
    for edge in (-B, B):
        x_in = torch.full((4, 1), edge - eps * (edge > 0) + eps * (edge < 0), dtype=p.dtype)
        x_out = torch.full((4, 1), edge + eps * (edge > 0) - eps * (edge < 0), dtype=p.dtype)
        y_in, g_in, d_in = _value_and_slope(tr, x_in, p)
        y_out, g_out, d_out = _value_and_slope(tr, x_out, p)
        torch.testing.assert_close(y_in, y_out, atol=1e-6, rtol=0)
        torch.testing.assert_close(d_in, torch.ones_like(d_in), atol=1e-5, rtol=0)
        torch.testing.assert_close(g_in, d_in)
        assert torch.equal(y_out, x_out) and torch.equal(d_out, torch.ones_like(d_out))


def test_zuko_knots_through_our_spline_match_zuko():
    p = _params()
    x = 4 * torch.randn(50, 2, dtype=p.dtype)  # inside and outside [-B, B]
    z = zuko.transforms.MonotonicRQSTransform(p[..., :K], p[..., K : 2 * K], p[..., 2 * K :], B)
    y_z, ld_z = z.call_and_ladj(x)
    y, ld = rq_spline(x, z.horizontal, z.vertical, z.derivatives)
    torch.testing.assert_close(y, y_z)
    torch.testing.assert_close(ld, ld_z)
    x_back, ild = rq_spline(y, z.horizontal, z.vertical, z.derivatives, inverse=True)
    torch.testing.assert_close(x_back, z.inv(y_z))
    torch.testing.assert_close(ild, -ld)


def test_our_knots_through_zukos_spline_match_ours():
    tr = RQSpline(K, B)
    p = _params(seed=1)
    x = 4 * torch.randn(50, 2, dtype=p.dtype)
    z = zuko.transforms.MonotonicRQSTransform(p[..., :K], p[..., K : 2 * K], p[..., 2 * K :], B)
    z.horizontal, z.vertical, z.derivatives = tr.knots(p)
    y_z, ld_z = z.call_and_ladj(x)
    y, ld = tr(x, p)
    torch.testing.assert_close(y, y_z)
    torch.testing.assert_close(ld, ld_z)
    torch.testing.assert_close(tr.inverse(y, p)[0], z.inv(y_z))


def test_inverse_is_stable_in_nearly_linear_bins_float32():
    # equal widths and heights with slopes near s make a -> 0, where the textbook root
    # (-b + sqrt(b^2 - 4ac)) / 2a cancels; 2c / (-b - sqrt(.)) does not
    xk, yk, dk = rq_knots(torch.zeros(1, K), torch.zeros(1, K), 1e-4 * torch.randn(1, K - 1), B)
    x = torch.linspace(-B, B, 1001)[:, None].expand(-1, 1).reshape(1, -1)
    xk, yk, dk = (t.expand(x.shape[1], -1).reshape(1, x.shape[1], -1) for t in (xk, yk, dk))
    y, _ = rq_spline(x, xk, yk, dk)
    x_back, _ = rq_spline(y, xk, yk, dk, inverse=True)
    assert torch.isfinite(x_back).all()
    torch.testing.assert_close(x_back, x, atol=2e-6, rtol=0)


@pytest.mark.parametrize("bound", [0.0, -1.0])
def test_a_bound_that_is_not_positive_is_a_one_line_error(bound):
    with pytest.raises(ConfigError, match="spline bound must be > 0") as err:
        elementwise_flow((2,), partial(RQSpline, bound=bound))
    assert "\n" not in str(err.value)


def test_cubic_spline_is_monotone_meets_its_tails_and_inverts():
    tr = CubicSpline(K, B)
    p = _params(2000, 1, scale=2.0)
    xk, yk, dk = tr.knots(p)
    assert (dk > 0).all() and torch.equal(xk[..., -1], torch.full_like(xk[..., -1], B))
    x = torch.empty(2000, 1, dtype=p.dtype).uniform_(-B, B)
    y, ld = tr(x, p)
    back, ild = tr.inverse(y, p)
    torch.testing.assert_close(back, x, atol=1e-10, rtol=0)
    torch.testing.assert_close(ild, -ld)
    for edge in (-B, B):  # the cubic meets the identity tails
        inside = torch.full((2000, 1), edge, dtype=p.dtype)  # the last knot, in the bin
        torch.testing.assert_close(tr(inside, p)[0], inside, atol=1e-9, rtol=0)


def test_cubic_spline_bound_must_be_positive():
    with pytest.raises(ConfigError, match="spline bound must be > 0"):
        elementwise_flow((2,), partial(CubicSpline, bound=0.0))
