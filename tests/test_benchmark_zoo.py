"""benchmarks.zoo: every model config has a row in the harness and on the card, the verdict's
arithmetic, and a quick run of one row end to end into a temporary folder."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from benchmarks import zoo
from benchmarks.zoo_notes import NOTES, note
from benchmarks.zoo_rows import KINDS, ROWS
from benchmarks.zoo_score import progress, verdict

ROOT = Path(__file__).resolve().parents[1]
MODELS = sorted(p.stem for p in (ROOT / "configs" / "model").glob("*.yaml"))


def test_every_model_config_has_a_row_in_the_harness():
    assert set(MODELS) <= {r.model for r in ROWS.values()}
    for name, row in ROWS.items():
        assert row.kind in KINDS, name
        assert (ROOT / "configs" / "data" / f"{row.data}.yaml").is_file(), name


def test_every_model_config_has_a_row_on_the_card():
    text = (ROOT / "docs" / "zoo.md").read_text()
    on_card = set(re.findall(r"^\| ([a-z0-9_]+)[ |]", text, flags=re.M))
    missing = [m for m in MODELS if not any(ROWS[r].model == m for r in on_card if r in ROWS)]
    assert not missing, f"model configs without a row in docs/zoo.md: {missing}"


def test_every_row_that_does_not_learn_says_why():
    results = json.loads((ROOT / "docs" / "zoo" / "results.json").read_text())
    silent = [r for r, res in results.items() if res["verdict"] != "learns" and not note(r)]
    assert not silent, (
        f"rows not reading 'learns' without a note in benchmarks/zoo_notes.py: {silent}"
    )
    assert set(NOTES) <= set(ROWS), "a note for a row that does not exist"


def test_progress_is_one_at_the_floor_and_zero_at_chance():
    assert progress(10.0, 10.0, 2.0, False) == 0.0
    assert progress(2.0, 10.0, 2.0, False) == 1.0
    assert progress(0.5, 0.02, 0.99, False) == pytest.approx((0.02 - 0.5) / (0.02 - 0.99))
    # FID on a log scale: 10 is halfway from chance 100 to floor 1
    assert progress(10.0, 100.0, 1.0, True) == pytest.approx(0.5)
    assert verdict(0.6, 3, False) == "learns"
    assert verdict(0.2, 3, False) == "partly"
    assert verdict(0.1, 3, False) == "at chance"
    assert verdict(math.nan, 0, True) == "diverged"
    assert verdict(math.nan, 3, False) == "diverged"


@pytest.mark.slow  # two real training subprocesses
def test_quick_run_of_one_row_writes_page_results_and_thumbnail(tmp_path):
    out = tmp_path / "page" / "zoo.md"
    argv = ["--quick", "--rows", "planar", "--seeds", "1", "--runs-dir", str(tmp_path / "runs")]
    zoo.main([*argv, "--out", str(out)])
    text = out.read_text()
    assert re.search(r"^\| planar \| energy_u1 \| 1 \|", text, flags=re.M), text
    results = json.loads((out.parent / "zoo" / "results.json").read_text())
    row = results["planar"]
    assert row["seeds"] == [0] and math.isfinite(row["stats"]["kl"][0])
    assert "kl" in row["untrained"] and row["verdict"] in ("learns", "partly", "at chance")
    assert (out.parent / "zoo" / row["thumbnail"]).is_file()
    assert (tmp_path / "runs" / "planar" / "seed0" / "step_clock.json").is_file()
    # --reuse keeps the finished runs: nothing runs again
    before = (tmp_path / "runs" / "planar" / "seed0" / "job.json").read_text()
    zoo.main([*argv, "--reuse", "--out", str(out)])
    assert (tmp_path / "runs" / "planar" / "seed0" / "job.json").read_text() == before


def test_a_row_of_every_kind_composes_with_the_harness_overrides(tmp_path):
    """What the harness hands train.py composes, for the first row of every kind, BEGAN and
    every recipe row (the quick run above, which runs one row for real, is in the slow suite)."""
    from omegaconf import OmegaConf

    from tests.conftest import compose_cfg

    first = {}
    for name, row in ROWS.items():
        first.setdefault(row.kind, name)
    assert set(first) == set(KINDS)
    # and BEGAN, whose own batch replaces its kind's, and the narrow image GANs
    recipes = [r for r in ROWS if r.endswith(("_r1_cosine", "_w32"))]
    rows = [*first.values(), "began", *recipes]
    for row in rows:
        cfg = compose_cfg(zoo.job_overrides(row, 0, quick=False), tmp_path / row, tiny=False)
        assert OmegaConf.select(cfg, "callbacks.step_clock._target_") == zoo.CLOCK.split("=")[1]
        assert cfg.model._target_ and cfg.data._target_, row
        if row.endswith("_w32"):
            model = OmegaConf.to_container(cfg.model)
            widths = [v for k, v in _leaves(model) if k.rsplit(".", 1)[-1] == "width"]
            assert widths and set(widths) == {32}, row


def _leaves(tree, prefix=""):
    """(dotted key, value) of every leaf of a plain nested dict."""
    for k, v in tree.items():
        key = f"{prefix}{k}"
        yield from _leaves(v, f"{key}.") if isinstance(v, dict) else [(key, v)]


def test_a_kind_sets_its_rows_and_a_row_setting_wins_over_its_kind():
    from benchmarks.zoo_rows import row_overrides, with_kind

    assert "data.batch_size=16" in KINDS["digits_gan"].overrides
    assert "data.batch_size=16" in row_overrides("dcgan", 0)
    # a row's own value replaces the kind's: Hydra refuses a key given twice
    own = with_kind("digits_gan", ["data.batch_size=64", "model.latent_dim=8"])
    assert [o for o in own if o.startswith("data.batch_size=")] == ["data.batch_size=64"]
    began = [o for o in row_overrides("began", 0) if o.startswith("data.batch_size=")]
    assert began == ["data.batch_size=16"]
    assert not any(o.startswith("data.batch_size=") for o in row_overrides("gan", 0))


def test_a_row_without_runs_keeps_its_stored_scores_while_its_settings_hold(tmp_path):
    """A fresh clone has no runs: the card is rendered from docs/zoo/results.json, and a row
    whose settings changed since its scores were stored reads as not run."""
    stored = json.loads((ROOT / "docs" / "zoo" / "results.json").read_text())
    changed = {**stored["planar"], "extra": ["model.optimizer.lr=1"]}
    (tmp_path / "zoo").mkdir()
    (tmp_path / "zoo" / "results.json").write_text(
        json.dumps({"dcgan": stored["dcgan"], "planar": changed})
    )
    out = tmp_path / "zoo.md"
    argv = ["--render-only", "--rows", "dcgan,planar", "--runs-dir", str(tmp_path / "runs")]
    zoo.main([*argv, "--out", str(out)])
    results = json.loads((tmp_path / "zoo" / "results.json").read_text())
    assert results["dcgan"] == stored["dcgan"]
    assert results["planar"]["seeds"] == [] and results["planar"]["verdict"] != "learns"
    fid = f"{stored['dcgan']['stats']['fid'][0]:.1f}"
    assert re.search(rf"^\| dcgan \| digits \|.*\| {re.escape(fid)}", out.read_text(), re.M)
