"""``python train.py`` with image configs: user errors end as one ``gens: error:`` line and exit
code 2 (an image model on 2-D points, a data set missing from disk)."""

from __future__ import annotations

from tests.conftest import run_cli


def test_cli_errors_for_incompatible_and_missing_data(tmp_path):
    r = run_cli(["model=dcgan", "data=ring8", "logger=none"], tmp_path)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "gens: error: DCGAN networks need image data" in r.stderr
    r = run_cli(["model=dcgan", "data=cifar10", "logger=none"], tmp_path)
    assert r.returncode == 2, r.stderr[-2000:]
    line = [s for s in r.stderr.splitlines() if s.startswith("gens: error:")]
    assert line and str(tmp_path / "data" / "cifar10") in line[0]
    assert "data_batch_1" in line[0] and "data.download=true" in line[0]
