"""DLGM + NF (FlowVAE): the bound, the importance-sampled NLL, data checks, and the CLI."""

from __future__ import annotations

import functools

import pytest
import torch

from gens.flows import FlowVAE, planar_flow, radial_flow, sylvester_flow
from gens.train import build, train
from gens.utils.errors import ConfigError, IncompatibleDataError


def _vae(flow=planar_flow, k=3, **kw):
    torch.manual_seed(0)
    opt = functools.partial(torch.optim.Adam, lr=1e-3)
    tf = functools.partial(flow, num_layers=k)
    return FlowVAE((1, 4, 4), tf, opt, latent_dim=3, hidden=(16,), num_levels=17, **kw)


def test_plain_vae_posterior_log_density_is_the_diagonal_gaussian():
    vae = _vae(k=0)
    xb = (torch.rand(5, 16) > 0.5).float()
    torch.manual_seed(1)
    z, log_q = vae.posterior(xb)
    mu, log_var = vae.to_gauss(vae.encoder(xb)).chunk(2, dim=1)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * log_var))
    assert torch.allclose(log_q, q.log_prob(z).sum(1), atol=1e-5)


@pytest.mark.parametrize("flow", [planar_flow, radial_flow, sylvester_flow])
def test_flow_posterior_density_is_change_of_variables(flow):
    vae = _vae(flow)
    with torch.no_grad():
        for p in vae.flow.parameters():
            p.add_(0.3 * torch.randn_like(p))
    xb = (torch.rand(4, 16) > 0.5).float()
    torch.manual_seed(1)
    zk, log_q = vae.posterior(xb)
    torch.manual_seed(1)
    h = vae.encoder(xb)
    mu, log_var = vae.to_gauss(h).chunk(2, dim=1)
    z0 = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
    q0 = torch.distributions.Normal(mu, torch.exp(0.5 * log_var)).log_prob(z0).sum(1)
    # log q_K(z_K) = log q_0(z_0) - log|det dz_K/dz_0|, with the Jacobian from autograd
    for i in range(len(xb)):
        jac = torch.autograd.functional.jacobian(
            lambda v, i=i: vae.flow.inverse(v[None], h[i : i + 1])[0][0], z0[i]
        )
        expected = q0[i] - torch.linalg.slogdet(jac)[1]
        assert torch.allclose(log_q[i], expected, atol=1e-4)
    assert torch.allclose(zk, vae.flow.inverse(z0, h)[0], atol=1e-5)


def test_importance_sampled_nll_is_tighter_than_the_elbo():
    vae = _vae()
    x = torch.rand(8, 1, 4, 4) * 2 - 1
    torch.manual_seed(0)
    neg_elbo = torch.stack([-vae.elbo(x) for _ in range(200)]).mean(0)
    nll = vae.iw_nll(x, 200, chunk=64)
    assert (nll <= neg_elbo + 1e-4).all()
    assert (neg_elbo - nll).mean() > 0  # strictly tighter on average for an untrained model


def test_training_lowers_the_bound_and_gradients_reach_flow_and_encoder():
    vae = _vae(k=2)
    patterns = (torch.rand(4, 1, 4, 4, generator=torch.Generator().manual_seed(3)) > 0.5).float()
    x = patterns.repeat(16, 1, 1, 1) * 2 - 1  # four binary images: a learnable data set
    opt = vae.configure_optimizers()
    loss = -vae.elbo(x).mean()
    loss.backward()
    for name, p in vae.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    first = loss.item()
    for _ in range(150):
        opt.zero_grad()
        loss = -vae.elbo(x).mean()
        loss.backward()
        opt.step()
    assert loss.item() < first - 1.5
    assert vae.sample(5).shape == (5, 1, 4, 4)


def test_vae_refuses_continuous_data_and_bad_arguments():
    opt = functools.partial(torch.optim.Adam, lr=1e-3)
    with pytest.raises(IncompatibleDataError, match="discrete"):
        FlowVAE((2,), planar_flow, opt)
    with pytest.raises(ConfigError, match="latent_dim"):
        FlowVAE((1, 4, 4), planar_flow, opt, latent_dim=0, num_levels=17)


def test_cli_vae_on_digits(cfg_factory):
    cfg = cfg_factory(
        ["model=vae_planar", "data=digits", "data.image_size=8", "model.iw_samples=20"]
    )
    metrics = train(cfg)
    assert {"test/nll", "test/neg_elbo"} <= set(metrics)
    assert metrics["test/nll"] <= metrics["test/neg_elbo"] + 1.0
    with pytest.raises(IncompatibleDataError):
        build(cfg_factory(["model=vae_planar", "data=moons"], sub="moons"))
