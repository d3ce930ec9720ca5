"""Unrolled GAN: the differentiable optimizer replays torch's, and unrolling changes G's grad."""

from __future__ import annotations

import copy
from functools import partial

import pytest
import torch

from gens.gan import GAN, UnrolledGAN
from gens.gan.unrolled import DifferentiableOptimizer
from gens.nets import MLPDiscriminator, MLPGenerator
from gens.utils.errors import ConfigError


def _model(cls=UnrolledGAN, **kw):
    torch.manual_seed(0)
    return cls(
        partial(MLPGenerator, hidden=(32, 32)),
        partial(MLPDiscriminator, hidden=(32, 32), maxout=3),
        partial(torch.optim.Adam, lr=1e-2, betas=(0.5, 0.999)),
        partial(torch.optim.Adam, lr=1e-2, betas=(0.5, 0.999)),
        data_shape=(2,),
        latent_dim=2,
        **kw,
    )


def _d_step(model, opt, real):
    """One real discriminator step, so the optimizer has moments to replay."""
    loss, _, _ = GAN.d_objective(model, real, None)
    opt.zero_grad()
    loss.backward()
    opt.step()


@pytest.mark.parametrize(
    "make",
    [
        partial(torch.optim.Adam, lr=1e-2, betas=(0.5, 0.99), weight_decay=1e-3),
        partial(torch.optim.AdamW, lr=1e-2, weight_decay=1e-2),
        partial(torch.optim.SGD, lr=1e-2, momentum=0.9),
    ],
)
def test_differentiable_step_matches_torch_optimizer(make):
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 1)
    opt = make(net.parameters())
    x = torch.randn(8, 3)
    for _ in range(3):  # build up optimizer state, then compare the next two steps
        opt.zero_grad()
        net(x).pow(2).mean().backward()
        opt.step()
    params = [p.detach().clone().requires_grad_(True) for p in net.parameters()]
    diff = DifferentiableOptimizer(opt, list(net.parameters()))
    for _ in range(2):
        loss = torch.func.functional_call(net, dict(zip(["weight", "bias"], params)), (x,))
        grads = torch.autograd.grad(loss.pow(2).mean(), params, create_graph=True)
        params = diff.step(params, grads)
        opt.zero_grad()
        net(x).pow(2).mean().backward()
        opt.step()
        for a, b in zip(params, net.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def _g_grads(model, opt, real, k):
    model.unroll_steps = k
    model.generator.zero_grad()
    torch.manual_seed(7)
    model.unrolled_g_loss(real, None, opt).backward()
    return torch.cat([p.grad.flatten() for p in model.generator.parameters()])


def _plain_g_grad(model, real):
    """The plain GAN's generator gradient on the same noise as ``_g_grads``."""
    model.generator.zero_grad()
    torch.manual_seed(7)
    GAN.g_objective(model, real, None)[0].backward()
    return torch.cat([p.grad.flatten() for p in model.generator.parameters()])


def test_unrolling_changes_the_generator_gradient():
    model = _model(surrogate="generator")
    opt = torch.optim.Adam(model.discriminator.parameters(), lr=1e-2, betas=(0.5, 0.999))
    real = torch.randn(64, 2)
    _d_step(model, opt, real)
    d_before = copy.deepcopy(model.discriminator.state_dict())
    state_before = {k: v.clone() for k, v in opt.state_dict()["state"][0].items()}

    g0 = _g_grads(model, opt, real, 0)
    g5 = _g_grads(model, opt, real, 5)
    # k = 0 is exactly the plain GAN's non-saturating generator gradient
    torch.testing.assert_close(g0, _plain_g_grad(model, real))
    assert (g5 - g0).norm() > 1e-3 * g0.norm()
    assert torch.isfinite(g5).all()
    # unrolling leaves the real discriminator and its optimizer untouched
    for k, v in model.discriminator.state_dict().items():
        torch.testing.assert_close(v, d_before[k])
    for k, v in opt.state_dict()["state"][0].items():
        torch.testing.assert_close(v, state_before[k])


def _functional_d(model):
    names = [n for n, _ in model.discriminator.named_parameters()]
    return lambda ps, x: torch.func.functional_call(
        model.discriminator, dict(zip(names, ps)), (x,)
    )


def _adam_by_hand(ps, grads, states, lr=1e-2, b1=0.5, b2=0.999):
    """torch's Adam update written out; ``states`` (copies of opt.state) advance in place.
    (Maxout pieces that never won have v = 0, where sqrt's derivative is infinite; both sides
    add the same 1e-30 under the root.)"""
    out = []
    for p, g, st in zip(ps, grads, states):
        t = float(st["step"]) + 1
        m = b1 * st["exp_avg"] + (1 - b1) * g
        v = b2 * st["exp_avg_sq"] + (1 - b2) * g * g
        st.update(step=t, exp_avg=m, exp_avg_sq=v)
        out.append(p - lr * (m / (1 - b1**t)) / ((v / (1 - b2**t) + 1e-30).sqrt() + 1e-8))
    return out


def _unroll_by_hand(model, opt, real, fake, k):
    d = _functional_d(model)
    ps = [p.detach().requires_grad_(True) for p in model.discriminator.parameters()]
    states = [dict(opt.state[p]) for p in model.discriminator.parameters()]
    for _ in range(k):
        grads = torch.autograd.grad(
            model.d_loss_fn(d(ps, real), d(ps, fake)), ps, create_graph=True
        )
        ps = _adam_by_hand(ps, grads, states)
    return d, ps


def _unrolled_and_by_hand(model, k):
    """G's gradient from the model at k, and the pieces to redo it by hand: the fake batch of
    the same noise and the functional D with its parameters after k by-hand updates."""
    opt = torch.optim.Adam(model.discriminator.parameters(), lr=1e-2, betas=(0.5, 0.999))
    real = torch.randn(32, 2)
    _d_step(model, opt, real)
    gk = _g_grads(model, opt, real, k)
    model.generator.zero_grad()
    torch.manual_seed(7)
    fake = model.generator(model.noise(32))
    d, pk = _unroll_by_hand(model, opt, real, fake, k)
    return opt, real, fake, gk, d, pk


def _g_grad_of(loss, model):
    loss.backward()
    return torch.cat([p.grad.flatten() for p in model.generator.parameters()])


def test_unrolled_generator_gradient_is_the_gradient_through_the_updates():
    """k = 1 by hand: theta_1 = adam(theta_0, grad), G loss on D(theta_1), autograd through."""
    model = _model(surrogate="generator")
    _, _, fake, g1, d, p1 = _unrolled_and_by_hand(model, 1)
    by_hand = _g_grad_of(model.g_loss_fn(d(p1, fake)), model)
    torch.testing.assert_close(g1, by_hand, rtol=1e-4, atol=1e-6)


def test_value_surrogate_is_the_game_value_at_the_unrolled_discriminator():
    """Metz et al.'s f_K: G minimizes V(G, D_K) = E log D_K(x) + E log(1 - D_K(G(z))), whose
    real term depends on G through theta_D^K; k = 2 by hand, autograd through both updates."""
    model = _model(surrogate="value", loss={"d": "minimax", "g": "minimax"})
    opt, real, fake, g2, d, p2 = _unrolled_and_by_hand(model, 2)
    logsig = torch.nn.functional.logsigmoid
    value = logsig(d(p2, real)).mean() + logsig(-d(p2, fake)).mean()
    torch.testing.assert_close(g2, _g_grad_of(value, model), rtol=1e-4, atol=1e-6)

    # the real term matters once k >= 1: the same model with G's loss on D_K(G(z)) alone differs
    model.surrogate = "generator"
    g2_fake_only = _g_grads(model, opt, real, 2)
    assert (g2 - g2_fake_only).norm() > 1e-3 * g2.norm()
    # at k = 0 the real term is constant in G: exactly the plain GAN's minimax gradient
    model.surrogate = "value"
    g0 = _g_grads(model, opt, real, 0)
    torch.testing.assert_close(g0, _plain_g_grad(model, real))


def test_unrolled_rejects_bad_settings():
    with pytest.raises(ConfigError, match="unroll_steps"):
        _model(unroll_steps=-1)
    with pytest.raises(ConfigError, match="surrogate"):
        _model(surrogate="fake_only")
    net = torch.nn.Linear(2, 1)
    with pytest.raises(ConfigError, match="RMSprop"):
        DifferentiableOptimizer(torch.optim.RMSprop(net.parameters()), list(net.parameters()))
