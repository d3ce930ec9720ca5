"""Math of MADE / MAF / IAF and planar / radial / Sylvester, tested as math.

For every transform: inverse(forward(x)) = x, log|det J| equals the autograd Jacobian's, the two
directions' log-dets are negatives at matching points, gradients reach every parameter, and a
state-dict round trip reproduces the outputs. Plus the mechanisms each paper is known for: MADE's
autoregressive masks, MAF's one-pass density / D-pass sampling (IAF the reverse), and the
invertibility constraints of the VI flows under adversarial raw parameters.
"""

from __future__ import annotations

import pytest
import torch
from torch.autograd.functional import jacobian

from gens.flows import (
    Compose,
    IAFLayer,
    MAFLayer,
    Planar,
    Radial,
    Sylvester,
    iaf,
    layer_orders,
    made,
    maf,
)
from gens.flows.transforms.sylvester import bjorck_q, householder_q
from gens.nets.made import MADE
from gens.utils.errors import ConfigError

D, C = 4, 3


def _perturb(t):
    """Move parameters away from the identity initialization so the tests are not trivial."""
    torch.manual_seed(1)
    with torch.no_grad():
        for p in t.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return t


BUILDERS = {
    "maf_layer": lambda: MAFLayer(D, hidden=(16, 16), order=torch.tensor([3, 1, 4, 2])),
    "iaf_layer": lambda: IAFLayer(D, hidden=(16,)),
    "maf": lambda: maf((D,), num_layers=3, hidden=(16,), permutation="random"),
    "iaf": lambda: iaf((D,), num_layers=2, hidden=(16,)),
    "made": lambda: made((D,), hidden=(16,)),
    "maf_context": lambda: MAFLayer(D, hidden=(16,), context_dim=C),
    "planar": lambda: Compose([Planar(D), Planar(D)]),
    "radial": lambda: Compose([Radial(D), Radial(D)]),
    "sylvester_householder": lambda: Sylvester(D, num_ortho=3, q="householder"),
    "sylvester_orthogonal": lambda: Sylvester(D, num_ortho=2, q="orthogonal"),
    "sylvester_triangular": lambda: Compose(
        [Sylvester(D, q="triangular", flip=f) for f in (0, 1)]
    ),
    "planar_context": lambda: Planar(D, context_dim=C),
    "radial_context": lambda: Radial(D, context_dim=C),
    "sylvester_context": lambda: Sylvester(D, num_ortho=3, context_dim=C),
}


def _build(name):
    torch.manual_seed(0)
    t = _perturb(BUILDERS[name]()).double()
    ctx = torch.randn(5, C, dtype=torch.float64) if name.endswith("context") else None
    return t, ctx


@pytest.mark.parametrize("name", BUILDERS)
def test_inverse_of_forward_is_identity(name):
    t, ctx = _build(name)
    x = torch.randn(5, D, dtype=torch.float64)
    z, ld_f = t(x, ctx)
    x2, ld_i = t.inverse(z, ctx)
    assert torch.allclose(x2, x, atol=1e-4)
    assert torch.allclose(ld_f, -ld_i, atol=1e-4)
    x3, _ = t.inverse(x, ctx)
    assert torch.allclose(t(x3, ctx)[0], x, atol=1e-4)
    # float32 too, at the tolerance the issue asks for
    t32 = t.float()
    x32 = x.float()
    c32 = None if ctx is None else ctx.float()
    assert torch.allclose(t32.inverse(t32(x32, c32)[0], c32)[0], x32, atol=1e-4)


def _check_logdet(fn, x, ld):
    for i in range(len(x)):
        jac = jacobian(lambda v, i=i: fn(v[None], i)[0][0], x[i])
        assert torch.allclose(torch.linalg.slogdet(jac)[1], ld[i], atol=1e-6), (i, jac)


@pytest.mark.parametrize("name", BUILDERS)
def test_logdet_matches_autograd_jacobian(name):
    t, ctx = _build(name)
    x = torch.randn(5, D, dtype=torch.float64)

    def call(method):
        return lambda v, i: method(v, None if ctx is None else ctx[i : i + 1])

    vi = any(k in name for k in ("planar", "radial", "sylvester"))
    # VI flows: the closed-form (generative) direction is ``inverse``; MAF/IAF: both directions.
    directions = [t.inverse] if vi else [t.forward, t.inverse]
    if "radial" in name:  # radial's inverse is exact (a quadratic), so autograd reaches it too
        directions.append(t.forward)
    for method in directions:
        _check_logdet(call(method), x, method(x, ctx)[1])


@pytest.mark.parametrize("name", BUILDERS)
def test_gradients_reach_every_parameter_and_state_dict_round_trip(name):
    t, ctx = _build(name)
    z = torch.randn(6, D, dtype=torch.float64)
    c = None if ctx is None else torch.randn(6, C, dtype=torch.float64)
    x, ld = t.inverse(z, c)
    (x.square().sum() + ld.sum()).backward()
    for pname, p in t.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname
    fresh = BUILDERS[name]().double()
    fresh.load_state_dict(t.state_dict())
    assert torch.allclose(fresh.inverse(z, c)[0], x)


def test_made_masks_are_autoregressive_in_the_given_order():
    torch.manual_seed(0)
    order = torch.tensor([2, 4, 1, 3])
    net = _perturb(MADE(D, 2, hidden=(12, 12), order=order, zero_init=False)).double()
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


def test_autoregressive_flows_take_image_shaped_input():
    t = _perturb(maf((1, 2, 2), num_layers=2, hidden=(8,)))
    x = torch.randn(3, 1, 2, 2)
    z, _ = t(x)
    assert z.shape == x.shape
    assert torch.allclose(t.inverse(z)[0], x, atol=1e-4)
    with pytest.raises(ConfigError, match="built for 4 features"):
        t(torch.randn(3, 5))


def test_planar_constraint_holds_for_adversarial_parameters():
    layer = Planar(D)
    with torch.no_grad():  # raw u anti-aligned with w: w.u = -8 would break invertibility
        layer.raw[:D] = -2.0 * torch.ones(D)
        layer.raw[D : 2 * D] = 1.0 * torch.ones(D)
    u, w, b = layer._uwb(1, None)
    wu = float((w * u).sum())
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
    from gens.utils.errors import IncompatibleDataError

    with pytest.raises(IncompatibleDataError, match="max_dim"):
        iaf((1, 32, 32), num_layers=1, hidden=(8,))
    assert len(iaf((1, 32, 32), num_layers=1, hidden=(8,), max_dim=None).transforms) == 1
