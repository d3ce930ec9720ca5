"""Fixtures of the reliability suite: the CLI entry point run in-process (fast) and as a real
subprocess (signals), plus a finished tiny run to take checkpoints from."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra.core.global_hydra import GlobalHydra

from tests.conftest import TINY

ROOT = Path(__file__).resolve().parents[2]
FAST = [*TINY, "data.n_train=2000", "callbacks.sample_plot=null"]


class Result:
    def __init__(self, code: int, out: str, err: str, run_dir: Path):
        self.code, self.out, self.err, self.run_dir = code, out, err, run_dir

    @property
    def error_lines(self) -> list[str]:
        return [ln for ln in self.err.splitlines() if ln.startswith("gens:")]


@pytest.fixture
def run_main(tmp_path, capsys, monkeypatch):
    """``run_main(["model=gan", ...], name="a")``: ``python train.py ...`` in this process;
    returns exit code, stdout, stderr and the run directory."""

    def run(args: list[str], name: str = "run", fast: bool = True) -> Result:
        run_dir = tmp_path / name
        argv = ["train.py", *(FAST if fast else []), *args, f"hydra.run.dir={run_dir}"]
        monkeypatch.setattr(sys, "argv", argv)
        monkeypatch.setenv("GENS_ROOT", str(tmp_path))
        GlobalHydra.instance().clear()
        capsys.readouterr()
        from gens.train import main

        code = 0
        try:
            main()
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        finally:
            GlobalHydra.instance().clear()
        cap = capsys.readouterr()
        return Result(code, cap.out, cap.err, run_dir)

    return run


def spawn(args: list[str], run_dir: Path, env: dict | None = None, fast: bool = True):
    """Start ``train.py`` as a subprocess (for signals); stdout/stderr go to files in tmp."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "WANDB_MODE": "offline"}
    full_env.pop("WANDB_API_KEY", None)
    full_env.update(env or {})
    full_env["PYTHONPATH"] = str(ROOT)
    log = run_dir.parent / f"{run_dir.name}.log"
    f = open(log, "w")  # noqa: SIM115 - closed by the caller through proc.log_file
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "train.py"),
            *(FAST if fast else []),
            *args,
            f"hydra.run.dir={run_dir}",
        ],
        cwd=run_dir.parent,
        env=full_env,
        stdout=f,
        stderr=subprocess.STDOUT,
    )
    proc.log_file, proc.log_path = f, log
    return proc


def finish(proc, timeout: float = 300) -> tuple[int, str]:
    try:
        code = proc.wait(timeout)
    finally:
        proc.log_file.close()
    return code, proc.log_path.read_text()
