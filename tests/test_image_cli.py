"""``python train.py`` with image configs: user errors end as one ``gens: error:`` line and exit
code 2 (an image model on 2-D points, a data set missing from disk)."""

from __future__ import annotations


def test_cli_errors_for_incompatible_and_missing_data(run_main, tmp_path):
    r = run_main(["model=dcgan", "data=ring8", "logger=none"], name="a", fast=False)
    assert r.code == 2, r.err[-2000:]
    assert "gens: error: DCGAN networks need image data" in r.err
    r = run_main(["model=dcgan", "data=cifar10", "logger=none"], name="b", fast=False)
    assert r.code == 2, r.err[-2000:]
    assert r.error_lines and str(tmp_path / "data" / "cifar10") in r.error_lines[0]
    assert "data_batch_1" in r.error_lines[0] and "data.download=true" in r.error_lines[0]
