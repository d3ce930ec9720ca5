"""PacGAN packing: shapes, which samples go together, batch statistics, losses and the GP."""

from __future__ import annotations

from functools import partial

import pytest
import torch
from torch import nn

from gens.gan.regularizers import gradient_penalty
from gens.nets import MLPDiscriminator, PackedDiscriminator
from gens.nets.pack import pack_samples, packed_shape
from gens.utils.errors import ConfigError


class _Recorder(nn.Module):
    """Records its input; a batch-normed linear layer, so batch statistics can be checked."""

    def __init__(self, data_shape, num_classes=None):
        super().__init__()
        self.data_shape = tuple(data_shape)
        self.bn = nn.BatchNorm1d(data_shape[0]) if len(data_shape) == 1 else nn.Identity()
        self.seen = []

    def forward(self, x, y=None):
        self.seen.append(x)
        return self.bn(x.reshape(len(x), -1) if x.dim() == 2 else x).reshape(len(x), -1).sum(1)


def test_pack_samples_concatenates_consecutive_samples():
    x = torch.arange(12.0).view(6, 2)
    p = pack_samples(x, 3)
    assert p.shape == (2, 6)
    assert torch.equal(p[0], torch.cat([x[0], x[1], x[2]]))
    assert torch.equal(p[1], torch.cat([x[3], x[4], x[5]]))
    img = torch.randn(4, 3, 5, 5)
    pi = pack_samples(img, 2)
    assert pi.shape == (2, 6, 5, 5)
    assert torch.equal(pi[1, 3:], img[3])
    assert packed_shape((3, 5, 5), 4) == (12, 5, 5)


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_packed_discriminator_shapes_and_input_layer(m):
    d = PackedDiscriminator(
        (2,), network=partial(MLPDiscriminator, hidden=(16,), maxout=2), pack=m
    )
    assert d.inner.body[0].linear.in_features == 2 * m
    x = torch.randn(12, 2)
    out = d(x)
    assert out.shape == (12 // m,)
    torch.testing.assert_close(out, d.inner(x.reshape(12 // m, 2 * m)))


def test_fourier_features_encode_each_sample_before_packing():
    from gens.nets.fourier import FourierFeatures

    d = PackedDiscriminator(
        (2,),
        network=partial(MLPDiscriminator, hidden=(16,), maxout=2),
        pack=4,
        fourier_features=8,
    )
    assert d.inner.fourier is None and d.inner.body[0].linear.in_features == 4 * (2 + 16)
    x = torch.randn(12, 2)
    encode = FourierFeatures(2, 8)  # the same seeded frequencies
    torch.testing.assert_close(d(x), d.inner(encode(x).reshape(3, 4 * 18)))
    with pytest.raises(ConfigError, match="vector data"):
        PackedDiscriminator((1, 8, 8), network=MLPDiscriminator, fourier_features=8)


def test_embedding_is_shared_by_the_samples_of_a_pack():
    d = PackedDiscriminator((2,), network=MLPDiscriminator, pack=4, embed=(6,), hidden=(8,))
    assert d.inner.body[0].linear.in_features == 4 * 6
    x = torch.randn(8, 2)
    torch.testing.assert_close(d(x), d.inner(d.embed(x).reshape(2, 24)))
    # swapping two samples of a pack swaps their blocks of the packed input, nothing else
    swapped = x[[1, 0, 2, 3, 4, 5, 6, 7]]
    e, es = d.embed(x).reshape(2, 4, 6), d.embed(swapped).reshape(2, 4, 6)
    torch.testing.assert_close(es[0, [1, 0, 2, 3]], e[0])
    with pytest.raises(ConfigError, match="vector data"):
        PackedDiscriminator((1, 8, 8), network=MLPDiscriminator, embed=(6,))


def test_packing_keeps_batch_statistics_per_pack():
    torch.manual_seed(0)
    d = PackedDiscriminator((2,), network=_Recorder, pack=2)
    real, fake = torch.rand(8, 2) + 5.0, torch.rand(8, 2) - 5.0
    d.train()
    d(real), d(fake)
    # one call per batch: real and generated samples are never mixed in a pack or a BN batch
    assert [t.shape for t in d.inner.seen] == [(4, 4), (4, 4)]
    assert (d.inner.seen[0] > 2).all() and (d.inner.seen[1] < -2).all()
    # BN's running mean is the mean over packed rows: per packed coordinate
    expected = 0.9 * (0.9 * 0 + 0.1 * real.view(4, 4).mean(0)) + 0.1 * fake.view(4, 4).mean(0)
    torch.testing.assert_close(d.inner.bn.running_mean, expected)


def test_packed_loss_is_mean_over_packs():
    from gens.gan.losses import d_minimax

    d = PackedDiscriminator((2,), network=partial(MLPDiscriminator, hidden=(8,), maxout=2), pack=4)
    real, fake = torch.randn(20, 2), torch.randn(20, 2)
    loss = d_minimax(d(real), d(fake))
    pr, pf = d.inner(real.view(5, 8)), d.inner(fake.view(5, 8))
    direct = -torch.log(torch.sigmoid(pr)).mean() - torch.log(1 - torch.sigmoid(pf)).mean()
    torch.testing.assert_close(loss, direct)


def test_packed_gradient_penalty_is_over_the_packed_point():
    torch.manual_seed(0)
    d = PackedDiscriminator((2,), network=partial(MLPDiscriminator, hidden=(8,), maxout=0), pack=2)
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    torch.manual_seed(1)
    gp = gradient_penalty(d, real, fake)
    torch.manual_seed(1)
    eps = torch.rand(3, 1)
    x_hat = (eps * real.view(3, 4) + (1 - eps) * fake.view(3, 4)).requires_grad_(True)
    (g,) = torch.autograd.grad(d.inner(x_hat).sum(), x_hat)
    torch.testing.assert_close(gp, ((g.norm(dim=1) - 1) ** 2).mean())


def test_packing_errors():
    d = PackedDiscriminator((2,), network=partial(MLPDiscriminator, hidden=(8,)), pack=3)
    with pytest.raises(ConfigError, match="divisible by pack=3"):
        d(torch.randn(10, 2))
    with pytest.raises(ConfigError, match="pack must be >= 1"):
        PackedDiscriminator((2,), network=partial(MLPDiscriminator), pack=0)
    with pytest.raises(ConfigError, match="conditional"):
        PackedDiscriminator((2,), network=partial(MLPDiscriminator), pack=2, num_classes=10)


def test_pacgan_batch_not_divisible_is_a_config_error(cfg_factory):
    from gens.train import train

    cfg = cfg_factory(
        ["model=pacgan", "data=ring8", "data.n_train=1000", "model.discriminator.pack=3"]
    )
    with pytest.raises(ConfigError, match="divisible by pack=3"):
        train(cfg)


def test_wgan_gp_with_a_packed_critic_trains(cfg_factory):
    from gens.train import train

    cfg = cfg_factory(
        [
            "model=wgan_gp",
            "data=ring8",
            "data.n_train=1000",
            # packing any critic is a diff: the wrapper's target, the packed network, the pack
            "model.discriminator.vector._target_=gens.nets.PackedDiscriminator",
            "+model.discriminator.vector.network=gens.nets.MLPDiscriminator",
            "+model.discriminator.vector.pack=2",
            "model.discriminator.vector.hidden=[32,32]",
        ]
    )
    metrics = train(cfg)
    assert "test/modes" in metrics
