"""One run directory, one run: a run refuses a directory holding another run, a resume in its
own directory keeps the record it continues, a run directory stands for its last.ckpt, and a
resume on other data is refused."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.reliability.test_bad_input import GAN, assert_clean_failure


def _digests(run_dir: Path) -> dict[Path, str]:
    return {
        p.relative_to(run_dir): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(run_dir.rglob("*"))
        if p.is_file()
    }


def test_a_run_refuses_a_directory_holding_another_run(run_main):
    first = run_main(GAN, name="run")
    assert first.code == 0, first.err[-2000:]
    before = _digests(first.run_dir)
    other = run_main(["model=wgan_gp", "data=ring8"], name="run")
    assert other.code == 2, other.err[-2000:]
    assert len(other.error_lines) == 1 and "already holds a run" in other.error_lines[0]
    assert f"ckpt_path={first.run_dir}" in other.error_lines[0]
    assert "Traceback" not in other.err
    assert _digests(first.run_dir) == before


def test_a_resume_in_its_own_directory_keeps_the_record(run_main):
    first = run_main(GAN, name="run")
    assert first.code == 0, first.err[-2000:]
    before = _digests(first.run_dir)
    # a run directory as ckpt_path stands for its checkpoints/last.ckpt
    again = run_main([*GAN, "trainer.max_epochs=2", f"ckpt_path={first.run_dir}"], name="run")
    assert again.code == 0, again.err[-2000:]
    kept = first.run_dir / "previous" / "1"
    for rel in (".hydra/config.yaml", ".hydra/overrides.yaml", "csv/metrics.csv", "metrics.json"):
        assert _digests(kept)[Path(rel)] == before[Path(rel)], rel
    assert "ckpt_path" in (first.run_dir / ".hydra" / "overrides.yaml").read_text()
    assert sorted(p.name for p in (first.run_dir / "checkpoints").glob("last*.ckpt")) == [
        "last.ckpt"
    ]


def test_resume_on_other_data_is_refused_and_changes_nothing(run_main):
    first = run_main(GAN, name="run")
    assert first.code == 0, first.err[-2000:]
    before = _digests(first.run_dir)
    other = run_main(["model=gan", "data=grid25", f"ckpt_path={first.run_dir}"], name="run")
    assert other.code == 2, other.err[-2000:]
    assert len(other.error_lines) == 1, other.err[-2000:]
    for word in ("other data", "data.name: ring8", "grid25"):
        assert word in other.error_lines[0]
    assert "Traceback" not in other.err
    assert _digests(first.run_dir) == before


def test_ckpt_path_directory_without_a_checkpoint(run_main, tmp_path):
    empty = tmp_path / "not_a_run"
    empty.mkdir()
    r = run_main([*GAN, f"ckpt_path={empty}"])
    assert_clean_failure(r, str(empty), "checkpoints/last.ckpt")
