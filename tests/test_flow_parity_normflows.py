"""Our Residual Flow block (``gens.flows.transforms.residual.ResidualBlock`` around
``gens.nets.lipschitz`` layers; Chen et al. 2019, Residual Flows) against normflows'
``Residual`` around its ``LipschitzMLP``, with the same weights, in float64.

What is compared. normflows' branch is ``Swish -> Linear -> Swish -> Linear`` (an activation
before every layer), so ours is assembled in that order from our LipSwish and LipschitzLinear;
the raw weights, biases and the activations' learnt beta are copied across. Both normalize a
weight softly, ``W / max(1, sigma / c)``, with sigma from a power iteration whose state
differs (normflows keeps its singular vectors from explicit updates and reuses them as they
are; ours refines them in every call up to a tolerance). Both are therefore run to
convergence (normflows' ``compute_weight(update=True)`` with many iterations; ours with a tight
tolerance), so the effective weights are the same, and the raw weights are scaled up so that
the normalization is active. normflows takes ``max(1, sigma / c)`` against a float32 one, which
rounds the factor to float32: the effective weights, and so everything after, agree to that
rounding (relative 6e-8), not to float64's. Then, in evaluation:

- 2-D: normflows' "exact" option computes log|det(I + J_g)| by brute force; ours takes the
  exact log-det (slogdet of the full Jacobian) at this size;
- 3-D: normflows' ``exact_trace=True`` sums the log-det's power series with exact traces (20
  terms always, then a random geometric number more, reweighted); with Lip(g) <= c^2 = 0.25
  the terms past the 20th are below 1e-12, so it equals the exact log-det to that accuracy.

Forward outputs and log-dets must agree, and so must the inverses: normflows' public inverse
stops its fixed-point iteration when the squared step is below 1e-5 (about 3e-3 per
coordinate), so it is compared at that accuracy, and its fixed-point routine with a tight
tolerance at float64 accuracy.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gens.flows.transforms.residual import ResidualBlock
from gens.nets.lipschitz import LipschitzLinear, LipSwish

nf = pytest.importorskip("normflows")

COEFF, HIDDEN = 0.5, 16
F32 = 2e-7  # normflows' float32 normalization factor (see above), with headroom


def _pair(dim: int, seed: int = 0):
    """normflows' block and ours with the same weights and converged normalizations."""
    torch.manual_seed(seed)
    net = nf.nets.LipschitzMLP(
        [dim, HIDDEN, dim], lipschitz_const=COEFF, max_lipschitz_iter=5, init_zeros=False
    )
    theirs = nf.flows.Residual(net, reverse=False, exact_trace=True).double().eval()
    g = nn.Sequential(
        LipSwish(),
        LipschitzLinear(dim, HIDDEN, COEFF, tol=1e-15, max_iter=500),
        LipSwish(),
        LipschitzLinear(HIDDEN, dim, COEFF, tol=1e-15, max_iter=500),
    )
    ours = ResidualBlock(g, exact_max_dim=16).double().eval()
    with torch.no_grad():
        for a, b in zip(net.net, g, strict=True):
            if isinstance(a, nf.nets.InducedNormLinear):
                a.weight.mul_(3.0)  # sigma > c: the normalization divides
                b.weight.copy_(a.weight)
                b.bias.copy_(a.bias)
                a.compute_weight(update=True, n_iterations=500)
                assert a.scale > COEFF
            else:
                a.beta.fill_(0.3 + 0.4 * seed)
                b.beta.fill_(0.3 + 0.4 * seed)
    return theirs, ours


def _inputs(dim: int, n: int = 64) -> torch.Tensor:
    g = torch.Generator().manual_seed(dim)
    return 1.5 * torch.randn(n, dim, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("dim", [2, 3])
def test_same_effective_weights(dim):
    theirs, ours = _pair(dim)
    lin_t = [m for m in theirs.modules() if isinstance(m, nf.nets.InducedNormLinear)]
    lin_o = [m for m in ours.modules() if isinstance(m, LipschitzLinear)]
    for a, b in zip(lin_t, lin_o, strict=True):
        with torch.no_grad():
            w_t = a.compute_weight(update=False)
            w_o = b.normalized_weight()
        torch.testing.assert_close(w_o, w_t, atol=0, rtol=F32)
        assert torch.linalg.matrix_norm(w_o, ord=2) == pytest.approx(COEFF, rel=1e-10)


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_forward_and_exact_log_det_match(dim, seed):
    theirs, ours = _pair(dim, seed)
    x = _inputs(dim)
    np.random.seed(seed)  # normflows draws the series' extra terms with numpy
    z_t, ld_t = theirs(x.clone())
    z_o, ld_o = ours(x)
    torch.testing.assert_close(z_o, z_t.detach(), atol=F32, rtol=F32)
    torch.testing.assert_close(ld_o, ld_t.detach(), atol=F32, rtol=F32)
    assert ld_o.abs().max() > 1e-2  # a log-det that is not trivially zero


@pytest.mark.parametrize("dim", [2, 3])
def test_inverse_matches(dim):
    theirs, ours = _pair(dim)
    z = _inputs(dim)
    x_o, ld_o = ours.inverse(z)
    torch.testing.assert_close(ours(x_o)[0], z, atol=1e-10, rtol=0)
    np.random.seed(0)
    x_t, ld_t = theirs.inverse(z.clone())
    torch.testing.assert_close(x_o, x_t.detach(), atol=5e-3, rtol=0)
    # normflows' fixed-point routine run to float64 accuracy
    x_tight = theirs.iresblock._inverse_fixed_point(z.clone(), atol=1e-24, rtol=0.0)
    torch.testing.assert_close(x_o, x_tight.detach(), atol=F32, rtol=0)
    np.random.seed(0)
    _, ld_tight = theirs(x_tight.detach().clone())
    torch.testing.assert_close(ld_o, -ld_tight.detach(), atol=F32, rtol=F32)
