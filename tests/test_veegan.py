"""VEEGAN: joint discriminator on (z, x), the objectives of Algorithm 1, who trains what."""

from __future__ import annotations

from functools import partial

import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from gens.gan import VEEGAN
from gens.nets import MLPDiscriminator, MLPGenerator, MLPReconstructor
from gens.utils.errors import ConfigError


def _model(**kw):
    torch.manual_seed(0)
    return VEEGAN(
        partial(MLPGenerator, hidden=(16,)),
        partial(MLPDiscriminator, hidden=(16,), maxout=2),
        partial(torch.optim.Adam, lr=1e-3),
        partial(torch.optim.Adam, lr=1e-3),
        reconstructor=partial(MLPReconstructor, hidden=(16,)),
        data_shape=(2,),
        latent_dim=3,
        **kw,
    )


def test_veegan_networks_are_sized_from_data_and_latent():
    m = _model()
    assert m.discriminator.inner.body[0].linear.in_features == 2 + 3
    assert m.reconstructor(torch.randn(4, 2)).shape == (4, 3)
    names = {id(p) for p in m.generator_parameters()}
    assert all(id(p) in names for p in m.reconstructor.parameters())


def test_veegan_objectives_match_algorithm_1():
    m = _model(recon_weight=0.5)
    real = torch.randn(8, 2)
    torch.manual_seed(3)
    loss_d, _, _ = m.d_objective(real, None)
    torch.manual_seed(3)
    z = torch.randn(8, 3)
    pos = m.discriminator.inner(torch.cat([m.generator(z), z], 1))
    neg = m.discriminator.inner(torch.cat([real, m.reconstructor(real)], 1))
    direct = -F.logsigmoid(pos).mean() - torch.log1p(-torch.sigmoid(neg)).mean()
    torch.testing.assert_close(loss_d, direct, rtol=1e-5, atol=1e-6)

    torch.manual_seed(4)
    loss_g, logs = m.g_objective(real, None)
    torch.manual_seed(4)
    z = torch.randn(8, 3)
    x = m.generator(z)
    adv = m.discriminator.inner(torch.cat([x, z], 1)).mean()
    recon = ((z - m.reconstructor(x)) ** 2).sum(1).mean()
    torch.testing.assert_close(loss_g, adv + 0.5 * recon)
    torch.testing.assert_close(logs["recon_z"], recon.detach())


def test_reconstructor_gets_only_the_reconstruction_gradient():
    m = _model(recon_weight=0.0)
    loss, _ = m.g_objective(torch.randn(8, 2), None)
    loss.backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in m.reconstructor.parameters())
    m.zero_grad()
    m.recon_weight = 1.0
    m.g_objective(torch.randn(8, 2), None)[0].backward()
    assert any(p.grad.abs().sum() > 0 for p in m.reconstructor.parameters())


def test_veegan_errors():
    with pytest.raises(ConfigError, match="conditional"):
        _model(conditional=True, num_classes=3)
    with pytest.raises(ConfigError, match="recon_weight"):
        _model(recon_weight=-1)
