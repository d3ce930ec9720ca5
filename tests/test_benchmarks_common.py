"""benchmarks/: where a page goes, the shared statistics and tables, every harness's CLI."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import common

ROOT = Path(__file__).resolve().parents[1]
HARNESSES = [
    "ddp",
    "default",
    "flows",
    "flows_ar_vi",
    "image_gans",
    "metrics",
    "modes",
    "packed_discriminator",
    "speed",
    "stacked",
]


def _parser(out_is_dir: bool = False):
    p = common.parser("doc", "page.md", out_is_dir=out_is_dir)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--rows", nargs="*", default=None)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("extra", nargs="*")
    return p


def test_only_a_full_run_writes_the_committed_page(tmp_path):
    def out(*argv, neutral=("jobs",)):
        return common.parse(_parser(), list(argv), neutral=neutral).out

    assert out() == common.PAGES / "page.md"
    assert out("--jobs", "4") == common.PAGES / "page.md"  # does not change what is measured
    for partial in (["--quick"], ["--rows", "GAN"], ["--seeds", "2"], ["x=1"]):
        assert out(*partial) == common.SCRATCH / "page.md", partial
        assert out(*partial, "--publish") == common.PAGES / "page.md", partial
        assert out(*partial, "--out", str(tmp_path / "p.md")) == tmp_path / "p.md", partial
    assert out("--jobs", "4", neutral=()) == common.SCRATCH / "page.md"
    args = common.parse(_parser(out_is_dir=True), ["--out", str(tmp_path)])
    assert args.out == tmp_path / "page.md"
    assert common.parse(_parser(), ["--quick", "--rows", "A"]).partial == ["--quick", "--rows"]


def test_write_page_says_where_and_how_to_publish(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(common, "SCRATCH", tmp_path / "logs")
    common.write_page(tmp_path / "logs" / "x.md", "# x\n\n", echo=False)
    assert (tmp_path / "logs" / "x.md").read_text() == "# x\n"
    assert "--publish writes docs/benchmarks/x.md" in capsys.readouterr().out
    common.write_page(tmp_path / "y.md", "# y", echo=False)
    assert "--publish" not in capsys.readouterr().out


def test_statistics_and_tables():
    m, se = common.mean_se([1.0, 2.0, 3.0])
    assert (m, round(se, 6)) == (2.0, round(1 / 3**0.5, 6))
    assert common.pm(0.9, 0.01, "{:.1f}", 100, " %") == "90.0 ± 1.0 %"
    assert common.se0(float("nan")) == 0.0
    assert common.table(["a", "b"], [[1, "x"]], "lr") == ["| a | b |", "|---|---:|", "| 1 | x |"]
    rows = common.merge_rows([{"k": 1, "v": 0}, {"k": 2, "v": 0}], [{"k": 1, "v": 1}], ["k"])
    assert rows == [{"k": 2, "v": 0}, {"k": 1, "v": 1}]
    assert [r for r, _ in common.interleave("ab", 2)] == [0, 0, 1, 1]
    assert "".join(j for _, j in common.interleave("ab", 2)) == "abba"
    assert common.command("benchmarks.modes", ["--rows", "Minibatch Disc."]) == (
        "python -m benchmarks.modes --rows 'Minibatch Disc.'"
    )


@pytest.mark.parametrize("name", HARNESSES)
def test_every_harness_has_help_with_the_publish_rule(name, capsys):
    module = importlib.import_module(f"benchmarks.{name}")
    with pytest.raises(SystemExit) as e:
        module.main(["--help"])
    assert e.value.code == 0
    assert "--publish" in capsys.readouterr().out


def test_a_harness_runs_as_a_module_from_the_repository_root(tmp_path):
    out = tmp_path / "packed.md"
    cmd = [sys.executable, "-m", "benchmarks.packed_discriminator", "--quick", "--packs", "1"]
    proc = subprocess.run(
        [*cmd, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = out.read_text()
    assert "Regenerate: `python -m benchmarks.packed_discriminator --quick --packs 1 --out" in text
    assert f"wrote {out}" in proc.stdout
