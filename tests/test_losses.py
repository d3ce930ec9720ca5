"""GAN losses and the gradient penalty against direct computations."""

from __future__ import annotations

import pytest
import torch

from gens.gan import losses
from gens.gan.penalties import grad_sq_norm, gradient_penalty
from gens.utils.errors import ConfigError


@pytest.fixture
def logits():
    g = torch.Generator().manual_seed(0)
    return torch.randn(64, generator=g) * 3, torch.randn(64, generator=g) * 3


def test_minimax_is_binary_cross_entropy(logits):
    real, fake = logits
    d_real, d_fake = torch.sigmoid(real).double(), torch.sigmoid(fake).double()
    direct = -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean())
    assert losses.d_minimax(real, fake).item() == pytest.approx(direct.item(), rel=1e-5)
    # generator of the minimax game minimizes E log(1 - D(G(z)))
    assert losses.g_minimax(fake).item() == pytest.approx(
        torch.log(1 - d_fake).mean().item(), rel=1e-5
    )
    # non-saturating: -E log D(G(z))
    assert losses.g_nonsaturating(fake).item() == pytest.approx(
        -torch.log(d_fake).mean().item(), rel=1e-5
    )


def test_minimax_is_stable_for_large_logits():
    big = torch.tensor([80.0, -80.0])
    assert torch.isfinite(losses.d_minimax(big, big))
    assert losses.g_nonsaturating(torch.tensor([-80.0])).item() == pytest.approx(80.0)


def test_nonsaturating_gradient_does_not_vanish_where_minimax_does():
    fake = torch.tensor([-10.0], requires_grad=True)  # D is sure the sample is fake
    (g_mm,) = torch.autograd.grad(losses.g_minimax(fake), fake)
    (g_ns,) = torch.autograd.grad(losses.g_nonsaturating(fake), fake)
    assert abs(g_mm.item()) < 1e-4 < 0.9 < abs(g_ns.item())


def test_wasserstein(logits):
    real, fake = logits
    assert losses.d_wasserstein(real, fake).item() == pytest.approx(
        (fake.mean() - real.mean()).item()
    )
    assert losses.g_wasserstein(fake).item() == pytest.approx(-fake.mean().item())


def test_unknown_loss_names_list_the_valid_ones():
    with pytest.raises(ConfigError, match="nonsaturating"):
        losses.get_losses("minimax", "nope")
    with pytest.raises(ConfigError, match="wasserstein"):
        losses.get_losses("nope", "minimax")


def test_gradient_penalty_matches_explicit_autograd():
    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    real, fake = torch.randn(8, 3), torch.randn(8, 3)
    torch.manual_seed(1)
    gp = gradient_penalty(lambda x: critic(x).squeeze(-1), real, fake)
    # the same eps, drawn from the same RNG state, then the penalty computed example by example
    torch.manual_seed(1)
    eps = torch.rand(8, 1)
    terms = []
    for i in range(8):
        x_hat = (eps[i] * real[i] + (1 - eps[i]) * fake[i]).requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)
        terms.append((g.norm() - 1) ** 2)
    assert gp.item() == pytest.approx(torch.stack(terms).mean().item(), rel=1e-5)


def test_gradient_penalty_of_a_linear_critic_is_closed_form():
    w = torch.tensor([3.0, 4.0])  # ||grad|| = 5 everywhere -> penalty (5 - 1)^2 = 16
    gp = gradient_penalty(lambda x: x @ w, torch.randn(5, 2), torch.randn(5, 2))
    assert gp.item() == pytest.approx(16.0)


def test_gradient_penalty_is_differentiable_in_critic_parameters():
    lin = torch.nn.Linear(2, 1)
    gp = gradient_penalty(lambda x: lin(x).squeeze(-1), torch.randn(4, 2), torch.randn(4, 2))
    gp.backward()
    expected = 2 * (lin.weight.norm() - 1) * lin.weight / lin.weight.norm()
    assert torch.allclose(lin.weight.grad, expected.detach(), atol=1e-5)
    assert lin.bias.grad is None  # the penalty does not depend on the bias


def test_r1_penalty_matches_closed_form():
    # D(x) = 0.5 * ||A x||^2 has grad A^T A x, so the penalty is E ||A^T A x||^2
    a = torch.randn(3, 3)
    x = torch.randn(6, 3)
    r1 = grad_sq_norm(lambda v: 0.5 * (v @ a.T).pow(2).sum(1), x)
    direct = (x @ (a.T @ a).T).pow(2).sum(1).mean()
    assert r1.item() == pytest.approx(direct.item(), rel=1e-5)


def test_penalties_of_a_joint_critic_take_the_gradient_of_every_float_input():
    """D(x, z) = w.x + v.z: ||grad||^2 = ||w||^2 + ||v||^2 on every pair; labels (integers) are
    passed through undifferentiated."""
    w, v = torch.tensor([1.0, 2.0]), torch.tensor([2.0, 0.0, 1.0])

    def critic(x, z, y=None):
        return x @ w + z @ v + (0.0 if y is None else y.float())

    x, z, y = torch.randn(5, 2), torch.randn(5, 3), torch.arange(5)
    assert grad_sq_norm(critic, (x, z, y)).item() == pytest.approx(10.0)
    gp = gradient_penalty(critic, (x, z, y), (torch.randn(5, 2), torch.randn(5, 3), y))
    assert gp.item() == pytest.approx((10.0**0.5 - 1) ** 2, rel=1e-5)


def test_lazy_r1_applies_the_scaled_penalty_every_k_steps(cfg_factory):
    """every=k (StyleGAN2's lazy regularization): the D loss carries gamma / 2 * k * R1 on
    every k-th D step and no penalty in between, logged as train/r1."""
    from gens.train import build

    cfg = cfg_factory(
        [
            "model=gan",
            "data=ring8",
            "+reg=r1",
            "model.regularizers.r1.gamma=0.5",
            "model.regularizers.r1.every=4",
        ]
    )
    _, model = build(cfg)
    real = torch.randn(16, 2)
    for step in range(8):
        torch.manual_seed(0)
        loss, logs, judged = model.d_objective(real, None)
        loss = model._regularize("d", step, loss, logs, judged)
        torch.manual_seed(0)
        with torch.no_grad():
            fake = model.generator(model.noise(16), None)
        plain = model.d_loss_fn(model.discriminator(real, None), model.discriminator(fake, None))
        if step % 4 == 0:
            r1 = grad_sq_norm(model.discriminator, real)
            assert loss.item() == pytest.approx((plain + 0.5 * 0.5 * 4 * r1).item(), rel=1e-5)
            assert logs["r1"].item() == pytest.approx(r1.item(), rel=1e-5)
        else:
            assert loss.item() == pytest.approx(plain.item(), rel=1e-6)
            assert "r1" not in logs


def test_regularizer_every_below_one_is_a_config_error(cfg_factory):
    from gens.train import build

    with pytest.raises(ConfigError, match="every"):
        build(cfg_factory(["model=gan", "data=ring8", "+reg=r1", "model.regularizers.r1.every=0"]))
