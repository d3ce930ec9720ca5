"""benchmarks.gpu: the prepared GPU check runs end to end on the CPU (``--dry-run``), writes
its page and results where it is told (never docs/benchmarks/), and says in one line that
there is no GPU otherwise."""

from __future__ import annotations

import json
import subprocess

import pytest
import torch

from benchmarks import gpu
from benchmarks.common import PAGES, ROOT


def _stamp():
    page = PAGES / "gpu.md"
    return page.stat().st_mtime_ns if page.exists() else None


def test_dry_run_end_to_end(tmp_path):
    before = _stamp()
    assert gpu.main(["--dry-run", "--out", str(tmp_path)]) == 0
    assert _stamp() == before
    res = json.loads((tmp_path / "gpu_results.json").read_text())
    assert res["dry_run"] and res["device"] == "CPU"
    timed = [r for r in res["dcgan"] if "skipped" not in r]
    assert [r["variant"] for r in timed] == list(gpu.DRY_VARIANTS)
    for r in timed:
        assert r["gens_images_per_s"] > 0 and r["plain_images_per_s"] > 0 and r["ratio"] > 0
    assert res["wgan_gp"]["finite"] and "train/gp" in res["wgan_gp"]["losses"]
    assert [r["model"] for r in res["flows"]] == ["realnvp", "glow"]
    assert all(
        r["train_images_per_s"] > 0 and r["log_prob_images_per_s"] > 0 for r in res["flows"]
    )
    assert res["fidelity"]["n"] == gpu.DRY["fid_n"]
    assert set(res["fidelity"]["scores"]) == {"fid", "is", "is_std", "kid", "kid_std"}
    page = (tmp_path / "gpu.md").read_text()
    assert "plain/gens" in page and "Dry run" in page


@pytest.mark.skipif(torch.cuda.is_available(), reason="the machine has a GPU")
def test_without_a_gpu_it_says_so_and_exits_0(capsys):
    assert gpu.main([]) == 0
    assert "no CUDA GPU" in capsys.readouterr().out
    r = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu.sh")], capture_output=True, text=True
    )
    assert r.returncode == 0 and r.stdout.count("\n") == 1 and "no NVIDIA GPU" in r.stdout


def test_random_inception_has_the_standard_architecture():
    from benchmarks.gpu_parts import RandomInception

    net = RandomInception()
    n = sum(p.numel() for p in net.parameters())
    assert net.net.fc.out_features == 1008 and 23_000_000 < n < 25_000_000
    pool, logits = net.both(torch.zeros(1, 3, 32, 32))
    assert pool.shape == (1, 2048) and logits.shape == (1, 1008)
