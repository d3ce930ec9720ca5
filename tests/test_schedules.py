"""Learning-rate schedules over the run: their length is derived from the trainer, so a longer
budget stretches them instead of restarting them, and a resume derives it again."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import torch

from gens.optim import CosineDecay, LinearDecay
from gens.train import train
from gens.utils.errors import ConfigError


def _lrs(sched_cls, total, steps, **kw):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=2.0)
    sched = sched_cls(opt, total_steps=total, **kw)
    out = [opt.param_groups[0]["lr"]]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(opt.param_groups[0]["lr"])
    return out


def test_cosine_and_linear_decay_are_their_formulas_and_hold_at_the_end():
    cos = _lrs(CosineDecay, 10, 14)
    for t, lr in enumerate(cos):
        assert lr == pytest.approx(2.0 * 0.5 * (1 + math.cos(math.pi * min(t, 10) / 10)))
    assert cos[10:] == [0.0] * 5  # held, never periodic
    lin = _lrs(LinearDecay, 4, 6, final_ratio=0.25)
    assert lin == pytest.approx([2.0, 1.625, 1.25, 0.875, 0.5, 0.5, 0.5])


def test_the_schedule_length_is_not_stored_so_a_resume_derives_it_again():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    state = CosineDecay(opt, total_steps=10).state_dict()
    assert "total_steps" not in state
    longer = CosineDecay(opt, total_steps=20)
    longer.load_state_dict(state)
    assert longer.total_steps == 20


@pytest.mark.parametrize(
    "model,batches,epochs,max_steps,interval,total",
    [
        ("gan", 1000, 2, -1, "step", 2000),  # one G step per batch
        ("wgan_gp", 1000, 2, -1, "step", 400),  # n_critic 5
        ("gan", 333, 6, -1, "step", 1998),  # PacGAN3's 100-pack batches, 2 x 3 epochs
        ("gan", 1000, 14, -1, "epoch", 14),
        ("gan", 1000, 14, 3000, "epoch", 2),  # max_steps (D + G steps) ends the run first
        ("wgan_gp", 1000, -1, 6000, "step", 1000),  # 6000 optimizer steps = 5000 batches
    ],
)
def test_a_schedule_spans_the_run_the_trainer_will_take(
    cfg_factory, model, batches, epochs, max_steps, interval, total
):
    from types import SimpleNamespace

    from gens.train import build

    _, gan = build(cfg_factory([f"model={model}", "data=ring8", "data.n_train=1000"]))
    gan._trainer = SimpleNamespace(
        estimated_stepping_batches=None,
        num_training_batches=batches,
        max_epochs=epochs,
        max_steps=max_steps,
    )
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = gan.build_scheduler(CosineDecay, opt, interval)
    assert sched.total_steps == total


def test_bad_schedule_lengths_are_config_errors():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ConfigError, match="total_steps"):
        CosineDecay(opt, total_steps=0)


@pytest.mark.parametrize("interval", ["epoch", "step"])
def test_default_recipe_decays_both_rates_to_zero_over_any_budget(cfg_factory, interval):
    """``trainer.max_epochs=28`` on the default recipe (budgeted for 14): both learning rates
    end at 0 and never rise above their start on the way."""
    cfg = cfg_factory(
        [
            "trainer.max_epochs=28",
            "trainer.limit_train_batches=2",
            "trainer.log_every_n_steps=1",
            "model.log_every_n_steps=1",
            f"model.scheduler_interval={interval}",
            "data.n_train=1000",
            "model.sampling.rejection.steps=10",
            "model.sampling.rejection.burn_in=200",
            "model.sampling.standing_stats=0",
            "trainer.limit_val_batches=0",
            "callbacks.sample_plot=null",
            "test=false",
        ]
    )
    train(cfg)
    rows = list(csv.DictReader((Path(cfg.paths.output_dir) / "csv" / "metrics.csv").open()))
    for key in ("train/lr_d", "train/lr_g"):
        lrs = [float(r[key]) for r in rows if r.get(key)]
        assert len(lrs) >= 28
        assert lrs[0] == pytest.approx(3e-4, rel=1e-2) and max(lrs) <= 3e-4 * (
            1 + 1e-6
        )  # float32 logs
        assert all(b <= a + 1e-12 for a, b in zip(lrs, lrs[1:])), key
        assert lrs[-1] < 3e-4 * 0.01  # the last logged step is within the final epoch
