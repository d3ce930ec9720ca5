"""DDP on CPU (``trainer=ddp_sim``: 2 processes, gloo) in subprocesses, as a user runs it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch

from gens.train import build
from tests.conftest import run_cli

QUICK = [
    "trainer=ddp_sim",
    "trainer.max_epochs=1",
    "+trainer.limit_train_batches=4",
    "+trainer.limit_val_batches=1",
    "+trainer.limit_test_batches=1",
    "callbacks.rich_progress_bar=null",
    "+trainer.enable_progress_bar=false",
    "logger=csv",
    # the sampling metrics and figures at test sizes (each rank draws them)
    "callbacks.vector_metrics.n=500",
    "callbacks.sample_plot.n=500",
    "callbacks.density_plot.n_grid=50",
]


def _single_run_dir(root: Path) -> Path:
    runs = list((root / "logs" / "train" / "runs").iterdir())
    assert len(runs) == 1, f"DDP workers must share the run directory, got {runs}"
    return runs[0]


def _check_run(run: Path) -> dict:
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics and all(math.isfinite(v) for v in metrics.values())
    assert (run / "checkpoints" / "last.ckpt").is_file()
    return metrics


@pytest.mark.slow
def test_ddp_sim_trains_gan(tmp_path):
    r = run_cli(["model=gan", "data=grid25", "data.n_train=2000", *QUICK], tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "MEMBER: 2/2" in r.stdout + r.stderr
    metrics = _check_run(_single_run_dir(tmp_path))
    assert {"test/modes", "test/rkl"} <= set(metrics)


DCGAN_SMALL = [
    "model=dcgan",
    "data=digits",
    "data.image_size=16",
    "data.batch_size=16",
    "model.generator.width=8",
    "model.discriminator.width=8",
]


def test_sync_batchnorm_on_cpu_is_a_clear_error(run_main):
    """Refused while checking the config, before any rank is started (so in-process here)."""
    r = run_main([*DCGAN_SMALL, *QUICK, "trainer.sync_batchnorm=true"], fast=False)
    assert r.code == 2
    assert "gens: error: trainer.sync_batchnorm=true needs GPUs" in r.err


def test_sync_batchnorm_discriminator_trains_and_checkpoints(cfg_factory):
    """What trainer.sync_batchnorm=true does to DCGAN (BatchNorm in G and D), run on one CPU
    process where SyncBatchNorm computes local statistics: the D step's separate real and fake
    passes and the frozen-D pass of the G step run, and checkpoints keep the plain keys. The
    cross-rank statistics themselves need GPUs (not run here)."""
    cfg = cfg_factory(DCGAN_SMALL)
    dm, model = build(cfg)
    keys = set(model.state_dict())
    model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert any(isinstance(m, torch.nn.SyncBatchNorm) for m in model.discriminator.modules())
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=6,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
    )
    trainer.fit(model, datamodule=dm)
    assert model.g_steps == 3 and model.d_steps == 3
    assert set(model.state_dict()) == keys
    assert torch.isfinite(model.sample(4)).all()


@pytest.mark.slow
def test_multirun_with_ddp_keeps_one_dir_per_job(tmp_path):
    """Workers rerun their own job only: two jobs, two directories, no stray runs."""
    args = ["-m", "model=gan,wgan_gp", "data=grid25", "data.n_train=2000", *QUICK]
    r = run_cli(args, tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    (sweep,) = (tmp_path / "logs" / "train" / "multiruns").iterdir()
    assert not (tmp_path / "logs" / "train" / "runs").exists()
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert jobs == ["0", "1"]
    for job, model in zip(jobs, ["gan", "wgan_gp"]):
        _check_run(sweep / job)
        assert f"model={model}" in (sweep / job / ".hydra" / "overrides.yaml").read_text()
