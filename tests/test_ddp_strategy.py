"""PerOptimizerDDP (``gens.strategies``): exact gradient averaging on 2 gloo CPU ranks, identical
ranks, and full ``train.py`` runs under ``trainer=ddp_sim_per_optimizer`` that checkpoint, load
and resume."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import hydra
import pytest
import torch

from gens.strategies import PerOptimizerDDP
from gens.strategies.coalesced import buckets
from gens.utils.checkpoint import load_model, read_checkpoint
from gens.utils.errors import ConfigError
from tests.conftest import ROOT, run_cli
from tests.ddp_exactness_worker import LR, AutoModule, ReplayGAN
from tests.test_ddp import DCGAN_SMALL, QUICK

PER_OPT = ["trainer=ddp_sim_per_optimizer" if a == "trainer=ddp_sim" else a for a in QUICK]


def _run_worker(mode: str, out: Path) -> list[dict]:
    r = subprocess.run(
        [sys.executable, "-m", "tests.ddp_exactness_worker", str(out), mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return [torch.load(out / f"rank{i}.pt", weights_only=True) for i in range(2)]


def _average_grads(models, params_of) -> list[torch.Tensor | None]:
    """DDP's rule: mean over ranks, a missing gradient counts as zero, None if none has one."""
    out = []
    for ps in zip(*(list(params_of(m)) for m in models)):
        grads = [p.grad for p in ps]
        if all(g is None for g in grads):
            out.append(None)
            continue
        out.append(sum(g if g is not None else torch.zeros_like(p) for g, p in zip(grads, ps)) / 2)
    return out


@torch.no_grad()
def _sgd(models, params_of, avg) -> None:
    for m in models:
        for p, g in zip(params_of(m), avg):
            if g is not None:
                p -= LR * g


def _copy_buffers(src, dst) -> None:
    for a, b in zip(src.buffers(), dst.buffers()):
        b.copy_(a)


def _assert_state(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for k in want:
        torch.testing.assert_close(got[k], want[k], rtol=1e-5, atol=1e-6, msg=k)


def _check_start(recs, build) -> None:
    built0, built1 = build(0).state_dict(), build(1).state_dict()
    assert any(not torch.equal(built0[k], built1[k]) for k in built0), "seeds must differ"
    for rec in recs:  # rank 1 built other weights; the strategy broadcast rank 0's
        _assert_state(rec["init"], built0)
    for b0, b1 in zip(recs[0]["batches"], recs[1]["batches"]):
        assert not torch.equal(b0, b1), "ranks must see different data for the check to bite"


def test_gan_gradients_are_the_average_of_local_gradients(tmp_path):
    """Manual optimization, BatchNorm in G and D, R1 penalty (double backward): each D and G
    update equals the average of the ranks' local gradients of an unwrapped copy, and both
    ranks end with identical weights and buffers (rank 0's BatchNorm statistics)."""
    recs = _run_worker("gan", tmp_path)
    _check_start(recs, ReplayGAN)
    models = []
    for rec in recs:
        m = ReplayGAN(0)
        m.load_state_dict(rec["init"])
        m.replay = list(rec["noise"])
        models.append(m)
    d_params = lambda m: m.discriminator.parameters()  # noqa: E731
    g_params = lambda m: m.generator.parameters()  # noqa: E731
    for b in range(len(recs[0]["batches"])):
        for m, rec in zip(models, recs):
            m.zero_grad(set_to_none=True)
            loss, logs, judged = m.d_objective(rec["batches"][b], None)
            m._regularize("d", m.d_steps, loss, logs, judged).backward()
        _sgd(models, d_params, _average_grads(models, d_params))
        for m, rec in zip(models, recs):
            m.d_steps += 1
            m.zero_grad(set_to_none=True)
            m.discriminator.requires_grad_(False)
            m.g_objective(rec["batches"][b], None)[0].backward()
            m.discriminator.requires_grad_(True)
        _sgd(models, g_params, _average_grads(models, g_params))
        _copy_buffers(models[0], models[1])
    assert all(not m.replay for m in models), "every recorded noise draw was replayed"
    for rec, m in zip(recs, models):
        _assert_state(rec["final"], m.state_dict())
    _assert_state(recs[1]["final"], recs[0]["final"])


@pytest.mark.slow
def test_automatic_optimization_averages_in_the_closure(tmp_path):
    """Automatic optimization (flows): the average happens after the closure's backward; a
    parameter no rank uses keeps grad None (no step), one used on rank 1 only gets half its
    gradient on both ranks."""
    recs = _run_worker("auto", tmp_path)
    _check_start(recs, AutoModule)
    models = []
    for rec in recs:
        m = AutoModule(0)
        m.load_state_dict(rec["init"])
        models.append(m)
    params = lambda m: m.parameters()  # noqa: E731
    for b in range(len(recs[0]["batches"])):
        for r, (m, rec) in enumerate(zip(models, recs)):
            m.zero_grad(set_to_none=True)
            m.loss(rec["batches"][b], r).backward()
        avg = _average_grads(models, params)
        _sgd(models, params, avg)
        _copy_buffers(models[0], models[1])
    for rec, m in zip(recs, models):
        _assert_state(rec["final"], m.state_dict())
    final, init = recs[1]["final"], recs[1]["init"]
    assert torch.equal(final["unused.weight"], init["unused.weight"])
    assert not torch.equal(final["rank_one_only"], init["rank_one_only"])


def test_buckets_split_by_dtype_and_size():
    ts = [torch.zeros(10), torch.zeros(10, dtype=torch.float64), torch.zeros(10), torch.zeros(30)]
    assert list(buckets(ts, bucket_bytes=80)) == [[0, 2], [3], [1]]


def test_wrapper_options_are_a_clear_error():
    with pytest.raises(ConfigError, match="find_unused_parameters"):
        PerOptimizerDDP(find_unused_parameters=True)
    with pytest.raises(ConfigError, match="bucket_cap_mb"):
        PerOptimizerDDP(bucket_cap_mb=0)


# --- the real path: train.py under trainer=ddp_sim_per_optimizer ---------------------
def _train(tmp: Path, args: list[str]) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    r = run_cli([*PER_OPT, *args], tmp)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "PerOptimizerDDP: 2 ranks" in r.stdout + r.stderr
    (run,) = (tmp / "logs" / "train" / "runs").iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics and all(math.isfinite(v) for v in metrics.values())
    return run / "checkpoints" / "last.ckpt"


def _check_checkpoint(ckpt: Path):
    keys = read_checkpoint(ckpt)["state_dict"].keys()
    assert not any(k.startswith("module.") for k in keys), "no DDP wrapper prefixes"
    model = load_model(ckpt)
    assert torch.isfinite(model.sample(8)).all()
    return model


@pytest.mark.slow
def test_ddp_sim_gan_with_ema_trains_loads_and_resumes(tmp_path):
    args = ["model=gan", "data=grid25", "data.n_train=2000", "model.sampling.ema_decay=0.9"]
    ckpt = _train(tmp_path / "a", args)
    first = _check_checkpoint(ckpt)
    assert first.g_steps == 4 and first.generator_ema is not None
    resumed = _train(tmp_path / "b", [*args, "trainer.max_epochs=2", f"ckpt_path={ckpt}"])
    assert _check_checkpoint(resumed).g_steps == 8


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(
            ["model=realnvp", "data=moons", "data.n_train=2000"],
            id="realnvp-auto-opt",
            marks=pytest.mark.slow,
        ),
        pytest.param(DCGAN_SMALL, id="dcgan-batchnorm", marks=pytest.mark.slow),
        pytest.param(
            ["model=wgan_gp", "data=grid25", "data.n_train=2000", "model.n_critic=2"],
            id="wgan_gp-n_critic-gp",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_ddp_sim_trains_and_checkpoints(tmp_path, args):
    _check_checkpoint(_train(tmp_path, args))


def test_trainer_configs_pick_the_strategy(cfg_factory):
    """ddp_sim keeps Lightning's find-unused DDP (the default, docs/benchmarks/ddp.md);
    ddp_sim_per_optimizer switches to PerOptimizerDDP; a string override still works on it."""
    from pytorch_lightning.strategies import DDPStrategy

    def strategy(overrides):
        cfg = cfg_factory(overrides, tiny=False)
        return hydra.utils.instantiate(cfg.trainer).strategy

    default = strategy(["trainer=ddp_sim"])
    assert type(default) is DDPStrategy
    assert default._ddp_kwargs == {"find_unused_parameters": True}
    assert isinstance(strategy(["trainer=ddp_sim_per_optimizer"]), PerOptimizerDDP)
    back = strategy(
        ["trainer=ddp_sim_per_optimizer", "trainer.strategy=ddp_find_unused_parameters_true"]
    )
    assert type(back) is DDPStrategy


MODELS = sorted(p.stem for p in (ROOT / "configs" / "model").glob("*.yaml"))
DATA_CHOICES = [
    ["data=grid25", "data.n_train=2000"],
    ["data=digits", "data.image_size=16", "data.batch_size=16"],
    ["data=energy_u1"],
]


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_every_model_trains_under_per_optimizer_ddp(cfg_factory, tmp_path, model):
    """Every model trains under PerOptimizerDDP (first compatible data set)."""
    from gens.train import build
    from gens.utils.errors import IncompatibleDataError

    for data in DATA_CHOICES:
        try:
            build(cfg_factory([f"model={model}", *data]))
        except IncompatibleDataError:
            continue
        _check_checkpoint(_train(tmp_path, [f"model={model}", *data]))
        return
    pytest.fail(f"no embedded data set fits model={model}")
