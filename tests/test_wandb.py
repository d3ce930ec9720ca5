"""W&B runs offline without an account, writes its files and receives the sample image."""

from __future__ import annotations

from pathlib import Path

import pytest

from gens.train import finish_wandb, train
from gens.utils.wandb import wandb_logged_in


@pytest.mark.slow
def test_wandb_offline_run_writes_files_and_image(cfg_factory, monkeypatch, tmp_path):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb-dir"))
    assert not wandb_logged_in()
    cfg = cfg_factory(
        ["logger=wandb", "data=ring8", "data.n_train=1000", "logger.wandb.id=abc123"]
    )
    train(cfg)
    finish_wandb()  # what main() does after every run, also a failed one
    runs = list(Path(cfg.paths.output_dir).glob("wandb/offline-run-*-abc123"))
    assert len(runs) == 1, list(Path(cfg.paths.output_dir).rglob("*"))
    run = runs[0]
    events = list(run.glob("*.wandb"))
    assert events, "no W&B event file"
    images = list(run.rglob("media/images/samples_*.png"))
    assert images, "the sample plot was not logged to W&B"
    # the run's config is logged (offline runs keep it in the event file until synced)
    assert b"ring8" in events[0].read_bytes()


def test_wandb_logged_in_detection(monkeypatch, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine api.wandb.ai\n  login user\n  password x\n")
    netrc.chmod(0o600)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("NETRC", str(netrc))
    assert wandb_logged_in()
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert not wandb_logged_in()
