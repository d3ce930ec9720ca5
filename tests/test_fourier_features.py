"""Random Fourier features (Tancik et al. 2020) and the discriminator option that uses them."""

from __future__ import annotations

import math

import pytest
import torch

from gens.nets import MLPDiscriminator
from gens.nets.fourier import FourierFeatures
from gens.utils.errors import ConfigError


def test_mapping_is_x_then_sines_then_cosines_of_gaussian_frequencies():
    ff = FourierFeatures(2, 3, scale=2.0, seed=5)
    b = torch.randn(2, 3, generator=torch.Generator().manual_seed(5)) * 2.0
    torch.testing.assert_close(ff.B, b)
    x = torch.randn(7, 2)
    h = 2 * math.pi * x @ b
    torch.testing.assert_close(ff(x), torch.cat([x, torch.sin(h), torch.cos(h)], 1))
    assert ff.out_features == 8


def test_discriminator_with_fourier_features_keeps_its_frequencies_in_checkpoints():
    d = MLPDiscriminator(data_shape=(2,), hidden=[16, 16], maxout=3, fourier_features=8)
    assert "fourier.B" in d.state_dict()
    assert d.body[0].linear.in_features == 2 + 2 * 8
    x = torch.randn(5, 2, requires_grad=True)
    out = d(x)
    assert out.shape == (5,)
    out.sum().backward()  # input gradients (R1, gradient penalty) flow through the mapping
    assert x.grad is not None and torch.isfinite(x.grad).all()
    d2 = MLPDiscriminator(data_shape=(2,), hidden=[16, 16], maxout=3, fourier_features=8)
    d2.load_state_dict(d.state_dict())
    torch.testing.assert_close(d2(x), out)


@pytest.mark.parametrize("kw", [{"num_features": 0}, {"num_features": 4, "scale": 0.0}])
def test_bad_fourier_settings_are_config_errors(kw):
    with pytest.raises(ConfigError, match="Fourier"):
        FourierFeatures(2, **kw)


def test_fourier_annealing_fades_the_features_in_over_generator_steps(cfg_factory):
    from gens.callbacks import FourierAnnealing
    from gens.train import build

    cfg = cfg_factory(["model=gan", "data=ring8", "model.discriminator.fourier_features=4"])
    _, model = build(cfg)
    ff = model.discriminator.fourier
    fade = FourierAnnealing(start=10, end=30)
    fade.setup(None, model, "fit")
    fade.on_train_start(None, model)
    x = torch.randn(3, 2)
    assert float(ff.gain) == 0.0
    torch.testing.assert_close(ff(x)[:, 2:], torch.zeros(3, 8))  # only x is seen at first
    for steps, gain in [(10, 0.0), (20, 0.5), (30, 1.0), (45, 1.0)]:
        model.g_steps = steps
        fade.on_train_batch_end(None, model, None, None, 0)
        assert float(ff.gain) == pytest.approx(gain)
    assert "discriminator.fourier.gain" in model.state_dict()  # restored on resume


def test_fourier_annealing_errors_name_the_fix(cfg_factory):
    from gens.callbacks import FourierAnnealing
    from gens.train import build

    _, model = build(cfg_factory(["model=gan", "data=ring8"]))
    with pytest.raises(ConfigError, match="fourier_features"):
        FourierAnnealing(10, 30).setup(None, model, "fit")
    with pytest.raises(ConfigError, match="start <= end"):
        FourierAnnealing(30, 10)
