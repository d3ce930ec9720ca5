"""benchmarks.modes: statistics, and the --quick run end to end (Hydra multiruns)."""

from __future__ import annotations

import math
import re

import pytest

from benchmarks import common, modes_rows
from benchmarks import modes as bm


def test_mean_and_standard_error():
    m, se = common.mean_se([1.0, 2.0, 6.0])
    assert m == pytest.approx(3.0)
    assert se == pytest.approx(math.sqrt(((4 + 1 + 9) / 2) / 3))
    assert common.pm(0.9512, 0.0031, "{:.1f}", 100, " %") == "95.1 ± 0.3 %"
    assert math.isnan(common.mean_se([2.0])[1])
    assert common.pm(2.0, float("nan")) == "2.00"
    assert bm.cells((3, (24.0, 0.5), (0.9512, 0.0031), (0.04, 0.01))) == [
        "24.0 ± 0.5",
        "95.1 ± 0.3 %",
        "0.04 ± 0.01",
    ]


def test_verdict_checks_the_targets():
    s = {
        "GAN": (5, (20.0, 1.0), (0.9, 0.01), (0.5, 0.1)),
        "PacGAN4": (5, (25.0, 0.0), (0.95, 0.01), (0.01, 0.01)),
        "VEEGAN": (5, (19.0, 1.0), (0.4, 0.01), (0.3, 0.1)),
        "gens gan_r1": (5, (25.0, 0.0), (0.97, 0.01), (0.02, 0.01)),
    }
    text = "\n".join(bm.verdict(s, "grid25"))
    assert "1/2 (PacGAN4)" in text  # the default recipe is not counted as a remedy
    assert "all three columns: PacGAN4, gens gan_r1" in text


def test_budget_overrides_follow_each_rows_setup():
    """Cosine decay per generator step over the run (its length derived by the model, see
    tests/test_schedules.py), PacGAN's m epochs of 100-pack batches, the per-row learning
    rates, and the own list (the recipe's own schedule) for the rows at their own budget."""
    args = type("Args", (), {"quick": False, "epochs": 2, "lr": 1e-3, "schedule": "cosine"})

    def get(row, key):
        overrides = modes_rows.budget_overrides(row, args)
        return [o.split("=", 1)[1] for o in overrides if o.startswith(key)]

    assert get("GAN", "+schedule@model.scheduler_g") == ["cosine"]
    assert get("GAN", "model.scheduler_interval") == ["step"]
    # PacGAN3: batches of 300 (100 packs of 3), 333 per epoch, 2 x 3 epochs
    assert get("PacGAN3", "+schedule@model.scheduler_d") == ["cosine"]
    assert get("PacGAN3", "trainer.max_epochs") == ["6"]
    assert get("PacGAN4", "trainer.max_epochs") == ["8"]
    assert modes_rows.row_setting("PacGAN4", "model.discriminator.pack", 1) == 4
    assert modes_rows.row_setting("GAN", "model.discriminator.maxout", 1) == 5  # nested config key
    assert modes_rows.row_setting("WGAN-GP", "model.n_critic", 1) == 5  # read from wgan_gp.yaml
    assert modes_rows.row_setting("PacGAN3", "data.batch_size", 100) == 300
    assert get("Unrolled GAN", "model.optimizer_g.lr") == ["0.001"]
    assert get("Unrolled GAN", "model.optimizer_d.lr") == ["0.0001"]
    assert get("GAN", "model.optimizer_d.lr") == ["0.001"]
    assert get("WGAN-GP", "model.optimizer_d.lr") == []  # its paper's own
    assert get("GAN", "trainer.max_epochs") == ["2"]
    assert get("Minibatch Disc.", "trainer.max_epochs") == ["2"]  # its D packs nothing
    own = modes_rows.budget_overrides("gens gan_r1", args)
    assert "trainer.max_epochs=7" in own
    assert not any("schedule" in o for o in own)  # gan_r1's cosine follows the 7 epochs
    args.schedule = "constant"
    assert get("GAN", "+schedule@model.scheduler_g") == []


def _check_table(text: str, rows: list[str], seeds: int):
    for data in ("ring8", "grid25"):
        assert f"## {data}" in text
    for row in rows:
        lines = [ln for ln in text.splitlines() if ln.startswith(f"| {row} |")]
        assert len(lines) == 2, row  # one per data set
        for ln in lines:
            cells = [c.strip() for c in ln.strip("|").split("|")]
            assert re.fullmatch(r"[\d.]+ ± [\d.]+", cells[1]), ln
            assert re.fullmatch(r"[\d.]+ ± [\d.]+ %", cells[2]), ln
            assert cells[4] == str(seeds)
    assert "PacGAN4 (PacGAN paper) | 24.8 ± 0.2 | 93.6 ± 0.6 % | 0.04 ± 0.01" in text


@pytest.mark.slow
def test_quick_benchmark_writes_the_table(tmp_path):
    out = tmp_path / "modes.md"
    rows = ["GAN", "PacGAN2", "gens gan_r1"]
    bm.main(["--quick", "--rows", *rows, "--out", str(out), "--runs-dir", str(tmp_path / "r")])
    text = out.read_text()
    _check_table(text, rows, seeds=2)
    # one multirun per row and data set; every job has its own metrics.json
    for data in ("ring8", "grid25"):
        assert len(list((tmp_path / "r" / "PacGAN2" / data).glob("*/metrics.json"))) == 2
    # PacGAN2 trained on batches of 100 packs of 2 (quick: of the 1,000-point set)
    overrides = tmp_path / "r" / "PacGAN2" / "ring8" / "0" / ".hydra" / "overrides.yaml"
    assert "data.batch_size=200" in overrides.read_text()
    # re-rendering from the stored runs gives the same numbers
    again = tmp_path / "again.md"
    bm.main(
        [
            "--quick",
            "--reuse",
            "--rows",
            *rows,
            "--out",
            str(again),
            "--runs-dir",
            str(tmp_path / "r"),
        ]
    )
    # (the min/run column too: the run stored its times beside its runs)
    strip = lambda t: [ln.split("|")[1:7] for ln in t.splitlines() if ln.startswith("| ")]  # noqa: E731
    assert strip(again.read_text()) == strip(text)
    assert (tmp_path / "r" / "timing.json").is_file()
    assert re.search(r"Wall time [\d.]+ min", again.read_text())


def test_reuse_without_stored_times_says_so(tmp_path):
    assert bm.read_timing(tmp_path / "timing.json") == ({}, None)
    bm.write_timing(tmp_path / "timing.json", {("PacGAN2", "grid25"): 12.5}, 99.0)
    assert bm.read_timing(tmp_path / "timing.json") == ({("PacGAN2", "grid25"): 12.5}, 99.0)


def test_uniform_noise_reference_is_the_area_ratio():
    """Uniform points on the box of the high-quality disks are high quality with probability
    (total disk area) / (box area); every disk lies inside the box, none overlap."""
    for data, k, std, side in (("grid25", 25, 0.05, 8.0 + 0.3), ("ring8", 8, 0.01, 2.0 + 0.06)):
        n, modes, hq, rkl = bm.chance(data, n_seeds=20)
        expected = k * math.pi * (3 * std) ** 2 / side**2
        assert n == 20
        assert abs(hq[0] - expected) < 4 * hq[1], (data, hq, expected)
        assert 0 < modes[0] <= k


def test_verdict_names_rows_at_chance_level():
    s = {
        "GAN": (5, (17.0, 1.0), (0.06, 0.005), (0.7, 0.1)),
        "PacGAN4": (5, (14.0, 1.0), (0.025, 0.002), (0.8, 0.1)),
    }
    noise = (5, (22.6, 0.9), (0.024, 0.001), (0.25, 0.04))
    text = "\n".join(bm.verdict(s, "grid25", noise))
    assert "generator: PacGAN4." in text


@pytest.mark.slow
def test_quick_benchmark_all_rows(tmp_path):
    out = tmp_path / "modes.md"
    bm.main(["--quick", "--out", str(out), "--runs-dir", str(tmp_path / "r")])
    _check_table(out.read_text(), modes_rows.available_rows(), seeds=2)


def test_unknown_row_is_an_error(tmp_path):
    with pytest.raises(SystemExit):
        bm.main(["--quick", "--rows", "NoSuchGAN", "--out", str(tmp_path / "x.md")])


def test_first_seed_shifts_the_seeds(tmp_path):
    args = type("Args", (), {"first_seed": 10, "seeds": 3})
    assert list(bm.seeds(args)) == [10, 11, 12]
    assert bm.seed_range(args) == "seeds 10-12"
    with pytest.raises(SystemExit):
        bm.main(["--quick", "--first-seed", "-1", "--out", str(tmp_path / "x.md")])
