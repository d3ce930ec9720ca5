"""benchmarks.packed_discriminator: the supervised packed-discriminator check."""

from __future__ import annotations

import pytest

from benchmarks import packed_discriminator as bm


def test_quick_run_writes_one_row_per_pack(tmp_path):
    out = bm.main(["--quick", "--out", str(tmp_path / "p.md")])
    rows = [ln for ln in out.read_text().splitlines() if ln.startswith("| ") and ln[2].isdigit()]
    assert [r.split("|")[1].strip() for r in rows] == ["1", "2", "4"]
    assert all(len(r.strip("|").split("|")) == 4 for r in rows)  # pack, 2 windows, verdict


def test_first_learned_names_the_window():
    assert bm.first_learned([1.39, 1.35, 1.2, 1.0], 100) == "200-300"
    assert bm.first_learned([1.39, 1.38], 500) == "not within 1000"


@pytest.mark.slow  # 1,000 training steps: a learning check, like the report card's
def test_unpacked_discriminator_learns_the_grid_within_a_thousand_steps():
    """The check can fail: the plain discriminator must get below chance (log 4) on the
    fixed task, and its windows must fall."""
    means = bm.train(1, 1000, 250)
    assert means[-1] < bm.LEARNED < means[0]


def test_bad_arguments_are_errors(tmp_path):
    with pytest.raises(SystemExit):
        bm.main(["--steps", "10", "--windows", "3", "--out", str(tmp_path / "x.md")])
    with pytest.raises(SystemExit):
        bm.main(["--packs", "0", "--out", str(tmp_path / "x.md")])
