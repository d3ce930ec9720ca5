"""Discriminator rejection sampling (Azadi et al. 2019): the acceptance rule, exactness of the
sampler with the optimal discriminator, fitting, and its use by the GAN."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gens.sampling import DiscriminatorRejection, acceptance_probability
from gens.train import build
from gens.utils.errors import ConfigError

DATA_MEAN, DATA_STD = 0.5, 0.6  # p_data = N(0.5, 0.6^2); proposals p_g = N(0, 1)


def _log_ratio(x: torch.Tensor) -> torch.Tensor:
    """log p_data(x) - log p_g(x): the logit of the optimal discriminator."""
    z = (x - DATA_MEAN) / DATA_STD
    return -0.5 * z**2 - math.log(DATA_STD) + 0.5 * x**2


class _Optimal(nn.Module):
    def __init__(self, data_shape=(1,)):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x, y=None):
        return _log_ratio(x[:, 0]) + 0 * self.dummy


def _propose(n, g):
    return torch.randn(n, 1, generator=g)


def test_acceptance_is_the_logit_of_exp_d_minus_m_shifted_by_gamma():
    logits = torch.tensor([-5.0, -1.0, -0.1, 0.0, 2.0])
    p0 = acceptance_probability(logits, log_m=0.0, gamma=0.0, eps=1e-12)
    torch.testing.assert_close(p0[:3], torch.exp(logits[:3]))  # plain rejection sampling
    assert p0[3] > 0.999 and p0[4] > 0.999  # at or above the bound: always accepted
    # F(x) = log(e^(D-M) / (1 - e^(D-M))) - gamma, computed directly
    d = torch.tensor([-3.0, -0.5])
    gamma = 1.3
    direct = torch.sigmoid(torch.log(torch.exp(d) / (1 - torch.exp(d))) - gamma)
    torch.testing.assert_close(acceptance_probability(d, 0.0, gamma, eps=0.0), direct)


def test_with_the_optimal_discriminator_rejection_sampling_is_exact():
    drs = DiscriminatorRejection((1,), discriminator=_Optimal, gamma_quantile=None)
    xs = torch.linspace(-6, 6, 10001)
    drs.log_m.fill_(float(_log_ratio(xs).max()))  # the true bound M = max log ratio
    drs.fitted_for.fill_(0)
    x = drs.sample(40_000, _propose, torch.Generator().manual_seed(0))[:, 0]
    assert x.shape == (40_000,)
    assert abs(x.mean() - DATA_MEAN) < 0.02  # se 0.003
    assert abs(x.std() - DATA_STD) < 0.02
    # acceptance rate is 1 / exp(M) for normalized densities
    assert drs.last_acceptance == pytest.approx(math.exp(-float(drs.log_m)), abs=0.02)


def test_fit_sets_the_bound_and_shift_from_the_burn_in_and_moves_samples_to_the_data():
    torch.manual_seed(0)

    def disc(data_shape):
        return _MLP()

    g = torch.Generator().manual_seed(1)
    real = [(torch.randn(200, 1, generator=g) * DATA_STD + DATA_MEAN,) for _ in range(20)]
    drs = DiscriminatorRejection(
        (1,),
        discriminator=disc,
        steps=400,
        batch_size=200,
        lr=3e-3,
        burn_in=4000,
        gamma_quantile=0.5,
    )
    drs.fit(real, _propose, version=7)
    assert drs.is_fitted_for(7) and not drs.is_fitted_for(8)
    burn = drs.logits(_propose(4000, torch.Generator().manual_seed(0)))
    assert float(drs.log_m) == pytest.approx(float(burn.max()), abs=1e-3)  # same noise seed
    # gamma is the median of F: half the burn-in has F above it, i.e. acceptance above 1/2
    assert (drs.accept_prob(burn) > 0.5).float().mean() == pytest.approx(0.5, abs=0.01)
    x = drs.sample(5000, _propose, torch.Generator().manual_seed(2))
    assert abs(x.mean() - DATA_MEAN) < 0.15 and x.std() < 0.85  # proposals: mean 0, std 1
    assert not any(p.requires_grad for p in drs.net.parameters())


class _MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1)
        )

    def forward(self, x, y=None):
        return self.net(x)


def test_sampler_errors_name_the_fix():
    with pytest.raises(ConfigError, match="rejection.steps"):
        DiscriminatorRejection((1,), discriminator=_Optimal, steps=0)
    with pytest.raises(ConfigError, match="gamma_quantile"):
        DiscriminatorRejection((1,), discriminator=_Optimal, gamma_quantile=1.5)
    with pytest.raises(ConfigError, match="unconditional"):
        DiscriminatorRejection((1,), num_classes=10, discriminator=_Optimal)
    drs = DiscriminatorRejection((1,), discriminator=_Optimal)
    with pytest.raises(ConfigError, match="not fitted"):
        drs.sample(10, _propose)
    drs.log_m.fill_(50.0)  # a bound far above every logit: nothing is ever accepted
    drs.fitted_for.fill_(0)
    with pytest.raises(RuntimeError, match="gamma_quantile"):
        drs.sample(10, _propose, max_proposals=1000)


# --- the GAN ------------------------------------------------------------------------------
SMALL = [
    "model.sampling.rejection.steps=30",
    "model.sampling.rejection.burn_in=500",
    "model.sampling.standing_stats=2",
    "model.sampling.rejection.gamma_quantile=0.5",  # accepts about half: few proposals
]


def _gan(cfg_factory, *extra):
    return build(cfg_factory(["model=gan_r1", "data=grid25", *SMALL, *extra]))


def test_gan_samples_through_the_sampler_once_fitted_explicitly(cfg_factory):
    dm, model = _gan(cfg_factory)
    assert model.sampler_fit_needed()
    with pytest.raises(ConfigError, match="fit_sampler"):
        model.sample(10)  # not fitted, and no training under way: the error names the fix
    dm.setup("fit")
    torch.manual_seed(5)
    state = torch.get_rng_state()
    model.fit_sampler(dm.train_dataloader())
    assert not model.sampler_fit_needed()
    x1 = model.sample(300, generator=torch.Generator().manual_seed(0))
    assert torch.equal(torch.get_rng_state(), state)  # fitting and sampling: private RNGs
    assert x1.shape == (300, 2)
    rejection = model.sampler.rejection
    assert rejection.is_fitted_for(2 * model.g_steps + 1)
    assert 0 < rejection.last_acceptance < 1
    x2 = model.sample(300, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(x1, x2)  # same seed, same samples
    raw = model.sample(300, generator=torch.Generator().manual_seed(0), raw=True)
    assert not torch.equal(raw, x1)
    torch.testing.assert_close(
        raw, model.sample(300, generator=torch.Generator().manual_seed(0), rejection=False)
    )
    z = model.noise(4)
    torch.testing.assert_close(model.sample(4, z=z), model.sample(4, z=z, rejection=False))
    model.g_steps += 1  # new weights: the fit is stale until fitted again
    model.sampler.update(model.generator, model.g_steps)
    assert model.sampler_fit_needed()
    with pytest.raises(ConfigError, match="not fitted"):
        model.sample(10)


def test_rejection_true_without_a_sampler_is_a_config_error(cfg_factory):
    _, model = build(cfg_factory(["model=gan", "data=ring8"]))
    with pytest.raises(ConfigError, match="model.sampling.rejection"):
        model.sample(5, rejection=True)


def test_rejection_with_a_conditional_gan_is_a_config_error(cfg_factory):
    with pytest.raises(ConfigError, match="unconditional"):
        _gan(cfg_factory, "data=digits", "model.conditional=true")


def test_copy_of_the_gans_discriminator_is_the_default_sampler_discriminator(cfg_factory):
    dm, model = _gan(cfg_factory, "model.sampling.rejection.discriminator=null")
    net = model.sampler.rejection.net
    assert net is not model.discriminator
    assert type(net) is type(model.discriminator)
    dm.setup("fit")
    model.fit_sampler(dm.train_dataloader())
    model.sample(20)
    assert model.sampler.rejection.is_fitted


def test_a_joint_discriminator_cannot_be_copied_for_rejection(cfg_factory):
    with pytest.raises(ConfigError, match="pairs"):
        build(
            cfg_factory(
                [
                    "model=bigan",
                    "data=ring8",
                    "+model.sampling.rejection._target_=gens.sampling.DiscriminatorRejection",
                    "+model.sampling.rejection._partial_=true",
                ]
            )
        )


def test_training_validates_the_raw_generator_and_tests_through_the_sampler(cfg_factory):
    from gens.train import train
    from gens.utils.checkpoint import fit_sampler, load_model
    from gens.utils.sampling import draw

    cfg = cfg_factory(["model=gan_r1", "data=grid25", "data.n_train=2000", *SMALL])
    metrics = train(cfg)
    assert {"test/modes", "test/hq", "test/rkl"} <= set(metrics)
    model = load_model(f"{cfg.paths.output_dir}/checkpoints/last.ckpt")
    assert fit_sampler(model)  # last.ckpt was written before the fit: scripts fit explicitly
    assert not fit_sampler(model)  # and only once
    x = model.sample(100, generator=torch.Generator().manual_seed(0))
    assert x.shape == (100, 2)
    # gens-sample's draw: the sampler picks its own latents, so none are returned
    xs, ys, zs = draw(model, 50, seed=0)
    assert xs.shape == (50, 2) and ys is None and zs is None
    torch.testing.assert_close(xs, draw(model, 50, seed=0)[0])


def test_validation_during_fit_scores_the_raw_generator(cfg_factory):
    from types import SimpleNamespace

    _, model = _gan(cfg_factory)
    sampler = model.sampler
    model._trainer = SimpleNamespace(state=SimpleNamespace(fn="fit"))
    assert not sampler._use_rejection(model, None, True)  # fitting: the raw generator
    with pytest.raises(ConfigError, match="not fitted"):
        sampler._use_rejection(model, True, True)
    model._trainer.state.fn = "test"
    with pytest.raises(ConfigError, match="not fitted"):
        sampler._use_rejection(model, None, True)
    assert not sampler._use_rejection(model, False, True)


def test_the_final_figure_shows_the_scored_samples_beside_the_raw_generator(
    cfg_factory, monkeypatch
):
    """samples/final.png draws exactly what test/modes, test/hq, test/rkl scored (rejection
    sampled), and the raw generator beside it, both labelled."""
    import gens.callbacks.samples as samples_module
    import gens.callbacks.vector_metrics as vector_module
    from gens.train import train

    scored, drawn = [], []
    mode_metrics = vector_module.mode_metrics

    def spy_metrics(x, *args, **kwargs):
        scored.append(x.detach().cpu().clone())
        return mode_metrics(x, *args, **kwargs)

    def spy_panels(panels, path, real=None):
        drawn.append((path, panels))

    monkeypatch.setattr(vector_module, "mode_metrics", spy_metrics)
    monkeypatch.setattr(samples_module, "save_sample_panels", spy_panels)
    cfg = cfg_factory(["model=gan_r1", "data=grid25", "data.n_train=2000", *SMALL])
    train(cfg)
    path, panels = drawn[-1]
    assert path.name == "final.png"
    (label, x), (raw_label, raw) = panels
    assert "rejection" in label and raw_label == "raw generator"
    torch.testing.assert_close(x, scored[-1])  # the test stage's samples, not a new draw
    assert not torch.equal(raw, x)
