"""Crash safety with real processes: SIGKILL at any moment (also in the middle of a checkpoint
write) leaves a loadable ``last.ckpt`` and a ``metrics.json`` that is absent or complete, and
resuming continues; Ctrl-C (SIGINT) saves a checkpoint and exits cleanly."""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path

import pytest
from hydra.core.global_hydra import GlobalHydra

from gens.train import train
from gens.utils.checkpoint import read_checkpoint
from tests.conftest import compose_cfg
from tests.reliability.conftest import FAST, finish, spawn

LONG = ["model=gan", "data=ring8", "trainer.limit_train_batches=2", "trainer.max_epochs=10000"]
SLOW_IO = "trainer.plugins=[{_target_:tests.reliability.helpers.SlowCheckpointIO,delay:2.0}]"


def _wait_for(cond, proc, timeout: float = 480.0, what: str = "") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        if proc.poll() is not None:
            raise AssertionError(f"process exited ({proc.returncode}) waiting for {what}")
        time.sleep(0.02)
    proc.kill()
    raise AssertionError(f"timed out waiting for {what}")


def _check_run_dir(run_dir: Path) -> int | None:
    """last.ckpt loads if present; metrics.json is absent or a complete JSON object."""
    metrics = run_dir / "metrics.json"
    if metrics.exists():
        data = json.loads(metrics.read_text())
        assert data and all(k.startswith(("test/", "val/")) for k in data)
    last = run_dir / "checkpoints" / "last.ckpt"
    return read_checkpoint(last)["global_step"] if last.exists() else None


def _resume(tmp_path: Path, ckpt: Path, name: str) -> tuple[Path, int]:
    """Resume in this process (a subprocess start costs more than the training itself)."""
    epoch = read_checkpoint(ckpt)["epoch"]
    run_dir = tmp_path / name
    cfg = compose_cfg(
        [
            *FAST,
            "model=gan",
            "data=ring8",
            "trainer.limit_train_batches=2",
            f"trainer.max_epochs={epoch + 2}",
            f"ckpt_path={ckpt}",
        ],
        run_dir,
        tiny=False,
    )
    try:
        train(cfg)
    finally:
        GlobalHydra.instance().clear()
    assert json.loads((run_dir / "metrics.json").read_text())
    return run_dir, read_checkpoint(run_dir / "checkpoints" / "last.ckpt")["global_step"]


def test_sigkill_during_checkpoint_write(tmp_path):
    run_dir = tmp_path / "killed"
    ckpt_dir = run_dir / "checkpoints"
    proc = spawn([*LONG, SLOW_IO], run_dir)
    try:
        # the first last.ckpt is complete and a second write of it is under way
        _wait_for(
            lambda: (
                (ckpt_dir / "last.ckpt").exists() and (ckpt_dir / ".writing-last.ckpt").exists()
            ),
            proc,
            what="a second write of last.ckpt",
        )
        time.sleep(random.Random(0).uniform(0.1, 1.5))
        assert (ckpt_dir / ".writing-last.ckpt").exists(), "the write finished before the kill"
        proc.send_signal(signal.SIGKILL)
    finally:
        code, out = finish(proc)
    assert code == -signal.SIGKILL
    assert list(ckpt_dir.glob(".last.ckpt.*.tmp")), "no partial temp file: not killed mid-write"
    step = _check_run_dir(run_dir)
    assert step is not None and step > 0
    assert not (run_dir / "metrics.json").exists()
    _, resumed_step = _resume(tmp_path, ckpt_dir / "last.ckpt", "resumed")
    assert resumed_step > step


def test_sigint_saves_checkpoint_and_exits_cleanly(tmp_path):
    run_dir = tmp_path / "interrupted"
    last = run_dir / "checkpoints" / "last.ckpt"
    proc = spawn(LONG, run_dir)
    try:
        _wait_for(last.exists, proc, what="the first last.ckpt")
        before = read_checkpoint(last)["global_step"]
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
    finally:
        code, out = finish(proc, timeout=120)
    assert code == 130, out[-3000:]
    assert "Traceback" not in out
    lines = [ln for ln in out.splitlines() if ln.startswith("gens:")]
    assert len(lines) == 1 and "interrupted at global step" in lines[0], out[-3000:]
    assert f"resume with ckpt_path={last}" in lines[0]
    step = _check_run_dir(run_dir)
    assert step is not None and step >= before
    assert not (run_dir / "metrics.json").exists()
    # one last.ckpt; best.ckpt only from a validation at an epoch end (LONG: 2 batches of one
    # D and one G step each), never from the interrupt step
    names = sorted(p.name for p in last.parent.glob("*.ckpt"))
    assert names in (["last.ckpt"], ["best.ckpt", "last.ckpt"]), names
    if "best.ckpt" in names:
        assert read_checkpoint(last.parent / "best.ckpt")["global_step"] % (2 * 2) == 0
    _, resumed_step = _resume(tmp_path, last, "resumed")
    assert resumed_step > step


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
def test_sigkill_at_random_moments(tmp_path, seed):
    """Kill a short complete run (train, test, metrics.json) at a random moment of its life."""
    rng = random.Random(seed)
    run_dir = tmp_path / "run"
    proc = spawn(
        [
            "model=gan",
            "data=ring8",
            "trainer.limit_train_batches=5",
            "trainer.max_epochs=6",
            SLOW_IO.replace("2.0", "0.3"),
        ],
        run_dir,
    )
    time.sleep(rng.uniform(3.0, 25.0))
    proc.send_signal(signal.SIGKILL)
    finish(proc)
    step = _check_run_dir(run_dir)
    if step is not None and not (run_dir / "metrics.json").exists():
        _resume(tmp_path, run_dir / "checkpoints" / "last.ckpt", "resumed")
