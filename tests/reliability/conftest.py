"""Fixtures of the reliability suite: the CLI entry point as a real subprocess (signals), plus
a finished tiny run to take checkpoints from; ``run_main`` (in-process) is in tests/conftest.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FAST

ROOT = Path(__file__).resolve().parents[2]


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
