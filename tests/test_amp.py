"""Mixed precision: the gradient penalty under a GradScaler (PyTorch's AMP recipe) equals the
unscaled one, and bf16 autocast reaches the networks during training."""

from __future__ import annotations

import pytest
import pytorch_lightning as pl
import torch

from gens.gan.penalties import gradient_penalty
from gens.nets import DCGANDiscriminator
from gens.train import build


@pytest.mark.parametrize("init_scale", [2.0**10, 2.0**16])
def test_gradient_penalty_is_scale_invariant(init_scale):
    torch.manual_seed(0)
    critic = DCGANDiscriminator(data_shape=(1, 16, 16), width=4, norm="layer")
    real, fake = torch.randn(5, 1, 16, 16), torch.randn(5, 1, 16, 16)
    torch.manual_seed(1)
    plain = gradient_penalty(critic, real, fake)
    scaler = torch.amp.GradScaler("cpu", init_scale=init_scale)
    torch.manual_seed(1)
    scaled = gradient_penalty(critic, real, fake, scaler=scaler)
    assert scaled.item() == pytest.approx(plain.item(), rel=1e-5)
    # the penalty's own gradient is the same too (scaled graph, unscaled values)
    params = list(critic.parameters())
    g1 = torch.autograd.grad(plain, params, retain_graph=True, allow_unused=True)
    g2 = torch.autograd.grad(scaled, params, allow_unused=True)
    assert sum(a is not None for a in g1) >= len(params) - 1  # all but the output bias
    for a, b in zip(g1, g2):
        assert (a is None) == (b is None)
        if a is not None:
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_gradient_penalty_matches_direct_computation():
    torch.manual_seed(0)
    w = torch.randn(3, 1, 4, 4)
    critic = lambda x: (x * w).flatten(1).sum(1)  # noqa: E731  linear: grad = w everywhere
    real, fake = torch.randn(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    expect = ((w.flatten(1).norm(dim=1) - 1) ** 2).mean()
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(expect.item(), rel=1e-5)


class _DtypeProbe(pl.Callback):
    def __init__(self):
        self.dtypes = set()

    def on_train_start(self, trainer, pl_module):
        probe = self

        def hook(mod, inp, out):
            probe.dtypes.add(out.dtype)

        pl_module.discriminator.register_forward_hook(hook)


def test_bf16_autocast_reaches_the_networks(cfg_factory):
    cfg = cfg_factory(
        [
            "model=wgan_gp",
            "data=digits",
            "data.image_size=16",
            "data.batch_size=8",
            "model.generator.image.width=4",
            "model.discriminator.image.width=4",
        ]
    )
    dm, model = build(cfg)
    probe = _DtypeProbe()
    trainer = pl.Trainer(
        accelerator="cpu",
        precision="bf16-mixed",
        max_steps=2,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        callbacks=[probe],
        limit_val_batches=0,
        enable_model_summary=False,
    )
    trainer.fit(model, datamodule=dm)
    assert torch.bfloat16 in probe.dtypes


def test_fp16_grad_scaler_reaches_the_penalty(cfg_factory, monkeypatch):
    """The 16-mixed path of GPUs, on CPU: Lightning's MixedPrecision plugin with a GradScaler;
    WGAN-GP hands the trainer's scaler to the penalty, and training stays finite."""
    from pytorch_lightning.plugins.precision import MixedPrecision

    import gens.gan.regularizers as regularizers_module

    seen = []

    def spy(*args, scaler=None, **kwargs):
        seen.append(scaler)
        return gradient_penalty(*args, scaler=scaler, **kwargs)

    monkeypatch.setattr(regularizers_module, "gradient_penalty", spy)
    cfg = cfg_factory(
        [
            "model=wgan_gp",
            "data=digits",
            "data.image_size=16",
            "data.batch_size=8",
            "model.generator.image.width=4",
            "model.discriminator.image.width=4",
        ]
    )
    dm, model = build(cfg)
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    trainer = pl.Trainer(
        accelerator="cpu",
        plugins=[MixedPrecision("16-mixed", "cpu", scaler=scaler)],
        max_steps=3,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        limit_val_batches=0,
        enable_model_summary=False,
    )
    trainer.fit(model, datamodule=dm)
    assert len(seen) == 3 and all(s is scaler for s in seen)
    assert all(torch.isfinite(p).all() for p in model.parameters())
