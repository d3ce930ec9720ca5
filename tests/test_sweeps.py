"""Sweeps: Optuna through the task's return value, failed trials, launchers, multirun dirs."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import yaml
from omegaconf import OmegaConf

from gens.utils.errors import GensError
from gens.utils.sweep import failure_value, objective
from tests.conftest import ROOT, compose_cfg, run_cli

# A few batches, no progress bar: each job takes seconds.
QUICK = [
    "data.n_train=2000",
    "trainer.max_epochs=1",
    "+trainer.limit_train_batches=4",
    "+trainer.limit_val_batches=1",
    "+trainer.limit_test_batches=1",
    "callbacks.rich_progress_bar=null",
    "+trainer.enable_progress_bar=false",
    "logger=csv",
]


def _job_dirs(sweep_dir: Path) -> list[Path]:
    return sorted((p for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit()), key=str)


def _only_sweep_dir(root: Path, task: str) -> Path:
    (sweep,) = (root / "logs" / task / "multiruns").iterdir()
    assert not (root / "logs" / task / "runs").exists(), "a job ran outside the sweep dir"
    return sweep


def test_objective_returns_metric_and_bad_value_for_nan():
    cfg = OmegaConf.create({"optimized_metric": "test/rkl", "sweep_failure_value": None})
    assert objective(cfg, {"test/rkl": 0.5, "test/hq": 0.9}) == 0.5
    assert objective(cfg, {"test/rkl": float("nan")}) == math.inf
    assert objective(cfg, {"test/rkl": float("-inf")}) == math.inf
    cfg.sweep_failure_value = 100.0
    assert objective(cfg, {"test/rkl": float("nan")}) == 100.0
    assert failure_value(cfg) == 100.0
    assert objective(OmegaConf.create({"optimized_metric": None}), {"a": 1.0}) is None
    with pytest.raises(GensError, match="was not logged"):
        objective(cfg, {"test/hq": 0.9})


def test_failure_value_follows_sweep_direction(tmp_path):
    cfg = compose_cfg(["hparams_search=wgan_gp_grid25_optuna"], tmp_path)
    assert failure_value(cfg) == math.inf
    cfg = compose_cfg(
        ["hparams_search=wgan_gp_grid25_optuna", "hydra.sweeper.direction=maximize"], tmp_path
    )
    assert failure_value(cfg) == -math.inf


@pytest.mark.parametrize(
    "overrides, tasks",
    [
        (["trainer=ddp", "trainer.devices=4"], 4),
        (["trainer=ddp_sim"], 2),
        (["trainer=gpu"], 1),
    ],
)
def test_slurm_launcher_runs_one_task_per_device(tmp_path, overrides, tasks):
    cfg = compose_cfg(["hydra/launcher=slurm", *overrides], tmp_path, tiny=False)
    launcher = OmegaConf.to_container(cfg.hydra.launcher, resolve=True)
    assert launcher["_target_"].endswith("SlurmLauncher")
    assert launcher["tasks_per_node"] == tasks == cfg.trainer.devices
    assert launcher["nodes"] == 1
    cfg = compose_cfg(["hydra/launcher=slurm", *overrides, "+trainer.num_nodes=2"], tmp_path)
    assert OmegaConf.to_container(cfg.hydra.launcher, resolve=True)["nodes"] == 2


def test_local_parallel_launcher_composes(tmp_path):
    cfg = compose_cfg(["hydra/launcher=local_parallel"], tmp_path)
    assert cfg.hydra.launcher._target_.endswith("LocalLauncher")


@pytest.mark.slow
def test_optuna_sweep_survives_failed_trials(tmp_path):
    """3 trials; n_critic=0 trials fail (ConfigError) and report inf instead of ending it."""
    r = run_cli(
        [
            "-m",
            "hparams_search=wgan_gp_grid25_optuna",
            "hydra.sweeper.n_trials=3",
            "model.n_critic=choice(0,1)",
            *QUICK,
        ],
        tmp_path,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    sweep = _only_sweep_dir(tmp_path, "wgan_gp_grid25_optuna")
    jobs = _job_dirs(sweep)
    assert [p.name for p in jobs] == ["0", "1", "2"]
    ok = [p for p in jobs if (p / "metrics.json").is_file()]
    failed = [p for p in jobs if p not in ok]
    assert ok and failed, "the seeded sampler should draw both n_critic values"
    for p in failed:
        cfg = yaml.safe_load((p / ".hydra" / "overrides.yaml").read_text())
        assert "model.n_critic=0" in cfg
    result = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert result["best_params"]["model.n_critic"] == 1
    assert math.isfinite(result["best_value"])
    assert "reporting inf" in r.stdout + r.stderr


@pytest.mark.slow
def test_multirun_models_in_parallel_one_dir_per_job(tmp_path, monkeypatch):
    # submitit runs each job in a fresh interpreter that imports gens: this checkout's
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    r = run_cli(["-m", "model=gan,wgan_gp", "hydra/launcher=local_parallel", *QUICK], tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    sweep = _only_sweep_dir(tmp_path, "train")
    jobs = _job_dirs(sweep)
    assert [p.name for p in jobs] == ["0", "1"]
    for p, model in zip(jobs, ["gan", "wgan_gp"]):
        assert (p / "metrics.json").is_file() and (p / "checkpoints" / "last.ckpt").is_file()
        assert f"model={model}" in (p / ".hydra" / "overrides.yaml").read_text()


def test_realnvp_moons_search_space_reaches_the_model(tmp_path):
    cfg = compose_cfg(
        ["hparams_search=realnvp_moons_optuna", "search.width=32", "model.transform.layers=4"],
        tmp_path,
    )
    assert cfg.optimized_metric == "test/nll"
    assert set(cfg.hydra.sweeper.params) == {
        "model.transform.layers",
        "search.width",
        "model.optimizer.lr",
    }
    from gens.train import build

    _, model = build(cfg)
    assert list(cfg.model.transform.hidden) == [32, 32]
    linears = [m for m in model.transform.modules() if isinstance(m, torch.nn.Linear)]
    assert linears and all(m.out_features in (32, 2, 4) for m in linears)
    couplings = [t for t in model.transform.transforms if "Coupling" in type(t).__name__]
    assert len(couplings) == 4
