"""The divergence guard's device mechanism (``divergence.mode=device``, the GPU default) on CPU:
the step is skipped by a flag tensor (fused ``found_inf`` or a masked update) and the host reads
it ``lag`` steps later, yet a NaN still never reaches the weights: the weights equal those of
the host mode, which decides before each step. Also: finite losses that explode, a divergence
before the first checkpoint, and learning-rate advice from the model's own config."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import gens.train
from gens.optim.step_skip import StepSkip, takes_found_inf
from gens.train import train
from gens.utils.checkpoint import read_checkpoint
from gens.utils.divergence import DivergenceError
from tests.conftest import run_cli
from tests.reliability.test_divergence import BREAKING, _all_finite

DEVICE = ["divergence.mode=device", "divergence.lag=3"]


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: torch.optim.Adam(ps, lr=0.1, fused=True),
        lambda ps: torch.optim.Adam(ps, lr=0.1),
        lambda ps: torch.optim.RMSprop(ps, lr=0.1, momentum=0.9),
    ],
    ids=["fused_adam", "adam", "rmsprop"],
)
def test_step_skip_leaves_weights_and_state_untouched(make):
    w = torch.nn.Parameter(torch.ones(3))
    conv = torch.nn.Parameter(torch.ones(2, 3, 2, 2).to(memory_format=torch.channels_last))
    opt = make([w, conv])
    skip = StepSkip(opt)
    assert skip.native == takes_found_inf(opt)
    for step in range(4):
        bad = step in (0, 2)  # a skipped first step must not leave state behind either
        for p in (w, conv):
            p.grad = torch.full_like(p, float("nan") if bad else 1.0 + step)
        before = {
            id(p): (p.detach().clone(), {k: v.clone() for k, v in opt.state[p].items()})
            for p in (w, conv)
        }
        skip.arm(torch.tensor(bad))
        opt.step()
        for p in (w, conv):
            old, old_state = before[id(p)]
            if bad:
                assert torch.equal(p, old)
                assert all(
                    torch.equal(v, torch.zeros_like(v) if step == 0 else old_state[k])
                    for k, v in opt.state[p].items()
                )
            else:
                assert not torch.equal(p, old) and bool(torch.isfinite(p).all())
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert not hasattr(opt, "found_inf")


def _capture_model(monkeypatch) -> list:
    built = []
    real = gens.train.build

    def build(cfg):
        dm, model = real(cfg)
        built.append(model)
        return dm, model

    monkeypatch.setattr(gens.train, "build", build)
    return built


def _weights(model) -> dict:
    # parameters: BatchNorm statistics keep following the forward passes after the bad step
    return {k: v.detach().clone() for k, v in model.named_parameters()}


@pytest.mark.parametrize("mode, words", [("loss", ["g_loss=nan"]), ("grad", ["gradient of"])])
def test_stop_on_the_device_keeps_the_weights_of_the_step_before(
    cfg_factory, monkeypatch, mode, words
):
    built = _capture_model(monkeypatch)
    errors = []
    for how in (["divergence.mode=host"], DEVICE):
        cfg = cfg_factory(
            [*BREAKING, "+model.break_at=[5]", f"+model.mode={mode}", *how], sub=how[0]
        )
        with pytest.raises(DivergenceError) as info:
            train(cfg)
        errors.append(str(info.value))
    host, device = (_weights(m) for m in built)
    assert all(torch.equal(host[k], device[k]) for k in host)
    assert _all_finite(device)
    # same step named; the device read it later and says so
    assert errors[0].split(":")[0] == errors[1].split(":")[0]
    for w in ["epoch 1", "skipped on the device", "last.ckpt", *words]:
        assert w in errors[1], errors[1]


def test_skip_on_the_device_trains_as_the_host_does(cfg_factory):
    finals = []
    for how in (["divergence.mode=host"], DEVICE):
        cfg = cfg_factory(
            [*BREAKING, "+model.break_at=[2,5]", "divergence.policy=skip", *how]
            + ["trainer.max_epochs=2"],
            sub=how[0],
        )
        train(cfg)
        ckpt = read_checkpoint(Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt")
        guard = [v for k, v in ckpt["callbacks"].items() if k.startswith("DivergenceGuard")]
        assert guard[0]["skipped"] == 2
        finals.append(ckpt["state_dict"])
    assert _all_finite(finals[1])
    assert all(torch.equal(finals[0][k], finals[1][k]) for k in finals[0])


def test_skip_on_the_device_gives_up_after_max_skips(cfg_factory):
    cfg = cfg_factory(
        [
            *BREAKING,
            "+model.break_at=[2]",
            "+model.forever=true",
            "divergence.policy=skip",
            "divergence.max_skips=3",
            *DEVICE,
        ]
    )
    with pytest.raises(DivergenceError, match="3 skipped steps in a row"):
        train(cfg)


def test_finite_exploding_loss_stops(cfg_factory):
    # a vanilla GAN at lr 1e6: losses around 1e29 within a few steps, never a NaN
    huge = [*BREAKING[:3], "model.optimizer_d.lr=1e6", "model.optimizer_g.lr=1e6", "test=false"]
    cfg = cfg_factory([*huge, "trainer.max_epochs=2", "trainer.limit_train_batches=20"])
    with pytest.raises(
        DivergenceError, match=r"above divergence.max_loss=1e\+12 in absolute value at 20 checks"
    ):
        train(cfg)
    off = cfg_factory(
        [*huge, "trainer.limit_train_batches=12", "divergence.max_loss=null"], sub="b"
    )
    train(off)  # the check is the only thing that stops it


def test_divergence_before_any_checkpoint_says_so_and_keeps_the_run(run_main):
    r = run_main([*BREAKING[:4], "+model.break_at=[1]"])
    assert r.code == 2
    line = r.error_lines[0]
    assert "global step 1" in line and "no checkpoint had been written yet" in line, line
    assert "last.ckpt" not in line
    assert (r.run_dir / "train.log").is_file()


def test_flow_lr_advice_quotes_the_flow_config(cfg_factory):
    cfg = cfg_factory(["model=realnvp", "data=moons", "model.optimizer.lr=1e6", "test=false"])
    with pytest.raises(DivergenceError) as info:
        train(cfg)
    msg = str(info.value)
    assert "learning rate 1e+06 is far too high" in msg
    assert "lower model.optimizer.lr (configs/model/realnvp.yaml trains at" in msg, msg
    assert "GAN" not in msg


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["stop", "skip"])
def test_device_mode_under_ddp(tmp_path, policy):
    args = [
        *BREAKING[:4],
        "+model.break_at=[2]",
        f"divergence.policy={policy}",
        *DEVICE,
        "trainer=ddp_sim",
        "trainer.max_epochs=2",
        "+trainer.limit_train_batches=3",
        "test=false",
        "callbacks.rich_progress_bar=null",
        "+trainer.enable_progress_bar=false",
        "logger=csv",
    ]
    r = run_cli(args, tmp_path)
    runs = list((tmp_path / "logs" / "train" / "runs").iterdir())
    ckpt = runs[0] / "checkpoints" / "last.ckpt"
    if policy == "stop":
        assert r.returncode == 2, r.stderr[-3000:]
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith("gens: error:")]
        assert lines and "g_loss=" in lines[0] and "skipped on the device" in lines[0]
        assert not ckpt.exists() or _all_finite(read_checkpoint(ckpt)["state_dict"])
    else:
        assert r.returncode == 0, r.stderr[-3000:]
        state = read_checkpoint(ckpt)
        assert _all_finite(state["state_dict"])
        guard = [v for k, v in state["callbacks"].items() if k.startswith("DivergenceGuard")]
        assert guard[0]["skipped"] == 1


def test_device_mode_leaves_the_grad_scaler_its_found_inf(cfg_factory, monkeypatch):
    """16-mixed (a GradScaler, which hands fused Adam its own found_inf): the guard in device
    mode checks losses only and does not touch the scaler's flags."""
    import pytorch_lightning as pl
    from pytorch_lightning.plugins.precision import MixedPrecision

    import gens.callbacks.divergence as divergence
    from gens.train import build

    made = []
    monkeypatch.setattr(divergence, "StepSkip", lambda opt: made.append(opt) or StepSkip(opt))

    small = ["data.image_size=16", "data.batch_size=8", "model.generator.image.width=4"]
    cfg = cfg_factory(
        ["model=wgan_gp", "data=digits", *small, "model.discriminator.image.width=4"]
    )
    dm, model = build(cfg)
    guard = divergence.DivergenceGuard(mode="device", lag=1)
    trainer = pl.Trainer(
        accelerator="cpu",
        plugins=[MixedPrecision("16-mixed", "cpu", scaler=torch.amp.GradScaler("cpu"))],
        callbacks=[guard],
        max_steps=6,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        limit_val_batches=0,
        enable_model_summary=False,
    )
    trainer.fit(model, datamodule=dm)
    assert made == [] and guard.skipped == 0
    assert all(torch.isfinite(p).all() for p in model.parameters())
