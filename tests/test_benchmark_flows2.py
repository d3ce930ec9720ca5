"""The flows2 harness's paired throughput of ours against zuko's (benchmarks.flows2_pairs)."""

from __future__ import annotations

import json
from functools import partial

import pytest
import torch

from benchmarks import flows2, flows2_pairs
from benchmarks.flows2_pairs import field_evals, merge_pairs, paired_ratios, versus_zuko
from gens.flows import FlowModel, RQSpline, elementwise_flow, ffjord


def test_paired_ratio_is_our_rate_over_theirs(monkeypatch):
    # a clock that only the two functions move, so the machine's load cannot change the ratio
    now = [0.0]
    monkeypatch.setattr(flows2_pairs.time, "perf_counter", lambda: now[0])

    def slow(x):
        now[0] += 2.0

    def fast(x):
        now[0] += 1.0

    ratios = paired_ratios(slow, fast, torch.zeros(2000, 2), repeats=3)
    assert ratios == [0.5, 0.5, 0.5]  # ours takes twice as long, in either order


def test_field_evals_count_the_ode_solves_of_either_library():
    zuko = pytest.importorskip("zuko")
    x = torch.randn(16, 2)
    torch.manual_seed(0)
    ours = FlowModel(partial(ffjord, hidden=(8,), trace="exact"), None, data_shape=(2,)).eval()
    n = field_evals(ours, ours.log_prob, x)
    assert n == ours.transform.transforms[0].nfe > 0
    theirs = zuko.flows.CNF(2, hidden_features=(8,)).eval()
    assert field_evals(theirs, lambda b: theirs().log_prob(b), x) > 0
    spline = FlowModel(
        partial(elementwise_flow, transformer=RQSpline, num_layers=1, hidden=(8,)),
        None,
        data_shape=(2,),
    )
    assert field_evals(spline, spline.log_prob, x) is None


def test_a_retrained_member_drops_its_old_pair():
    old = [
        {"data": "moons", "ours": "NSF (AR)", "theirs": "zuko NSF", "ratios": [1.0]},
        {"data": "moons", "ours": "FFJORD", "theirs": "zuko CNF", "ratios": [1.0]},
    ]
    fresh = [{"data": "moons", "model": "zuko CNF"}]
    kept = merge_pairs(old, [], fresh)
    assert [p["ours"] for p in kept] == ["NSF (AR)"]
    new = [{"data": "moons", "ours": "FFJORD", "theirs": "zuko CNF", "ratios": [2.0]}]
    assert merge_pairs(old, new, fresh)[-1]["ratios"] == [2.0]


def _row(model, nlls, rate):
    return {"data": "moons", "model": model, "test_nll": nlls, "log_prob_per_s": [rate]}


def test_versus_table_prefers_the_paired_ratio_and_explains_a_worse_spline():
    rows = [
        _row("NSF (AR)", [2.0, 2.01, 2.02], 10.0),
        _row("zuko NSF", [1.0, 1.01, 1.02], 20.0),
        _row("FFJORD", [3.0, 3.0], 10.0),
        _row("zuko CNF", [3.0, 3.0], 20.0),
    ]
    pair = {"data": "moons", "ours": "FFJORD", "theirs": "zuko CNF", "ratios": [0.9, 1.1, 1.3]}
    pairs = [{**pair, "nfe_ours": [20, 22], "nfe_theirs": [42, 44]}]
    text = "\n".join(versus_zuko(rows, pairs, ["moons"]))
    assert "| moons | NSF (AR) vs zuko NSF | +1.000 | worse by 1.000 | 0.50x * |" in text
    assert "1.10x (" in text and "21 vs 43 field evaluations" in text
    assert "- NSF (AR): our splines start at the identity" in text


def test_toy_run_stores_rows_and_their_pair(tmp_path):
    out = tmp_path / "flows2.md"
    models = "NSF (AR);zuko NSF"
    pytest.importorskip("zuko")
    args = ["--sections", "toy", "--data", "moons", "--seeds", "1", "--toy-steps", "2"]
    threads = torch.get_num_threads()
    try:
        flows2.main([*args, "--models", models, "--out", str(out)])
    finally:
        torch.set_num_threads(threads)  # the harness times on one thread
    toy = json.loads(out.with_name("flows2_results.json").read_text())["toy"]
    assert [r["model"] for r in toy["rows"]] == ["NSF (AR)", "zuko NSF"]
    (pair,) = toy["pairs"]
    assert (pair["ours"], pair["theirs"]) == ("NSF (AR)", "zuko NSF")
    assert len(pair["ratios"]) == 3 and "nfe_ours" not in pair
    assert "x (" in out.read_text()
