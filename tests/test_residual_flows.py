"""i-ResNet and Residual Flows (Behrmann et al. 2019; Chen et al. 2019): the log-det estimators
against the exact value, the Neumann gradient, and the Lipschitz bound of a normalized conv.

A linear branch g(x) = W x has a constant Jacobian W, so every expectation is known in closed
form: log det(I + W) for the Russian roulette, the first n terms of the series for the
truncation, (I + W)^{-T} for the gradient in W."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gens.flows import ResidualBlock, iresnet, resflow
from gens.nets import LipschitzConv2d, LipschitzLinear, LipSwish, lipschitz_mlp
from gens.nets.lipschitz import REFERENCE_BETA
from gens.utils.errors import ConfigError

D, DRAWS = 3, 20000


def _linear_block(estimator: str, **kw) -> tuple[ResidualBlock, torch.Tensor]:
    torch.manual_seed(0)
    g = LipschitzLinear(D, D, coeff=0.9).double()
    with torch.no_grad():
        g.weight.mul_(10)  # well above the coefficient: the normalization is active
    block = ResidualBlock(g, estimator, **kw).train()
    return block, g.normalized_weight().detach()


def _draws(block: ResidualBlock) -> torch.Tensor:
    x = torch.zeros(DRAWS, D, dtype=torch.float64)
    torch.manual_seed(1)
    with torch.no_grad():
        return block(x)[1]


def _within(draws: torch.Tensor, target: float, k: float = 3.0) -> bool:
    se = draws.std() / len(draws) ** 0.5
    return abs(float(draws.mean()) - target) <= k * float(se)


def test_russian_roulette_is_unbiased():
    block, w = _linear_block("roulette", p=0.5, n_exact=1)
    exact = float(torch.linalg.slogdet(torch.eye(D, dtype=w.dtype) + w)[1])
    assert _within(_draws(block), exact)


def test_the_truncated_series_is_biased_by_its_dropped_tail():
    n = 2
    block, w = _linear_block("truncated", n_terms=n, neumann=False)
    exact = float(torch.linalg.slogdet(torch.eye(D, dtype=w.dtype) + w)[1])
    series = sum(
        (-1) ** (k + 1) / k * float(torch.linalg.matrix_power(w, k).trace())
        for k in range(1, n + 1)
    )
    draws = _draws(block)
    assert _within(draws, series)  # it estimates the truncated sum ...
    assert not _within(draws, exact, k=5.0)  # ... which is not the log-det


@pytest.mark.parametrize("neumann", [True, False])
def test_roulette_gradient_is_unbiased_with_and_without_neumann(neumann):
    block, w = _linear_block("roulette", p=0.5, n_exact=2, neumann=neumann)
    x = torch.zeros(4000, D, dtype=torch.float64)
    torch.manual_seed(2)
    v = block.g.weight
    ld = block(x)[1]
    (grad,) = torch.autograd.grad(ld.mean(), v)
    exact_ld = torch.linalg.slogdet(torch.eye(D, dtype=v.dtype) + block.g.normalized_weight())[1]
    (expected,) = torch.autograd.grad(exact_ld, v)
    torch.testing.assert_close(grad, expected, atol=0.05 * float(expected.abs().max()), rtol=0)


def _operator_matrix(conv: LipschitzConv2d, weight: torch.Tensor) -> torch.Tensor:
    n = int(torch.tensor(conv.in_shape).prod())
    basis = torch.eye(n, dtype=weight.dtype).view(n, *conv.in_shape)
    return F.conv2d(basis, weight, padding=conv.padding).flatten(1).T  # columns = images of e_i


def test_conv_normalization_bounds_the_operator_not_the_kernel_matrix():
    torch.manual_seed(0)
    conv = LipschitzConv2d(2, 3, 3, (5, 5), coeff=0.7, tol=1e-8, max_iter=2000).double().train()
    with torch.no_grad():
        conv.weight.mul_(5)
    sigma = float(conv.spectral_norm().detach())
    raw = _operator_matrix(conv, conv.weight.detach())
    true_sigma = float(torch.linalg.matrix_norm(raw, ord=2))
    assert sigma == pytest.approx(true_sigma, rel=1e-4)
    normalized = _operator_matrix(conv, conv.normalized_weight().detach())
    assert float(torch.linalg.matrix_norm(normalized, ord=2)) == pytest.approx(0.7, rel=1e-4)
    kernel_matrix = conv.weight.detach().flatten(1)
    assert abs(float(torch.linalg.matrix_norm(kernel_matrix, ord=2)) - true_sigma) > 0.05


def test_the_inverse_is_a_fixed_point_within_tolerance():
    block = ResidualBlock(LipschitzLinear(D, D, 0.95)).double().eval()
    z = torch.randn(16, D, dtype=torch.float64)
    with torch.no_grad():
        x, _ = block.inverse(z)
        torch.testing.assert_close(block(x)[0], z, atol=1e-9, rtol=0)


@pytest.mark.parametrize("factory", [iresnet, resflow])
@pytest.mark.parametrize("coeff", [1.0, 1.5, 0.0])
def test_a_lipschitz_coefficient_outside_0_1_is_a_one_line_error(factory, coeff):
    with pytest.raises(ConfigError, match="Lipschitz coefficient must be in") as err:
        factory((2,), coeff=coeff)
    assert "\n" not in str(err.value)


def test_evaluates_under_inference_mode_as_lightning_tests():
    flow = resflow((1, 4, 4), num_blocks=1, channels=4, exact_max_dim=0).eval()
    x = torch.randn(3, 1, 4, 4)
    with torch.no_grad():
        expected = flow(x)[1]
    with torch.inference_mode():
        z, ld = flow(x)
        back, _ = flow.inverse(z)
    torch.testing.assert_close(ld, expected)
    torch.testing.assert_close(back, x, atol=1e-5, rtol=0)


def test_the_bound_holds_when_the_top_singular_values_are_close():
    # sigma_2 / sigma_1 = 0.993 and a start almost along the second singular vector: sigma
    # creeps up by < tol a step for hundreds of steps while still ~0.5 % short of sigma_1
    torch.manual_seed(0)
    layer = LipschitzLinear(6, 6, coeff=0.9, tol=1e-4, max_iter=2000).double().train()
    u, _ = torch.linalg.qr(torch.randn(6, 6, dtype=torch.float64))
    v, _ = torch.linalg.qr(torch.randn(6, 6, dtype=torch.float64))
    s = torch.tensor([2.0, 1.986, 1.0, 0.5, 0.3, 0.1], dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(u @ torch.diag(s) @ v.T)
        layer.u.copy_(F.normalize(u[:, 1] + 0.05 * u[:, 0], dim=0))
    lip = float(torch.linalg.matrix_norm(layer.normalized_weight().detach(), ord=2))
    assert lip <= 0.9 * (1 + 1e-4)


def test_training_keeps_every_layer_of_a_vector_flow_within_its_coefficient():
    torch.manual_seed(0)
    flow = resflow(data_shape=(2,), num_blocks=2, hidden=(32, 32), coeff=0.9).train()
    opt = torch.optim.Adam(flow.parameters(), lr=1e-2)
    for _ in range(30):
        z, ld = flow(torch.randn(128, 2) * torch.tensor([2.0, 0.5]))
        loss = (0.5 * z.pow(2).sum(1) - ld).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    flow.eval()
    for layer in flow.modules():
        if isinstance(layer, LipschitzLinear):
            w = layer.normalized_weight().detach()
            assert float(torch.linalg.matrix_norm(w, ord=2)) <= 0.9 * (1 + 1e-4)


@pytest.mark.parametrize("beta", [0.5, REFERENCE_BETA, 8.0, 100.0])
def test_lipswish_starts_at_its_beta_and_is_1_lipschitz(beta):
    act = LipSwish(beta)
    assert float(F.softplus(act.beta)) == pytest.approx(beta, rel=1e-6)
    x = torch.linspace(-20 / beta, 20 / beta, 20001, requires_grad=True)
    (slope,) = torch.autograd.grad(act(x).sum(), x)
    assert float(slope.abs().max()) <= 1.0


def test_the_vector_branch_bends_on_the_spread_of_its_pre_activations():
    # a branch whose swishes see inputs far inside their bend is nearly affine, and a flow of
    # such blocks stays near a Gaussian fit until beta or the weights have grown
    torch.manual_seed(0)
    branch = lipschitz_mlp(2, (64, 64), coeff=0.97).train()
    x = torch.randn(4096, 2)
    pre = branch[0](x)
    beta = float(F.softplus(branch[1].beta))
    assert float(pre.std(0).mean()) * beta >= 1.0
