"""The autoregressive transformers of NAF, SOS and UMNN: their formulas and the parity with
zuko's ``SOSPolynomialTransform`` and ``UnconstrainedMonotonicTransform`` (same parameters or
same integrand -> same map and log-derivative)."""

from __future__ import annotations

import math

import pytest
import torch

from gens.flows import UMNN, DeepSigmoid, FlowModel, SOSPolynomial, elementwise_flow
from gens.flows.transforms.umnn import clenshaw_curtis
from gens.utils.errors import ConfigError

zuko = pytest.importorskip("zuko")


def _x_and_params(tr, n: int = 32, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = 3 * torch.randn(n, 2, generator=g, dtype=torch.float64)
    return x, torch.randn(n, 2, tr.num_params, generator=g, dtype=torch.float64)


def test_sos_matches_zuko_with_the_same_coefficients():
    tr = SOSPolynomial(polynomials=3, degree=4, bound=10.0)
    x, p = _x_and_params(tr)
    p[..., -1] = 0  # zuko's map has no shift
    theirs = zuko.transforms.SOSPolynomialTransform(p[..., :-1].unflatten(-1, (3, 5)), 1e-3)
    y_z, ld_z = theirs.call_and_ladj(x)
    y, ld = tr(x, p)
    torch.testing.assert_close(y, y_z)
    torch.testing.assert_close(ld, ld_z)


def test_umnn_matches_zukos_integrated_transform_on_our_integrand():
    torch.manual_seed(0)
    tr = UMNN(embedding=3, hidden=(16,), nodes=60).double()
    x, p = _x_and_params(tr)
    y, ld = tr(x, p)
    h = p[..., :-1]
    theirs = zuko.transforms.UnconstrainedMonotonicTransform(
        lambda t: tr.integrand(t, h.expand(*t.shape, 3)), n=64, phi=tuple(tr.parameters())
    )
    y_z, ld_z = theirs.call_and_ladj(x)
    # two quadratures (Clenshaw-Curtis, 60 nodes; Gauss-Legendre, 64) of one smooth integrand
    torch.testing.assert_close(y - p[..., -1], y_z, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(ld, ld_z)  # log g(x) directly, in both


def test_clenshaw_curtis_integrates_polynomials_up_to_its_degree_exactly():
    nodes, weights = clenshaw_curtis(8)
    for k in range(9):
        exact = (1 - (-1) ** (k + 1)) / (k + 1)
        assert float((weights * nodes**k).sum()) == pytest.approx(exact, abs=1e-12)


def test_deep_sigmoid_is_the_logit_of_a_squeezed_mixture_of_sigmoids():
    tr = DeepSigmoid(hidden=5, delta=1e-3, spread=2.0)
    x, p = _x_and_params(tr)
    # zero parameters: a_j = 1 and biases -2, -1, 0, 1, 2
    a = torch.nn.functional.softplus(p[..., :5] + math.log(math.expm1(1 - 1e-3))) + 1e-3
    b, w = p[..., 5:10] + torch.linspace(-2, 2, 5), torch.softmax(p[..., 10:], -1)
    s = (w * torch.sigmoid(a * x[..., None] + b)).sum(-1) * (1 - 1e-3) + 0.5e-3
    y, _ = tr(x, p)
    torch.testing.assert_close(y, torch.logit(s))


def test_deep_sigmoid_units_differ_from_a_zero_conditioner():
    # equal units get equal gradients and stay equal: the mixture would be one sigmoid (affine)
    tr = DeepSigmoid(hidden=4)
    p = torch.zeros(64, 1, tr.num_params, requires_grad=True)
    _, ld = tr(torch.randn(64, 1), p)
    (grad,) = torch.autograd.grad(ld.sum(), p)
    assert grad[..., 4:8].sum(0).std() > 1e-3  # the bias gradients of the four units
    y, _ = tr(torch.linspace(-3, 3, 7)[:, None], torch.zeros(7, 1, tr.num_params))
    assert torch.all((y.squeeze(1) / torch.linspace(-3, 3, 7)).nan_to_num(1.0) > 0.6)


def test_deep_sigmoid_has_no_preimage_outside_its_bounded_range():
    tr = DeepSigmoid(hidden=3, delta=0.3)  # |y| < logit(0.85) = 1.73
    x, _ = tr.inverse(torch.tensor([[0.5], [2.0], [-2.0]]), torch.zeros(3, 1, tr.num_params))
    assert torch.isfinite(x[0]).all() and torch.isnan(x[1:]).all()


def test_a_bounded_flow_samples_only_points_it_has_a_density_for():
    # two coarsely squeezed layers leave about a fifth of the base points without a preimage
    def flow(data_shape, num_classes=None):
        return elementwise_flow(
            data_shape, lambda: DeepSigmoid(3, delta=0.1), "autoregressive", 2, (8,)
        )

    torch.manual_seed(0)
    model = FlowModel(flow, None, data_shape=(3,)).eval()
    x = model.sample(500, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(x).all()
    assert torch.isfinite(model.log_prob(x)).all()


# DSF saturates: its range is bounded, so its inverse is tested where it is not flat
@pytest.mark.parametrize(
    "tr,scale", [(DeepSigmoid(4), 1.0), (SOSPolynomial(2, 3), 30.0), (UMNN(2, (8,), 20), 30.0)]
)
def test_bisection_inverse_reaches_float_resolution_outside_its_first_bracket(tr, scale):
    tr = tr.double()
    x, p = _x_and_params(tr, seed=1)
    x = x * scale  # targets outside the initial bracket [-1, 1]
    with torch.no_grad():
        y, _ = tr(x, p)
        back, _ = tr.inverse(y, p)
    torch.testing.assert_close(back, x, atol=1e-8, rtol=1e-9)


def test_bad_transformer_sizes_are_one_line_errors():
    for make in (lambda: DeepSigmoid(0), lambda: SOSPolynomial(0), lambda: UMNN(nodes=1)):
        with pytest.raises(ConfigError) as err:
            make()
        assert "\n" not in str(err.value)
