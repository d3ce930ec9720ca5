"""Divergence guard: a NaN/Inf loss or gradient stops the run before the optimizer step (or
skips that step, ``divergence.policy=skip``) with a message naming step, loss and likely cause,
and ``last.ckpt`` keeps the last good weights."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from gens.train import train
from gens.utils.checkpoint import read_checkpoint
from gens.utils.ckpt_io import AtomicCheckpointIO
from gens.utils.divergence import DivergenceError
from gens.utils.errors import CheckpointError

BREAKING = [
    "model=gan",
    "data=ring8",
    "data.n_train=2000",
    "model._target_=tests.reliability.helpers.BreakingGAN",
    "test=false",
    "trainer.limit_train_batches=3",
    "trainer.max_epochs=3",
]


def _all_finite(state: dict) -> bool:
    return all(bool(torch.isfinite(v).all()) for v in state.values() if v.is_floating_point())


@pytest.mark.parametrize("mode, words", [("loss", ["g_loss=nan"]), ("grad", ["gradient of"])])
def test_nan_stops_and_keeps_last_good_checkpoint(cfg_factory, mode, words):
    # 3 G steps per epoch: G step 5 is the 2nd batch of epoch 1, after epoch 0 was saved
    cfg = cfg_factory([*BREAKING, "+model.break_at=[5]", f"+model.mode={mode}"])
    with pytest.raises(DivergenceError) as info:
        train(cfg)
    msg = str(info.value)
    assert "\n" not in msg
    for w in ["global step", "epoch 1", "likely cause", "last.ckpt", *words]:
        assert w in msg, msg
    last = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    ckpt = read_checkpoint(last)
    assert ckpt["global_step"] == 6 and ckpt["epoch"] == 0
    assert _all_finite(ckpt["state_dict"])
    assert not (Path(cfg.paths.output_dir) / "metrics.json").exists()


def test_huge_learning_rate_diverges_with_a_clear_cause(cfg_factory):
    # (vanilla GAN's saturating losses stay finite at lr=1e6; WGAN-GP's penalty overflows)
    cfg = cfg_factory(
        [
            "model=wgan_gp",
            "data=ring8",
            "data.n_train=2000",
            "model.optimizer_d.lr=1e6",
            "model.optimizer_g.lr=1e6",
            "trainer.max_epochs=2",
        ]
    )
    with pytest.raises(DivergenceError, match=r"learning rate 1e\+06 is far too high"):
        train(cfg)
    assert not (Path(cfg.paths.output_dir) / "metrics.json").exists()


def test_skip_policy_drops_the_bad_step_and_trains_on(cfg_factory):
    cfg = cfg_factory([*BREAKING, "+model.break_at=[2,5]", "divergence.policy=skip"])
    train(cfg)
    out = Path(cfg.paths.output_dir)
    ckpt = read_checkpoint(out / "checkpoints" / "last.ckpt")
    assert ckpt["epoch"] == 2 and _all_finite(ckpt["state_dict"])
    guard = [v for k, v in ckpt["callbacks"].items() if k.startswith("DivergenceGuard")]
    assert len(guard) == 1 and guard[0]["skipped"] == 2
    assert (out / "metrics.json").exists()


def test_skip_policy_gives_up_after_max_skips(cfg_factory):
    cfg = cfg_factory(
        [
            *BREAKING,
            "+model.break_at=[2]",
            "+model.forever=true",
            "divergence.policy=skip",
            "divergence.max_skips=3",
        ]
    )
    with pytest.raises(DivergenceError, match="3 skipped steps in a row"):
        train(cfg)


def test_skipped_step_leaves_weights_and_optimizer_untouched():
    w = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.Adam([w], lr=0.1)
    (w.sum()).backward()
    opt.step()
    before = (w.detach().clone(), {k: v.clone() for k, v in opt.state[w].items()})
    w.grad = None  # what the guard does on skip
    opt.step()
    assert torch.equal(w, before[0])
    assert all(torch.equal(opt.state[w][k], v) for k, v in before[1].items())


def test_checkpoint_io_refuses_nan_weights(tmp_path):
    io = AtomicCheckpointIO()
    path = tmp_path / "last.ckpt"
    io.save_checkpoint({"state_dict": {"w": torch.ones(2)}}, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(CheckpointError, match="hold NaN"):
        io.save_checkpoint({"state_dict": {"w": torch.tensor([1.0, float("nan")])}}, path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_cli_reports_divergence_in_one_line(run_main):
    r = run_main(BREAKING[:4] + ["+model.break_at=[2]", "trainer.max_epochs=2"])
    assert r.code == 2
    assert len(r.error_lines) == 1 and "training diverged at global step" in r.error_lines[0]
    assert "Traceback" not in r.err
    assert not (r.run_dir / "metrics.json").exists()
