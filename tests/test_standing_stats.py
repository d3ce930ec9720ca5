"""BigGAN's standing statistics: BatchNorm statistics recomputed for the sampled weights."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gens.sampling import recompute_batch_norm_stats
from gens.train import build
from gens.utils.errors import ConfigError


def test_recomputed_stats_are_the_average_batch_statistics():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)).eval()
    net[1].running_mean.fill_(5.0)  # stale statistics to be replaced

    def inputs(n, g):
        return (torch.randn(n, 3, generator=g) * 2 + 1,)

    recompute_batch_norm_stats(net, inputs, batches=6, batch_size=32, seed=7)
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        h = [net[0](inputs(32, g)[0]) for _ in range(6)]
    torch.testing.assert_close(net[1].running_mean, torch.stack([b.mean(0) for b in h]).mean(0))
    torch.testing.assert_close(
        net[1].running_var, torch.stack([b.var(0, unbiased=True) for b in h]).mean(0)
    )
    assert not net.training and net[1].momentum == 0.1  # mode and momentum restored


def _gan(cfg_factory, *extra):
    # without rejection sampling, which would need fitting first
    cfg = cfg_factory(["model=gan_r1", "data=grid25", "model.sampling.rejection=null", *extra])
    return build(cfg)[1]


def test_sampling_with_standing_stats_leaves_the_global_rng_alone(cfg_factory):
    model = _gan(cfg_factory, "model.sampling.standing_stats=5")
    torch.manual_seed(3)
    state = torch.get_rng_state()
    x1 = model.sample(50, generator=torch.Generator().manual_seed(0))
    assert torch.equal(torch.get_rng_state(), state)
    bn = next(m for m in model.generator_ema.modules() if isinstance(m, nn.BatchNorm1d))
    assert int(bn.num_batches_tracked) == 5
    x2 = model.sample(50, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(x1, x2)  # not recomputed: weights unchanged
    # a generator step makes the statistics stale; they are recomputed on the next sample
    model.sampler.update(model.generator, model.g_steps + 1)
    assert int(bn.num_batches_tracked) != 5  # the EMA update copied the live buffers
    model.sample(10)
    assert int(bn.num_batches_tracked) == 5


def test_standing_stats_below_zero_is_a_config_error(cfg_factory):
    with pytest.raises(ConfigError, match="standing_stats"):
        _gan(cfg_factory, "model.sampling.standing_stats=-1")
