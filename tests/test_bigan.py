"""ALI/BiGAN: the joint objectives against a direct computation, who gets which gradient, the
stochastic (ALI) and deterministic (BiGAN) encoders, a short run from the config, errors."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from gens.gan import BiGAN
from gens.gan.bigan import encoder_loss_for
from gens.nets import MLPDiscriminator, MLPGenerator, MLPReconstructor
from gens.utils.errors import ConfigError


def _model(**kw):
    torch.manual_seed(0)
    return BiGAN(
        partial(MLPGenerator, hidden=(16,)),
        partial(MLPDiscriminator, hidden=(16,), maxout=2),
        partial(torch.optim.Adam, lr=1e-2),
        partial(torch.optim.Adam, lr=1e-2),
        encoder=partial(MLPReconstructor, hidden=(16,)),
        data_shape=(2,),
        latent_dim=kw.pop("latent_dim", 3),
        **kw,
    )


def _d(m, x, z):
    return m.discriminator.inner(torch.cat([x, z], 1))


def test_networks_are_sized_and_share_g_optimizer():
    m = _model(stochastic_encoder=False)
    assert m.discriminator.inner.body[0].linear.in_features == 2 + 3
    assert m.encoder(torch.randn(4, 2)).shape == (4, 3)
    assert _model(stochastic_encoder=True).encoder(torch.randn(4, 2)).shape == (4, 6)
    opt_d, opt_g = m.configure_optimizers()
    g_ids = {id(p) for group in opt_g.param_groups for p in group["params"]}
    d_ids = {id(p) for group in opt_d.param_groups for p in group["params"]}
    assert {id(p) for p in m.encoder.parameters()} <= g_ids
    assert {id(p) for p in m.generator.parameters()} <= g_ids
    assert d_ids == {id(p) for p in m.discriminator.parameters()}


def test_joint_embed_gives_x_and_z_pathways_of_their_own():
    m = _model(stochastic_encoder=False, joint_embed=[6])
    d = m.discriminator
    # the pathways are maxout layers like the discriminator's (maxout=2 in _model)
    assert d.embed_x[0].linear.in_features == 2 and d.embed_z[0].linear.in_features == 3
    assert d.inner.body[0].linear.in_features == 2 * 6
    x, z = torch.randn(5, 2), torch.randn(5, 3)
    torch.testing.assert_close(d(x, z), d.inner(torch.cat([d.embed_x(x), d.embed_z(z)], 1)))
    assert {id(p) for p in d.embed_x.parameters()} <= {
        id(p) for g in m.configure_optimizers()[0].param_groups for p in g["params"]
    }


@pytest.mark.parametrize("stochastic", [False, True])
def test_objectives_match_a_direct_computation(stochastic):
    m = _model(stochastic_encoder=stochastic)
    real = torch.randn(8, 2)

    def encoder_pair_z():
        h = m.encoder(real)
        if not stochastic:
            return h
        mu, s = h[:, :3], h[:, 3:]
        return mu + (torch.log1p(torch.exp(s)) + 1e-4) * torch.randn(8, 3)

    torch.manual_seed(3)
    loss_d, logs, _ = m.d_objective(real, None)
    torch.manual_seed(3)
    z = torch.randn(8, 3)
    pos = _d(m, real, encoder_pair_z())  # noise drawn in the module's order: z, then eps
    neg = _d(m, m.generator(z), z)
    direct = -torch.log(torch.sigmoid(pos)).mean() - torch.log(1 - torch.sigmoid(neg)).mean()
    torch.testing.assert_close(loss_d, direct, rtol=1e-5, atol=1e-6)
    assert logs["d_loss"] is loss_d

    torch.manual_seed(4)
    loss_g, logs = m.g_objective(real, None)
    torch.manual_seed(4)
    z = torch.randn(8, 3)
    fake_pair = _d(m, m.generator(z), z)
    enc_pair = _d(m, real, encoder_pair_z())
    # swapped labels, non-saturating: -log D(G(z), z) - log(1 - D(x, E(x)))
    adv = (
        -torch.log(torch.sigmoid(fake_pair)).mean() - torch.log(1 - torch.sigmoid(enc_pair)).mean()
    )
    # no reconstruction term: the G/E loss is the adversarial loss, exactly
    torch.testing.assert_close(loss_g, adv, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(logs["g_adv"] + logs["e_adv"], loss_g.detach())


def test_minimax_generator_loss_is_minus_the_discriminator_loss():
    m = _model(stochastic_encoder=False, loss={"d": "minimax", "g": "minimax"})
    real = torch.randn(8, 2)
    torch.manual_seed(5)
    loss_d, _, _ = m.d_objective(real, None)
    torch.manual_seed(5)
    loss_g, _ = m.g_objective(real, None)
    torch.testing.assert_close(loss_g, -loss_d)


def test_encoder_loss_swaps_labels():
    r = torch.randn(10)
    from gens.gan import losses as L  # noqa: N812

    torch.testing.assert_close(encoder_loss_for(L.g_nonsaturating)(r), F.softplus(r).mean())
    torch.testing.assert_close(encoder_loss_for(L.g_wasserstein)(r), r.mean())
    torch.testing.assert_close(encoder_loss_for(L.g_least_squares)(r), 0.5 * (r**2).mean())
    with pytest.raises(ConfigError, match="cannot swap labels"):
        encoder_loss_for(lambda fake: fake.mean())


@pytest.mark.parametrize("stochastic", [False, True])
def test_encoder_gradient_comes_only_through_d(stochastic):
    m = _model(stochastic_encoder=stochastic)
    m.g_objective(torch.randn(8, 2), None)[0].backward()
    assert any(p.grad.abs().sum() > 0 for p in m.encoder.parameters())
    # with D's last layer zeroed D is constant: nothing reaches E (no reconstruction path)
    m.zero_grad(set_to_none=True)
    with torch.no_grad():
        m.discriminator.inner.head.weight.zero_()
    m.g_objective(torch.randn(8, 2), None)[0].backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in m.encoder.parameters())
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in m.generator.parameters())


def test_stochastic_encoder_is_reparameterized():
    m = _model(stochastic_encoder=True)
    x = torch.randn(1, 2).repeat(6, 1)
    z, mu, sigma = m.infer(x)
    assert (sigma > 0).all()
    assert torch.unique(z[:, 0]).numel() == 6  # one x, six different codes
    torch.testing.assert_close(mu, mu[:1].expand_as(mu))
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    torch.testing.assert_close(m.infer(x, g1)[0], m.infer(x, g2)[0])
    # gradient flows through both mu and sigma of the sample
    z.pow(2).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.encoder.parameters())
    # encode(): the mean by default, a draw with sample=True, no gradient
    torch.testing.assert_close(m.encode(x), mu.detach())
    drawn = m.encode(x, sample=True)
    assert not drawn.requires_grad and not torch.allclose(drawn, mu.detach())


def test_deterministic_encoder_is_a_function():
    m = _model(stochastic_encoder=False)
    x = torch.randn(5, 2)
    z, mu, sigma = m.infer(x)
    assert sigma is None and z is mu
    torch.testing.assert_close(m.encode(x), m.encoder(x).detach())
    torch.testing.assert_close(m.encode(x, sample=True), m.encode(x))


def test_a_few_steps_change_generator_and_encoder():
    m = _model(stochastic_encoder=True)
    g0 = [p.detach().clone() for p in m.generator.parameters()]
    e0 = [p.detach().clone() for p in m.encoder.parameters()]
    opt_d, opt_g = m.configure_optimizers()
    for _ in range(3):
        real = torch.randn(16, 2) + 3
        opt_d.zero_grad()
        m.d_objective(real, None)[0].backward()
        opt_d.step()
        opt_g.zero_grad()
        m.g_objective(real, None)[0].backward()
        opt_g.step()
    assert any(not torch.equal(a, b) for a, b in zip(g0, m.generator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(e0, m.encoder.parameters()))


def test_r1_penalizes_the_joint_pair():
    from gens.gan.regularizers import R1

    m = _model(stochastic_encoder=False, regularizers={"r1": R1(gamma=2.0)})
    real = torch.randn(8, 2)
    torch.manual_seed(6)
    loss, logs, judged = m.d_objective(real, None)
    loss = m._regularize("d", 0, loss, logs, judged)
    pair = torch.cat([real, m.encoder(real)], 1).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(m.discriminator.inner(pair).sum(), pair)
    torch.testing.assert_close(logs["r1"], grad.pow(2).sum(1).mean())
    torch.testing.assert_close(loss, logs["d_loss"] + logs["r1"])


def test_errors():
    with pytest.raises(ConfigError, match="conditional"):
        _model(conditional=True, num_classes=3)
    with pytest.raises(ConfigError, match="latent_dim"):
        _model(latent_dim=-1)


def test_bigan_trains_on_ring8_and_resumes(cfg_factory):
    from gens.train import train

    first = cfg_factory(["model=bigan", "data=ring8", "data.n_train=1000"], sub="a")
    metrics = train(first)
    out = Path(first.paths.output_dir)
    saved = json.loads((out / "metrics.json").read_text())
    assert {"test/modes", "test/hq", "test/rkl", "test/d_loss", "test/recon_x"} <= set(saved)
    assert 0 <= saved["test/modes"] <= 8 and metrics["test/modes"] == saved["test/modes"]
    ckpt = out / "checkpoints" / "last.ckpt"
    cfg = cfg_factory(
        [
            "model=bigan",
            "data=ring8",
            "data.n_train=1000",
            "model.stochastic_encoder=false",
            "model.sampling.ema_decay=0.9",
        ],
        sub="bigan",
    )
    assert "test/modes" in train(cfg)
    resumed = cfg_factory(
        [
            "model=bigan",
            "data=ring8",
            "data.n_train=1000",
            f"ckpt_path={ckpt}",
            "trainer.max_epochs=2",
        ],
        sub="b",
    )
    train(resumed)
    from gens.utils.checkpoint import load_model

    model = load_model(Path(resumed.paths.output_dir) / "checkpoints" / "last.ckpt")
    assert model.g_steps == 8 and model.encode(torch.randn(5, 2)).shape == (5, 2)


def test_bad_config_is_a_config_error(cfg_factory):
    from gens.train import train

    cfg = cfg_factory(["model=bigan", "data=ring8", "model.n_critic=0"])
    with pytest.raises(ConfigError, match="n_critic"):
        train(cfg)
