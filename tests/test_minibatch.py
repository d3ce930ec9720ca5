"""Minibatch discrimination and minibatch stddev against direct computations."""

from __future__ import annotations

from functools import partial

import pytest
import torch
from torch import nn

from gens.nets import (
    MinibatchDiscrimination,
    MinibatchDiscriminator,
    MinibatchStdDev,
    MLPDiscriminator,
)
from gens.utils.errors import ConfigError


def test_minibatch_discrimination_matches_the_definition():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(6, num_kernels=4, kernel_dim=3)
    f = torch.randn(5, 6)
    layer.log_scale.data.fill_(0.3)  # the per-kernel scale and bias enter as defined
    layer.bias.data.normal_()
    out = layer(f)
    assert out.shape == (5, 6 + 4)
    torch.testing.assert_close(out[:, :6], f)
    m = (f @ layer.T).view(5, 4, 3) * layer.log_scale.exp()[:, None]
    for i in range(5):
        for b in range(4):
            o = sum(torch.exp(-(m[i, b] - m[j, b]).abs().sum()) for j in range(5) if j != i)
            torch.testing.assert_close(out[i, 6 + b], o + layer.bias[b], rtol=1e-5, atol=1e-6)


def test_minibatch_discrimination_data_init():
    """Salimans et al.'s init on the first training batch: half the mean nearest-neighbour L1
    distance is 1 for every kernel, and the features have mean 0 on that batch; once only."""
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(6, num_kernels=4, kernel_dim=3, data_init=True)
    f = torch.randn(9, 6) * 30  # far apart: without the init every c_b would vanish
    out = layer(f)
    m = (f @ layer.T).view(9, 4, 3) * layer.log_scale.exp()[:, None]
    l1 = (m[:, None] - m[None]).abs().sum(-1) + torch.eye(9)[..., None] * 1e9  # (N, N, B)
    torch.testing.assert_close(0.5 * l1.min(1).values.mean(0), torch.ones(4))
    torch.testing.assert_close(out[:, 6:].mean(0), torch.zeros(4), atol=1e-5, rtol=0)
    assert bool(layer.initialized) and "initialized" in layer.state_dict()
    scale = layer.log_scale.detach().clone()
    layer(torch.randn(9, 6))
    torch.testing.assert_close(layer.log_scale.detach(), scale)  # not again
    # a layer loaded from a checkpoint of an initialized one is not initialized again
    loaded = MinibatchDiscrimination(6, num_kernels=4, kernel_dim=3, data_init=True)
    loaded.load_state_dict(layer.state_dict())
    loaded(torch.randn(9, 6) * 100)
    torch.testing.assert_close(loaded.log_scale.detach(), scale)
    # eval mode and data_init=False leave the layer as constructed
    fresh = MinibatchDiscrimination(6, num_kernels=4, kernel_dim=3, data_init=True).eval()
    fresh(f)
    assert not bool(fresh.initialized) and fresh.log_scale.abs().sum() == 0
    off = MinibatchDiscrimination(6, num_kernels=4, kernel_dim=3)  # the paper's layer
    off(f)
    assert off.log_scale.abs().sum() == 0 and off.bias.abs().sum() == 0
    # a collapsed first batch keeps the scale finite
    collapsed = MinibatchDiscrimination(6, num_kernels=4, kernel_dim=3, data_init=True)
    collapsed(f[:1].expand(9, 6))
    assert torch.isfinite(collapsed.log_scale).all() and collapsed.log_scale.abs().sum() == 0


def test_minibatch_features_see_a_collapsed_batch():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(4, num_kernels=8, kernel_dim=2, data_init=False)
    diverse = torch.randn(10, 4) * 5
    collapsed = diverse[:1].expand(10, 4)
    assert layer(collapsed)[:, 4:].mean() > layer(diverse)[:, 4:].mean() + 1.0
    # and gradients reach T
    layer(diverse).sum().backward()
    assert layer.T.grad is not None and layer.T.grad.abs().sum() > 0


def test_minibatch_stddev_matches_the_definition():
    x = torch.randn(8, 3)
    out = MinibatchStdDev(group_size=4)(x)
    assert out.shape == (8, 4)
    for i in range(8):
        group = x[i % 2 :: 2]  # sample i is in group i % (N / G)
        std = (group.var(0, unbiased=False) + 1e-8).sqrt().mean()
        torch.testing.assert_close(out[i, 3], std)
    img = torch.randn(4, 2, 3, 3)
    out = MinibatchStdDev(group_size=4)(img)
    assert out.shape == (4, 3, 3, 3)
    expected = (img.var(0, unbiased=False) + 1e-8).sqrt().mean()
    torch.testing.assert_close(out[:, 2], expected.expand(4, 3, 3))
    with pytest.raises(ConfigError, match="group_size"):
        MinibatchStdDev(group_size=4)(torch.randn(6, 3))


@pytest.mark.parametrize("kind,extra", [("mbd", 7), ("stddev", 1)])
def test_minibatch_discriminator_appends_to_features(kind, extra):
    d = MinibatchDiscriminator(
        (2,), network=partial(MLPDiscriminator, hidden=(16, 8), maxout=2), kind=kind, num_kernels=7
    )
    x = torch.randn(12, 2)
    assert d.features(x).shape == (12, 8 + extra)
    assert d.head.in_features == 8 + extra
    assert d(x).shape == (12,)
    # the logit of a sample depends on the rest of the batch
    x2 = x.clone()
    x2[1:] = 0.0
    assert not torch.allclose(d(x)[0], d(x2)[0])


def test_minibatch_discriminator_errors():
    class NoFeatures(nn.Module):
        def __init__(self, data_shape, num_classes=None):
            super().__init__()

    with pytest.raises(ConfigError, match="features"):
        MinibatchDiscriminator((2,), network=NoFeatures)
    with pytest.raises(ConfigError, match="kind"):
        MinibatchDiscriminator((2,), network=partial(MLPDiscriminator, hidden=(8,)), kind="nope")


def _init_on_rank(rank: int, world: int, init_file: str, out_dir: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    torch.manual_seed(0)  # the same T on every rank, as DDP's broadcast leaves it
    layer = MinibatchDiscrimination(6, num_kernels=4, kernel_dim=3, data_init=True)
    torch.manual_seed(100 + rank)  # but each rank initializes on its own batch
    layer(torch.randn(9, 6) * (1 + rank))
    torch.save({k: v.detach() for k, v in layer.state_dict().items()}, f"{out_dir}/{rank}.pt")
    dist.destroy_process_group()


@pytest.mark.slow
def test_minibatch_data_init_agrees_across_ddp_ranks(tmp_path):
    """Under DDP every rank sees another first batch; the init averages over ranks, so the
    replicas start (and stay) identical."""
    import torch.multiprocessing as mp

    mp.spawn(_init_on_rank, args=(2, str(tmp_path / "pg"), str(tmp_path)), nprocs=2)
    a, b = (torch.load(tmp_path / f"{r}.pt") for r in (0, 1))
    assert a["log_scale"].abs().sum() > 0
    for k in a:
        torch.testing.assert_close(a[k], b[k])
