"""A full disk during a checkpoint write fails with a clear error and keeps the previous
checkpoint intact (no partial file, no temp file left behind)."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest
import torch

from gens.train import train
from gens.utils.checkpoint import read_checkpoint
from gens.utils.ckpt_io import AtomicCheckpointIO, atomic_torch_save
from gens.utils.errors import CheckpointError

RUN = ["model=gan", "data=ring8", "data.n_train=2000", "test=false", "trainer.max_epochs=3"]


def _enospc_from_epoch(epoch: int):
    real = AtomicCheckpointIO.dump

    def dump(self, checkpoint, f):
        if checkpoint.get("epoch", 0) >= epoch:
            f.write(b"\0" * 4096)  # a partial write, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(self, checkpoint, f)

    return dump


def test_disk_full_during_training_keeps_previous_checkpoint(cfg_factory, monkeypatch):
    monkeypatch.setattr(AtomicCheckpointIO, "dump", _enospc_from_epoch(1))
    cfg = cfg_factory(RUN)
    with pytest.raises(CheckpointError, match="disk full while writing checkpoint") as info:
        train(cfg)
    assert "previous checkpoint there is kept" in str(info.value)
    ckpt_dir = Path(cfg.paths.output_dir) / "checkpoints"
    ckpt = read_checkpoint(ckpt_dir / "last.ckpt")
    assert ckpt["epoch"] == 0 and ckpt["global_step"] == 8
    assert sorted(p.name for p in ckpt_dir.iterdir() if p.name.startswith(".")) == []


def test_cli_reports_disk_full_in_one_line(run_main, monkeypatch):
    monkeypatch.setattr(AtomicCheckpointIO, "dump", _enospc_from_epoch(1))
    r = run_main(RUN)
    assert r.code == 2 and len(r.error_lines) == 1, r.err[-2000:]
    assert "disk full" in r.error_lines[0] and "resume with ckpt_path=" in r.error_lines[0]
    assert read_checkpoint(r.run_dir / "checkpoints" / "last.ckpt")["epoch"] == 0
    assert not (r.run_dir / "metrics.json").exists()


@pytest.mark.parametrize("fail", ["write", "fsync", "replace"])
def test_atomic_save_failure_modes_keep_the_old_file(tmp_path, monkeypatch, fail):
    path = tmp_path / "last.ckpt"
    atomic_torch_save({"state_dict": {"w": torch.zeros(2)}}, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()

    def boom(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    if fail == "write":
        dump = lambda obj, f: (f.write(b"x" * 100), boom())  # noqa: E731
    else:
        dump = None
        monkeypatch.setattr(os, fail, boom)
    with pytest.raises(CheckpointError, match="disk full"):
        if dump is None:
            atomic_torch_save({"state_dict": {"w": torch.ones(2)}}, path)
        else:
            atomic_torch_save({"state_dict": {"w": torch.ones(2)}}, path, dump=dump)
    monkeypatch.undo()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]
