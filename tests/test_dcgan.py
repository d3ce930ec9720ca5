"""DCGAN networks: depth follows the resolution, the paper's layer rules, errors on bad data."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gens.nets import DCGANDiscriminator, DCGANGenerator
from gens.nets.dcgan import conv_stages
from gens.utils.errors import IncompatibleDataError


@pytest.mark.parametrize(
    "shape,stages,base",
    [
        ((1, 16, 16), 2, (4, 4)),
        ((3, 32, 32), 3, (4, 4)),
        ((3, 64, 64), 4, (4, 4)),
        ((3, 128, 128), 5, (4, 4)),
        ((1, 28, 28), 2, (7, 7)),
        ((3, 64, 32), 3, (8, 4)),
    ],
)
def test_depth_adapts_to_resolution(shape, stages, base):
    assert conv_stages(shape) == (stages, base)
    g = DCGANGenerator(latent_dim=8, data_shape=shape, width=4)
    d = DCGANDiscriminator(data_shape=shape, width=4)
    x = g(torch.randn(3, 8))
    assert x.shape == (3, *shape) and x.abs().max() <= 1
    assert d(x).shape == (3,)
    n_up = sum(isinstance(m, nn.ConvTranspose2d) for m in g.modules())
    n_down = sum(isinstance(m, nn.Conv2d) for m in d.modules())
    assert n_up == stages and n_down == stages


def test_paper_layer_rules():
    g = DCGANGenerator(latent_dim=100, data_shape=(3, 64, 64))
    d = DCGANDiscriminator(data_shape=(3, 64, 64))
    # G: 1024 -> 512 -> 256 -> 128 -> 3 channels for 64 px, as in the paper's figure 1
    convs = [m for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [c.in_channels for c in convs] == [512, 256, 128, 64]
    assert g.base == (512, 4, 4)
    assert isinstance(list(g.body)[-1], nn.Tanh)
    assert not isinstance(list(g.body)[-2], nn.BatchNorm2d)  # no BN on G's output
    # D: no BN on the input layer, LeakyReLU(0.2), BN after the others
    body = list(d.body)
    assert isinstance(body[0], nn.Conv2d) and isinstance(body[1], nn.LeakyReLU)
    assert body[1].negative_slope == 0.2
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d.modules()) == 3
    assert not any(isinstance(m, nn.Linear) for m in d.body)  # no fully connected hidden layers
    w = torch.cat([c.weight.flatten() for c in convs])
    assert abs(w.std().item() - 0.02) < 0.002


def test_norm_options_and_spectral_norm():
    d = DCGANDiscriminator(data_shape=(1, 32, 32), width=8, norm="layer", spectral_norm=True)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules())
    assert any(isinstance(m, nn.GroupNorm) for m in d.modules())
    d.train()
    for _ in range(20):  # power iterations converge: the largest singular value becomes 1
        d(torch.randn(4, 1, 32, 32))
    w = d.head.weight  # parametrized (normalized) weight
    assert torch.linalg.matrix_norm(w.detach(), ord=2).item() == pytest.approx(1.0, abs=1e-3)
    none = DCGANDiscriminator(data_shape=(1, 32, 32), width=8, norm="none")
    assert not any(isinstance(m, nn.GroupNorm | nn.BatchNorm2d) for m in none.modules())


def test_conditional_shapes():
    g = DCGANGenerator(latent_dim=8, data_shape=(1, 32, 32), num_classes=10, width=4)
    d = DCGANDiscriminator(data_shape=(1, 32, 32), num_classes=10, width=4)
    y = torch.arange(5)
    assert d(g(torch.randn(5, 8), y), y).shape == (5,)


@pytest.mark.parametrize("shape", [(2,), (1, 7, 7), (3, 5, 9)])
def test_vector_or_odd_data_is_incompatible(shape):
    with pytest.raises(IncompatibleDataError):
        DCGANGenerator(latent_dim=8, data_shape=shape)
    with pytest.raises(IncompatibleDataError):
        DCGANDiscriminator(data_shape=shape)
