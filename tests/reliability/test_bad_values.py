"""Values that a library rejects (Lightning's trainer, W&B, torchvision's download, submitit's
SLURM launcher) and failed jobs of a multirun: one ``gens: error:`` line each, no traceback,
no run directory left behind."""

from __future__ import annotations

import json
import shutil
import urllib.error

import pytest
import torch

from tests.conftest import FAST, TINY
from tests.reliability.test_bad_input import GAN, assert_clean_failure


@pytest.mark.parametrize(
    "override, words",
    [
        ("data.batch_size=abc", ["data.batch_size=abc"]),
        ("seed=abc", ["seed must be an integer"]),
        ("trainer.precision=bogus", ["trainer.precision=bogus", "Allowed precision"]),
        ("trainer.devices=many", ["trainer.devices=many"]),
        ("trainer.max_epochs=abc", ["trainer.max_epochs"]),
        ("trainer.limit_val_batches=0.001", ["trainer:", "limit_val_batches"]),
    ],
)
def test_values_a_library_rejects(run_main, override, words):
    r = run_main([*GAN, override])
    assert_clean_failure(r, *words)
    assert not r.run_dir.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_gpu_trainer_without_a_gpu(run_main):
    # the run's own trainer settings, without the CPU of the test budget
    cpu = {"trainer.accelerator=cpu", "trainer.devices=1"}
    r = run_main([*GAN, "trainer=gpu", *(a for a in FAST if a not in cpu)], fast=False)
    assert_clean_failure(r, "trainer.accelerator=gpu", "CUDA GPU", "trainer=gpu")
    assert not r.run_dir.exists()


def test_wandb_online_without_a_login(run_main, monkeypatch, tmp_path):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    r = run_main([*GAN, "logger=wandb", "logger.wandb.offline=false"])
    assert_clean_failure(r, "logger.wandb.offline=false", "wandb login", "WANDB_API_KEY")
    assert not r.run_dir.exists()


def test_download_without_a_network(run_main, monkeypatch, tmp_path):
    from gens.data.vision import CIFAR10DataModule

    def offline(self):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(CIFAR10DataModule, "download_files", offline)
    root = tmp_path / "data" / "cifar10"
    r = run_main(
        [*TINY, "model=dcgan", "data=cifar10", "data.download=true", f"data.root={root}"],
        fast=False,
    )
    assert_clean_failure(r, "downloading CIFAR-10", str(root), "network")
    assert not r.run_dir.exists()
    assert not root.exists() and not root.parent.exists()


@pytest.mark.skipif(shutil.which("sbatch") is not None, reason="SLURM is installed")
def test_slurm_launcher_off_a_cluster(run_main, tmp_path):
    sweep = f"hydra.sweep.dir={tmp_path / 'sweep'}"
    r = run_main(["-m", *FAST, *GAN, "hydra/launcher=slurm", sweep], fast=False)
    assert r.code == 2, r.err[-2000:]
    assert len(r.error_lines) == 1 and "sbatch" in r.error_lines[0], r.err[-2000:]
    assert "Traceback" not in r.err
    assert not (tmp_path / "sweep").exists()


def test_multirun_with_a_bad_job(run_main, tmp_path):
    sweep = tmp_path / "sweep"
    r = run_main(["-m", *FAST, *GAN, "model.n_critic=0,1", f"hydra.sweep.dir={sweep}"], fast=False)
    assert r.code == 2, r.err[-2000:]
    assert "Traceback" not in r.err
    assert len(r.error_lines) == 2, (r.out + r.err)[-3000:]
    job, summary = r.error_lines
    assert job.startswith("gens: error: job 0 (") and "n_critic must be >= 1" in job
    assert "1 of 2 jobs failed" in summary and "model.n_critic=0" in summary
    assert (sweep / "1" / "metrics.json").is_file()  # the good job ran after the bad one
    assert (
        not list((sweep / "0").glob("**/*.ckpt")) and not (sweep / "0" / "metrics.json").exists()
    )
    jobs = [json.loads(line) for line in (sweep / "jobs.jsonl").read_text().splitlines()]
    assert [j["ok"] for j in sorted(jobs, key=lambda j: j["num"])] == [False, True]


def test_search_where_every_trial_fails(run_main, tmp_path):
    r = run_main(
        [
            "-m",
            *FAST,
            "hparams_search=realnvp_moons_optuna",
            "hydra.sweeper.n_trials=1",
            "optimized_metric=test/not_logged",
            f"hydra.sweep.dir={tmp_path / 'sweep'}",
        ],
        fast=False,
    )
    assert r.code != 0, r.err[-2000:]
    assert "Traceback" not in r.err
    assert "no trial succeeded" in r.error_lines[-1], r.err[-2000:]
