"""What MADE / MAF / IAF and planar / radial / Sylvester are known for, beyond the contract
every transform keeps (``tests/test_flow_contract.py``): MADE's autoregressive masks, MAF's
one-pass density / D-pass sampling (IAF the reverse), the orders between layers, and the
invertibility constraints of the VI flows under adversarial raw parameters.
"""

from __future__ import annotations

import pytest
import torch
from torch.autograd.functional import jacobian

from gens.flows import IAFLayer, MAFLayer, Planar, Radial, Sylvester, iaf, layer_orders, maf
from gens.flows.transforms.sylvester import bjorck_q, householder_q
from gens.nets.made import MADE
from gens.utils.errors import ConfigError, IncompatibleDataError
from tests.helpers.flows import perturb_

D, C = 4, 3


def test_made_masks_are_autoregressive_in_the_given_order():
    torch.manual_seed(0)
    order = torch.tensor([2, 4, 1, 3])
    net = perturb_(MADE(D, 2, hidden=(12, 12), order=order, zero_init=False), 0.3).double()
    jac = jacobian(lambda v: net(v[None])[0], torch.randn(D, dtype=torch.float64))
    dep = jac.abs().sum(0) > 0  # [D out, D in]: does output i depend on input j?
    allowed = order[None, :] < order[:, None]
    assert not (dep & ~allowed).any()
    assert dep[allowed].all()  # and it does use every permitted input (hidden width suffices)


def test_made_random_degrees_and_context_reach_every_output():
    net = MADE(D, 1, hidden=(8,), context_dim=C, random_degrees=True, seed=3, zero_init=False)
    x, c = torch.randn(1, D), torch.randn(1, C)
    jac = jacobian(lambda cc: net(x, cc)[0, 0], c)
    assert (jac.abs().sum(1) > 0).all()
    with pytest.raises(ConfigError, match="pass a context"):
        net(x)
    with pytest.raises(ConfigError, match="permutation"):
        MADE(D, order=torch.tensor([1, 1, 2, 3]))


def _count_made_calls(module):
    calls = []
    for m in module.modules():
        if isinstance(m, MADE):
            m.register_forward_hook(lambda *a: calls.append(1))
    return calls


def test_maf_density_is_one_pass_and_sampling_d_passes_iaf_the_reverse():
    x = torch.randn(3, D)
    maf_layer, iaf_layer = MAFLayer(D, hidden=(8,)), IAFLayer(D, hidden=(8,))
    for layer, density_passes, sample_passes in ((maf_layer, 1, D), (iaf_layer, D, 1)):
        calls = _count_made_calls(layer)
        layer(x)
        assert len(calls) == density_passes
        calls.clear()
        layer.inverse(x)
        assert len(calls) == sample_passes


def test_layer_orders_permute_between_layers():
    rev = layer_orders(5, 3, "reverse")
    assert rev[1].tolist() == [5, 4, 3, 2, 1] and rev[2].tolist() == [1, 2, 3, 4, 5]
    rnd = layer_orders(5, 3, "random", seed=1)
    assert all(sorted(o.tolist()) == [1, 2, 3, 4, 5] for o in rnd)
    with pytest.raises(ConfigError, match="unknown permutation"):
        layer_orders(5, 2, "shuffle")


def test_autoregressive_flows_refuse_another_number_of_features():
    t = maf((1, 2, 2), num_layers=2, hidden=(8,))
    with pytest.raises(ConfigError, match="built for 4 features"):
        t(torch.randn(3, 5))


def test_planar_constraint_holds_for_adversarial_parameters():
    layer = Planar(D)
    with torch.no_grad():  # raw u anti-aligned with w: w.u = -8 would break invertibility
        layer.raw[:D] = -2.0 * torch.ones(D)
        layer.raw[D : 2 * D] = 1.0 * torch.ones(D)
    u, w, b = layer._uwb(1, None)
    wu = float((w * u).sum().detach())
    assert wu > -1
    a = torch.linspace(-30, 30, 20001)  # the map along w is increasing, hence injective
    g = a + wu * torch.tanh(a + b)
    assert (g.diff() > 0).all()
    z = torch.randn(200, D)
    x, ld = layer.inverse(z)
    assert torch.isfinite(ld).all()
    assert torch.allclose(layer(x)[0], z, atol=1e-4)


def test_radial_constraint_and_monotone_radius():
    layer = Radial(2)
    with torch.no_grad():
        layer.raw[-2:] = torch.tensor([0.5, -8.0])  # beta pushed to its bound -alpha
        _, alpha, beta = layer._params(1, None)
    assert float(beta) > -float(alpha)
    r = torch.linspace(0, 10, 10001)
    r_out = r * (1 + beta / (alpha + r))
    assert (r_out.diff() > 0).all()


def test_sylvester_constraints_and_orthogonality():
    layer = Sylvester(D, num_ortho=3)
    with torch.no_grad():
        layer.raw.mul_(40)  # huge raw values: the diagonal products must stay in (-1, 1)
    q, r, r_t, _ = layer._params(1, None)
    prod = torch.diagonal(r, dim1=1, dim2=2) * torch.diagonal(r_t, dim1=1, dim2=2)
    assert (prod > -1).all() and (prod < 1).all()
    assert torch.allclose(torch.triu(r), r) and torch.allclose(torch.triu(r_t), r_t)
    eye = torch.eye(3)
    assert torch.allclose(q[0].T @ q[0], eye, atol=1e-5)
    hq = householder_q(torch.randn(2, 5, 6), 4)
    assert torch.allclose(hq.transpose(1, 2) @ hq, torch.eye(4).expand(2, 4, 4), atol=1e-5)
    bq = bjorck_q(torch.randn(2, 6, 3) + torch.eye(6, 3), steps=40)
    assert torch.allclose(bq.transpose(1, 2) @ bq, torch.eye(3).expand(2, 3, 3), atol=1e-4)
    with pytest.raises(ConfigError, match="unknown Sylvester"):
        Sylvester(D, q="givens")
    with pytest.raises(ConfigError, match="num_ortho"):
        Sylvester(D, num_ortho=7)


def test_amortized_layer_needs_context():
    with pytest.raises(ConfigError, match="pass context"):
        Planar(D, context_dim=C).inverse(torch.randn(2, D))


def test_iaf_refuses_dimensions_too_large_for_sequential_density():
    with pytest.raises(IncompatibleDataError, match="max_dim"):
        iaf((1, 32, 32), num_layers=1, hidden=(8,))
    assert len(iaf((1, 32, 32), num_layers=1, hidden=(8,), max_dim=None).transforms) == 1
