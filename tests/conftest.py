"""Shared fixtures: compose the Hydra config for CPU with tiny budgets, in a temp run dir."""

from __future__ import annotations

import copy
import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from gens.utils.quiet import NOISE_WARNINGS

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = str(ROOT / "configs")


def pytest_configure(config):
    """One torch thread in each process that runs tests; the xdist controller, which runs
    none, does not import torch at all (seconds of start-up on two cores).

    Tests that drive a Trainer themselves silence the library noise a gens run silences
    (``gens.utils.quiet``). Under xdist this also keeps the controller light: it imports the
    module of each reported warning's category, and Lightning's categories import Lightning.
    """
    for pattern in NOISE_WARNINGS:
        config.addinivalue_line("filterwarnings", f"ignore:{pattern}")
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return
    import torch

    torch.set_num_threads(1)
    _keep_parsed_config_files()


def pytest_collection_finish(session):
    """Freeze what start-up and collection left in memory (about 490,000 objects of torch,
    Lightning, Hydra and the collected tests) so that full garbage collections stop scanning
    them, and let five times as many younger collections pass before a full one. On
    ``test_compat.py`` + ``test_gan_contract.py`` a worker's time in the collector fell from
    7.8 s to 4.9 s."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(700, 10, 50)


def _keep_parsed_config_files() -> None:
    """Parse each YAML config file once per test process, not once per composition.

    Hydra reads and parses about 30 files for every composition and the suite composes more
    than 1,000 times. Hydra already keeps a parsed file for the lookups of one composition
    (its ``CachingConfigRepository``); this keeps it for the whole process, keyed by the
    search path, so a test with its own config directory still reads its own files. The
    defaults-list lookups only read a kept file. The lookup that merges it gets a copy where
    Hydra would merge the kept file itself (a primary or ``_global_`` config), because a merge
    or an override may write into a node it took whole; a file placed under a package is
    copied by Hydra already.
    ``test_parsed_config_files_are_shared_and_compose_the_same`` checks the results are equal.
    If Hydra's internals move, compositions simply parse every time again.
    """
    try:
        from hydra._internal import config_loader_impl
        from hydra._internal.config_repository import CachingConfigRepository
    except ImportError:
        return
    loader = config_loader_impl.ConfigLoaderImpl
    if getattr(config_loader_impl.CachingConfigRepository, "shared", None) is not None:
        return
    if not hasattr(loader, "_load_single_config"):
        return
    parsed: dict = {}

    class SharedCachingConfigRepository(CachingConfigRepository):
        shared = parsed

        def load_config(self, config_path):
            key = (tuple(s.full_path() for s in self.get_sources()), config_path)
            if key not in parsed:
                parsed[key] = self.delegate.load_config(config_path=config_path)
            return parsed[key]

    load_single = loader._load_single_config

    def load_single_copy(self, default, repo):
        result = load_single(self, default, repo)
        if result.config is repo.load_config(config_path=default.config_path).config:
            result = copy.copy(result)
            result.config = copy.deepcopy(result.config)
        return result

    config_loader_impl.CachingConfigRepository = SharedCachingConfigRepository
    loader._load_single_config = load_single_copy


# Overrides that make any config run in seconds on CPU.
TINY = [
    "trainer.max_epochs=1",
    "+trainer.limit_train_batches=4",
    "+trainer.limit_val_batches=1",
    "+trainer.limit_test_batches=1",
    "trainer.accelerator=cpu",
    "trainer.devices=1",
    "logger=csv",
    "callbacks.rich_progress_bar=null",
    "+trainer.enable_progress_bar=false",
    # image runs: FID/IS/KID on few samples (++: harmless when callbacks=none)
    "++callbacks.image_metrics.n=64",
    "++callbacks.image_metrics.n_test=128",
    "++callbacks.image_metrics.n_real=256",
    # vector runs: metrics and the figure on 500 samples (MMD and plotting grow with n), and
    # flows' density figures on a 50x50 grid
    "++callbacks.vector_metrics.n=500",
    "++callbacks.sample_plot.n=500",
    "++callbacks.density_plot.n_grid=50",
]


# ... and what the in-process entry-point runs add: less data, no sample figures
FAST = [*TINY, "data.n_train=2000", "callbacks.sample_plot=null"]


def compose_cfg(overrides: list[str], out_dir: Path, tiny: bool = True) -> DictConfig:
    """Compose ``train.yaml`` with overrides; the run directory is ``out_dir``."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(
            config_name="train.yaml",
            return_hydra_config=True,
            overrides=(TINY if tiny else []) + list(overrides),
        )
    with open_dict(cfg):
        cfg.paths.output_dir = str(out_dir)
        cfg.paths.log_dir = str(out_dir / "logs")
        cfg.hydra.runtime.output_dir = str(out_dir)
        cfg.hydra.job.num = 0
        cfg.hydra.job.id = 0
    HydraConfig().set_config(cfg)
    return cfg


@pytest.fixture
def cfg_factory(tmp_path):
    """``cfg_factory(["model=gan", "data=ring8"])`` -> composed config in a temp run dir."""

    def make(overrides: list[str], tiny: bool = True, sub: str = "run") -> DictConfig:
        return compose_cfg(overrides, tmp_path / sub, tiny=tiny)

    yield make
    GlobalHydra.instance().clear()


def run_cli(args: list[str], cwd: Path, timeout: int = 600, script: str = "train.py"):
    """Run an entry point in a subprocess; returns the CompletedProcess."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GENS_ROOT": str(cwd), "WANDB_MODE": "offline"}
    env.pop("WANDB_API_KEY", None)
    # this checkout's gens, also for entry points outside the repository root (scripts/)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, str(ROOT / script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Result:
    def __init__(self, code: int, out: str, err: str, run_dir: Path):
        self.code, self.out, self.err, self.run_dir = code, out, err, run_dir

    @property
    def error_lines(self) -> list[str]:
        return [ln for ln in self.err.splitlines() if ln.startswith("gens:")]


def _run_entry(main, argv: list[str], capsys, monkeypatch, root: Path) -> tuple[int, str, str]:
    """Call a Hydra entry point ``main`` with ``argv`` in this process, as its console command
    would (importing torch once for the whole suite instead of once per subprocess)."""
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setenv("GENS_ROOT", str(root))
    GlobalHydra.instance().clear()
    capsys.readouterr()
    code = 0
    try:
        main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    finally:
        GlobalHydra.instance().clear()
        HydraConfig.instance().cfg = None  # the run's config, half torn down by Hydra
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.fixture
def run_main(tmp_path, capsys, monkeypatch):
    """``run_main(["model=gan", ...], name="a")``: ``python train.py ...`` in this process;
    returns exit code, stdout, stderr and the run directory."""
    from gens.train import main

    def run(args: list[str], name: str = "run", fast: bool = True) -> Result:
        run_dir = tmp_path / name
        argv = ["train.py", *(FAST if fast else []), *args, f"hydra.run.dir={run_dir}"]
        code, out, err = _run_entry(main, argv, capsys, monkeypatch, tmp_path)
        return Result(code, out, err, run_dir)

    return run


@pytest.fixture
def run_tool(tmp_path, capsys, monkeypatch):
    """``run_tool("sample", ["n=10", ...])``: a ``gens-<tool>`` command in this process, run
    from ``tmp_path``; returns exit code, stdout, stderr."""
    import importlib

    def run(tool: str, args: list[str]) -> Result:
        monkeypatch.chdir(tmp_path)
        main = importlib.import_module(f"gens.cli.{tool}").main
        code, out, err = _run_entry(main, [tool, *args], capsys, monkeypatch, tmp_path)
        return Result(code, out, err, tmp_path)

    return run
