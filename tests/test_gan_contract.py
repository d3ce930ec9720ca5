"""One contract over every GAN config: finite D and G steps, configured regularizers applied or
refused in one line, sample shapes, the EMA generator, and the checkpoint round trip through
Lightning's ``load_from_checkpoint``."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra.utils import get_class

from gens.gan import GAN
from gens.train import build, train
from gens.utils.checkpoint import fit_sampler, read_checkpoint
from gens.utils.errors import ConfigError
from tests.helpers.configs import model_configs

GANS = [name for name, cfg in model_configs().items() if issubclass(get_class(cfg), GAN)]
IMAGE_ONLY = {"began", "dcgan", "pacdcgan"}
REGULARIZERS = ["r1", "r2", "gp", "drift", "ortho"]
# BEGAN's discriminator is an autoencoder: no critic value whose gradient or size to penalize
REFUSED = {("began", r) for r in ("r1", "r2", "gp", "drift")}


def _data(model: str) -> list[str]:
    if model in IMAGE_ONLY:
        return [
            "data=digits",
            "data.image_size=16",
            "data.batch_size=16",
            "model.generator.width=8",
            "model.discriminator.width=8",
            "callbacks.image_metrics=null",
        ]
    return ["data=ring8", "data.n_train=1000"]


def _small(model: str) -> list[str]:
    if model == "gan_r1":  # a short rejection-sampler fit that accepts half its proposals
        return [
            "model.sampling.rejection.steps=20",
            "model.sampling.rejection.burn_in=300",
            "model.sampling.rejection.gamma_quantile=0.5",
            "model.sampling.standing_stats=5",
        ]
    return []


def test_every_gan_config_is_covered():
    assert {"gan", "gan_r1", "wgan", "wgan_gp", "began", "bigan", "veegan"} <= set(GANS)
    assert {"cgan", "acgan", "infogan", "ssgan"} <= set(GANS)


@pytest.mark.parametrize("reg", REGULARIZERS)
@pytest.mark.parametrize("model", GANS)
def test_each_regularizer_is_applied_or_refused(cfg_factory, model, reg):
    cfg = cfg_factory([f"model={model}", *_data(model), f"+reg={reg}"])
    if (model, reg) in REFUSED:
        with pytest.raises(ConfigError, match=f"regularizers.{reg}") as err:
            build(cfg)
        assert "\n" not in str(err.value)
        return
    dm, gan = build(cfg)
    part = gan.regularizers[reg]
    dm.setup("fit")
    real, y = next(iter(dm.train_dataloader()))
    torch.manual_seed(0)
    if part.player == "d":
        loss, logs, judged = gan.d_objective(real, y if gan.conditional else None)
        params = list(gan.discriminator.parameters())
    else:
        loss, logs, judged = torch.zeros(()), {}, None
        params = list(gan.generator.parameters())
    total = gan._regularize(part.player, 0, loss, logs, judged)
    assert reg in logs and torch.isfinite(logs[reg]) and float(logs[reg]) >= 0
    added = sum(  # this one and any the config already has (gan_r1's lazy R1)
        r.weight * r.every * float(logs[name])
        for name, r in gan.regularizers.items()
        if r.player == part.player and name in logs
    )
    tol = 1e-6 * max(1.0, abs(float(loss.detach())))  # the rounding of loss + a small term
    assert float((total - loss).detach()) == pytest.approx(added, rel=1e-4, abs=tol)
    grads = torch.autograd.grad(total - loss, params, allow_unused=True)
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    double = any(r.input_gradients for r in gan.regularizers.values())
    assert gan.double_backward_networks == (("discriminator",) if double else ())


@pytest.mark.parametrize("model", GANS)
def test_gan_trains_samples_and_round_trips(cfg_factory, model):
    extra = [] if (model, "r1") in REFUSED else ["+reg=r1"]
    steps = [
        "trainer.limit_train_batches=6",
        "model.log_every_n_steps=1",
    ]  # n_critic 5: one G step
    cfg = cfg_factory(
        [
            f"model={model}",
            *_data(model),
            *_small(model),
            *extra,
            *steps,
            "model.sampling.ema_decay=0.5",
        ]
    )
    metrics = train(cfg)
    for key in ("train/d_loss", "train/g_loss", *(["train/r1"] if extra else [])):
        assert key in metrics and torch.isfinite(torch.tensor(metrics[key])), key

    path = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    stored = read_checkpoint(path)["state_dict"]
    ema = {k: v for k, v in stored.items() if k.startswith("sampler.ema.")}
    assert ema, "the EMA generator is saved"
    moved = [
        not torch.equal(v, stored["generator." + k.removeprefix("sampler.ema.")])
        for k, v in ema.items()
        if v.is_floating_point() and "running" not in k
    ]
    assert any(moved), "the EMA weights average, they do not copy"

    cls = get_class(cfg.model._target_)
    loaded = cls.load_from_checkpoint(path)
    assert type(loaded) is cls and not loaded.training
    for k, v in loaded.state_dict().items():
        if k in stored:
            assert torch.equal(v, stored[k]), k
    fit_sampler(loaded)
    x = loaded.sample(6, generator=torch.Generator().manual_seed(0))
    assert x.shape == (6, *loaded.data_shape) and torch.isfinite(x).all()
    again = cls.load_from_checkpoint(path)
    z = again.noise(4, torch.Generator().manual_seed(1))
    torch.testing.assert_close(loaded.sample(4, z=z), again.sample(4, z=z))
