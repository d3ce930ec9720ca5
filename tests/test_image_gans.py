"""Image GANs on digits: each model trains, BEGAN's k_t, WGAN's clipping, LSGAN's targets,
hinge / spectral norm on any model, incompatible data, bf16 mixed precision, resume of k_t."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
import torch

from gens.gan import BEGAN, LSGAN, WGAN
from gens.gan.began import Equilibrium, update_k
from gens.gan.losses import d_least_squares, g_least_squares
from gens.nets import BEGANDiscriminator, BEGANGenerator, DCGANDiscriminator, DCGANGenerator
from gens.sampling import GeneratorSampler
from gens.train import build, train
from gens.utils.checkpoint import load_model, read_checkpoint
from gens.utils.errors import ConfigError, IncompatibleDataError

IMAGE_MODELS = ["dcgan", "wgan", "wgan_gp", "lsgan", "began"]
SMALL_DIGITS = ["data=digits", "data.image_size=16", "data.batch_size=16"]


def small(model: str) -> list[str]:
    """Narrow networks so a step takes milliseconds."""
    if model == "began":
        nets = ["model.generator.width=8", "model.discriminator.width=8"]
    elif model == "dcgan":
        nets = ["model.generator.width=8", "model.discriminator.width=8"]
    else:
        nets = ["model.generator.image.width=8", "model.discriminator.image.width=8"]
    return [f"model={model}", *SMALL_DIGITS, *nets, "model.log_every_n_steps=1"]


@pytest.mark.parametrize("model", IMAGE_MODELS)
def test_image_model_trains_in_bf16(cfg_factory, model):
    """bf16-mixed on CPU: autocast reaches every network, losses stay finite, samples in range."""
    cfg = cfg_factory([*small(model), "trainer.precision=bf16-mixed"])
    metrics = train(cfg)
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
    assert "train/d_loss" in metrics and "test/d_loss" in metrics or "test/m_global" in metrics
    out = Path(cfg.paths.output_dir)
    assert (out / "samples" / "final.png").is_file()
    m = load_model(out / "checkpoints" / "last.ckpt")
    x = m.sample(6, truncation=1.0)
    assert x.shape == (6, 1, 16, 16) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1


@pytest.mark.parametrize("model", ["dcgan", "began"])
def test_image_only_models_reject_vector_data(cfg_factory, model):
    with pytest.raises(IncompatibleDataError, match="image"):
        build(cfg_factory([f"model={model}", "data=ring8"]))


def test_mlp_gan_flattens_images(cfg_factory):
    """The vector-only MLP GAN of Goodfellow et al. works on images by flattening them."""
    _, m = build(cfg_factory(["model=gan", *SMALL_DIGITS]))
    assert m.sample(3).shape == (3, 1, 16, 16)


def test_shared_configs_pick_networks_by_data_kind(cfg_factory):
    _, img = build(cfg_factory(["model=wgan_gp", *SMALL_DIGITS]))
    _, vec = build(cfg_factory(["model=wgan_gp", "data=ring8"], sub="b"))
    assert isinstance(img.discriminator, DCGANDiscriminator) and img.latent_dim == 128
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in img.discriminator.modules())
    assert not isinstance(vec.discriminator, DCGANDiscriminator) and vec.latent_dim == 2


def test_hinge_and_spectral_norm_on_any_model(cfg_factory):
    cfg = cfg_factory(
        [
            *small("dcgan"),
            "model.loss.d=hinge",
            "model.loss.g=hinge",
            "model.discriminator.spectral_norm=true",
            "model.discriminator.norm=none",
        ]
    )
    metrics = train(cfg)
    assert torch.isfinite(torch.tensor(metrics["train/d_loss"]))
    cfg = cfg_factory(
        [
            "model=gan",
            "data=ring8",
            "data.n_train=2000",
            "+model.discriminator.spectral_norm=true",
            "model.discriminator.maxout=0",
            "model.loss.d=hinge",
            "model.loss.g=hinge",
        ],
        sub="b",
    )
    _, m = build(cfg)
    assert any("parametrizations" in n for n, _ in m.discriminator.named_parameters())


def _tiny(cls, shape=(1, 16, 16), **kw):
    if cls is BEGAN:
        g = lambda **a: BEGANGenerator(**a, width=4)  # noqa: E731
        d = lambda **a: BEGANDiscriminator(**a, width=4, hidden_dim=8)  # noqa: E731
    else:
        g = lambda **a: DCGANGenerator(**a, width=4)  # noqa: E731
        d = lambda **a: DCGANDiscriminator(**a, width=4)  # noqa: E731
    opt = lambda p: torch.optim.SGD(p, lr=0.1)  # noqa: E731
    return cls(g, d, opt, opt, data_shape=shape, latent_dim=8, **kw)


def test_wgan_clips_every_critic_weight():
    m = _tiny(WGAN, clip_value=0.01)
    for p in m.discriminator.parameters():
        p.data.uniform_(-1, 1)
    m.after_d_step()
    for p in m.discriminator.parameters():
        assert p.abs().max() <= 0.01 + 1e-9
    assert any(p.abs().max().item() == pytest.approx(0.01) for p in m.discriminator.parameters())
    with pytest.raises(ConfigError):
        _tiny(WGAN, clip_value=0.0)


def test_lsgan_targets():
    m = _tiny(LSGAN, a=-1.0, b=1.0, c=0.0)
    r, f = torch.randn(5), torch.randn(5)
    assert m.d_loss_fn(r, f).item() == pytest.approx(d_least_squares(r, f, -1, 1).item())
    assert m.g_loss_fn(f).item() == pytest.approx(g_least_squares(f, 0.0).item())
    assert m.d_loss_fn(r, f).item() == pytest.approx(
        (0.5 * (r - 1) ** 2).mean().item() + (0.5 * (f + 1) ** 2).mean().item(), rel=1e-5
    )
    with pytest.raises(ConfigError):
        _tiny(LSGAN, a=1.0, b=1.0)
    with pytest.raises(ConfigError):
        _tiny(LSGAN, loss={"d": "hinge", "g": "hinge"})


def test_began_k_update_rule_and_clipping():
    assert update_k(0.2, 0.4, 0.1, 0.5, 0.001) == pytest.approx(0.2 + 0.001 * (0.2 - 0.1))
    assert update_k(0.0, 0.1, 0.9, 0.5, 0.001) == 0.0  # clipped below
    assert update_k(1.0, 0.9, 0.0, 0.5, 0.5) == 1.0  # clipped above
    assert update_k(0.999, 1.0, 0.0, 1.0, 0.01) == 1.0


def test_began_objectives_follow_the_paper():
    torch.manual_seed(0)
    m = _tiny(BEGAN, equilibrium=Equilibrium(gamma=0.7, lambda_k=0.01, k_init=0.3))
    x = torch.rand(6, 1, 16, 16) * 2 - 1
    l_direct = (x - m.discriminator(x)).abs().mean()
    assert m.recon_loss(x).item() == pytest.approx(l_direct.item(), rel=1e-6)
    loss_d, logs, _ = m.d_objective(x, None)
    assert loss_d.item() == pytest.approx((logs["l_real"] - 0.3 * logs["l_fake"]).item(), 1e-6)
    loss_g, glogs = m.g_objective(x, None)
    expect_k = min(max(0.3 + 0.01 * (0.7 * logs["l_real"].item() - loss_g.item()), 0), 1)
    assert m.k == pytest.approx(expect_k, rel=1e-6)
    m_global = logs["l_real"] + (0.7 * logs["l_real"] - loss_g).abs()
    assert glogs["m_global"].item() == pytest.approx(m_global.item(), rel=1e-6)
    for bad in ({"gamma": 0.0}, {"k_init": 2.0}, {"lambda_k": -1.0}):
        with pytest.raises(ConfigError, match="model.equilibrium"):
            Equilibrium(**bad)
    # flat options (checkpoints written before model.equilibrium) build the same controller
    flat = _tiny(BEGAN, gamma=0.7, lambda_k=0.01, k_init=0.3).equilibrium
    assert (flat.gamma, flat.lambda_k, flat.k) == (0.7, 0.01, 0.3)
    with pytest.raises(ConfigError, match="inside model.equilibrium"):
        _tiny(BEGAN, equilibrium=Equilibrium(), gamma=0.7)
    for bad in ({"eta": 0.0}, {"loss": {"d": "hinge", "g": "hinge"}}):
        with pytest.raises(ConfigError):
            _tiny(BEGAN, **bad)


def test_began_embedding_norm_couples_a_training_batch():
    torch.manual_seed(0)
    kw = {"data_shape": (1, 16, 16), "width": 4, "hidden_dim": 8}
    plain, normed = BEGANDiscriminator(**kw), BEGANDiscriminator(**kw, embed_norm=True)
    assert isinstance(normed.embed_norm, torch.nn.BatchNorm1d)
    x = torch.rand(6, 1, 16, 16) * 2 - 1
    y = x.clone()
    y[1:] = torch.rand(5, 1, 16, 16) * 2 - 1  # same first image, other batch mates
    # without it each reconstruction is the image's own; with it, in training, it depends on
    # the batch (its statistics); in eval the running statistics make it per-image again
    assert torch.allclose(plain(x)[0], plain(y)[0])
    assert not torch.allclose(normed(x)[0], normed(y)[0])
    normed.eval()
    assert torch.allclose(normed(x)[0], normed(y)[0], atol=1e-6)
    # a batch of one image repeated has no spread: its embedding is the BatchNorm shift alone
    normed.train()
    same = normed.encoder(x[:1]).expand(6, -1)
    assert torch.allclose(normed.embed_norm(same), normed.embed_norm.bias.expand(6, -1), atol=1e-3)


def test_began_k_survives_checkpoint_and_resume(cfg_factory):
    cfg = cfg_factory([*small("began"), "model.equilibrium.lambda_k=0.05"])
    train(cfg)
    ckpt = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    k_saved = read_checkpoint(ckpt)["gens"]["extra"]["k"]
    assert 0.0 < k_saved <= 1.0  # lambda_k=0.05 moves k away from 0 within 4 steps
    assert load_model(ckpt).k == pytest.approx(k_saved)
    cfg2 = cfg_factory(
        [
            *small("began"),
            "model.equilibrium.lambda_k=0.0",
            f"ckpt_path={ckpt}",
            "trainer.max_epochs=2",
        ],
        sub="resume",
    )
    train(cfg2)
    ckpt2 = Path(cfg2.paths.output_dir) / "checkpoints" / "last.ckpt"
    assert read_checkpoint(ckpt2)["gens"]["extra"]["k"] == pytest.approx(k_saved)


def test_fixed_noise_sample_grid_is_deterministic():
    m = _tiny(LSGAN, sampling=partial(GeneratorSampler, ema_decay=0.9))
    m.eval()
    a = m.sample(8, z=m.fixed_z[:8])
    b = m.sample(8, z=m.fixed_z[:8])
    assert torch.equal(a, b)
    t = m.sample(8, truncation=0.5, generator=torch.Generator().manual_seed(0))
    assert t.shape == (8, 1, 16, 16)


def test_wgan_critic_boost_schedule():
    """100 critic steps early and every 500th G step in the authors' code; scaled down here."""
    m = _tiny(WGAN, n_critic=2, critic_boost={"iters": 5, "first": 2, "every": 4})
    per_g = []
    d = 0
    while m.g_steps < 9:
        d += 1
        if m.generator_step_due():
            per_g.append(d)
            d = 0
            m.g_steps += 1
    # G steps 0, 1 (first two) and 4, 8 (every 4th) wait for 5 critic steps, the rest for 2
    assert per_g == [5, 5, 2, 2, 5, 2, 2, 2, 5]
    plain = _tiny(WGAN, n_critic=3)
    assert [plain.generator_step_due() for _ in range(6)] == [False, False, True] * 2
    with pytest.raises(ConfigError):
        _tiny(WGAN, critic_boost={"iters": 0})
