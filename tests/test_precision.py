"""Mixed precision and network speed options on CPU: bf16-mixed training of the MLP models,
GP / R1 under fp16 and bf16 autocast (with a GradScaler for fp16) against fp32, and the opt-in
channels_last / torch.compile callback (checkpoints keep their keys)."""

from __future__ import annotations

import math
import time

import pytest
import pytorch_lightning as pl
import torch

from gens.callbacks import NetworkOptions
from gens.gan.penalties import grad_sq_norm, gradient_penalty
from gens.nets import MLPDiscriminator
from gens.train import build, train
from gens.utils.checkpoint import load_model

TOY = ["data=grid25", "data.n_train=2000", "data.batch_size=64"]


class _Probe(pl.Callback):
    """Records the dtypes the discriminator computes in."""

    def __init__(self):
        self.dtypes: set[torch.dtype] = set()

    def on_train_start(self, trainer, pl_module):
        pl_module.discriminator.register_forward_hook(lambda m, i, o: self.dtypes.add(o.dtype))


@pytest.mark.parametrize("model", ["gan", "wgan_gp"])
def test_mlp_models_train_in_bf16_mixed(cfg_factory, model):
    cfg = cfg_factory([f"model={model}", *TOY, "model.log_every_n_steps=1"])
    dm, gan = build(cfg)
    probe = _Probe()
    trainer = pl.Trainer(
        accelerator="cpu",
        precision="bf16-mixed",
        max_steps=8,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        callbacks=[probe],
    )
    trainer.fit(gan, datamodule=dm)
    assert torch.bfloat16 in probe.dtypes
    losses = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("train/")}
    assert "train/d_loss" in losses and all(math.isfinite(v) for v in losses.values())
    if model == "wgan_gp":
        assert losses["train/gp"] > 0
    x = gan.sample(100)
    assert x.dtype == torch.float32 and torch.isfinite(x).all()
    assert all(p.dtype == torch.float32 for p in gan.parameters())  # master weights stay fp32


def _critic():
    torch.manual_seed(0)
    return MLPDiscriminator(data_shape=(2,), hidden=(64, 64), maxout=0, act="leaky_relu")


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_penalties_under_autocast_match_fp32(dtype):
    """GP and R1 under autocast stay finite and within low-precision rounding of fp32, values
    and parameter gradients. fp16 follows the GradScaler recipe of training: the penalty's
    input gradient is taken on the scaled critic output, and the loss is scaled again for the
    parameter gradients (as ``manual_backward`` does), then unscaled."""
    critic = _critic()
    real, fake = torch.randn(256, 2), torch.randn(256, 2)
    params = list(critic.parameters())
    fp16 = dtype == torch.float16
    for name, fn in [
        ("gp", lambda s: gradient_penalty(critic, real, fake, scaler=s)),
        ("r1", lambda s: grad_sq_norm(critic, real, scaler=s)),
    ]:
        torch.manual_seed(1)
        ref = fn(None)
        g_ref = torch.autograd.grad(ref, params, allow_unused=True)
        for init_scale in (2.0**10, 2.0**16) if fp16 else (None,):
            scaler = torch.amp.GradScaler("cpu", init_scale=init_scale) if fp16 else None
            torch.manual_seed(1)
            with torch.autocast("cpu", dtype=dtype):
                low = fn(scaler)
            assert torch.isfinite(low), (name, init_scale)  # 2**16 overflows fp16 unless
            assert low.dtype == torch.float32, name  # the penalty backs off its scale
            assert low.item() == pytest.approx(ref.item(), rel=5e-2), (name, init_scale)
        outer = scaler.scale(low) if fp16 else low
        g_low = torch.autograd.grad(outer, params, allow_unused=True)
        for a, b in zip(g_ref, g_low):
            assert (a is None) == (b is None), name  # the output bias has no input gradient
        a = torch.cat([g.flatten() for g in g_ref if g is not None])
        b = torch.cat([g.float().flatten() for g in g_low if g is not None])
        if fp16:
            b = b / scaler.get_scale()
        assert torch.isfinite(b).all(), name
        assert (a - b).norm() / a.norm() < 0.05, name


def test_r1_under_grad_scaler_is_scale_invariant():
    critic = _critic()
    real = torch.randn(64, 2)
    plain = grad_sq_norm(critic, real)
    scaled = grad_sq_norm(critic, real, scaler=torch.amp.GradScaler("cpu", init_scale=2.0**12))
    assert scaled.item() == pytest.approx(plain.item(), rel=1e-5)


def test_gan_with_r1_trains_in_bf16(cfg_factory):
    cfg = cfg_factory(["model=gan", *TOY, "+reg=r1", "trainer.precision=bf16-mixed"])
    metrics = train(cfg)
    assert math.isfinite(metrics["train/r1"]) and metrics["train/r1"] >= 0


def test_channels_last_on_dcgan_keeps_checkpoint_keys(cfg_factory):
    cfg = cfg_factory(
        [
            "model=dcgan",
            "data=digits",
            "data.image_size=16",
            "data.batch_size=16",
            "model.generator.width=8",
            "model.discriminator.width=8",
            "callbacks.network_options.channels_last=true",
        ]
    )
    _, fresh = build(cfg)
    train(cfg)
    ckpt = f"{cfg.paths.output_dir}/checkpoints/last.ckpt"
    model = load_model(ckpt)
    assert set(model.state_dict()) == set(fresh.state_dict())
    assert model.sample(4).shape == (4, 1, 16, 16)


def test_channels_last_applies_to_conv_weights(cfg_factory):
    cfg = cfg_factory(
        ["model=dcgan", "data=digits", "data.image_size=16", "model.discriminator.width=8"]
    )
    _, model = build(cfg)
    NetworkOptions(channels_last=True).setup(None, model, "fit")
    convs = [p for p in model.discriminator.parameters() if p.dim() == 4]
    assert convs and all(p.is_contiguous(memory_format=torch.channels_last) for p in convs)


@pytest.mark.slow
def test_compile_mlp_gan_on_cpu(cfg_factory):
    """torch.compile (in place: same state-dict keys) on a tiny MLP GAN; WGAN-GP's critic is
    left eager because AOTAutograd has no double backward for the penalty."""
    small = ["model.generator.hidden=[16]", "model.discriminator.hidden=[16]"]
    cfg = cfg_factory(["model=gan", *TOY, *small, "callbacks.network_options.compile=true"])
    small = ["model.generator.vector.hidden=[16]", "model.discriminator.vector.hidden=[16]"]
    _, fresh = build(cfg)
    t = time.perf_counter()
    metrics = train(cfg)
    assert time.perf_counter() - t < 180
    assert math.isfinite(metrics["test/rkl"])
    model = load_model(f"{cfg.paths.output_dir}/checkpoints/last.ckpt")
    assert set(model.state_dict()) == set(fresh.state_dict())

    cfg = cfg_factory(
        ["model=wgan_gp", *TOY, *small, "callbacks.network_options.compile=true"], sub="gp"
    )
    _, gp_model = build(cfg)
    NetworkOptions(compile=True).setup(None, gp_model, "fit")
    assert getattr(gp_model.generator, "_compiled_call_impl", None) is not None
    assert getattr(gp_model.discriminator, "_compiled_call_impl", None) is None
    assert math.isfinite(train(cfg)["test/rkl"])
