"""Scores of one report-card row from its stored runs: each seed's metrics, the untrained
model's, the data kind's floor and noise, the training clock, a thumbnail and the verdict.

Verdict: with ``m`` the mean over seeds, ``f`` the floor and ``c`` the chance level (uniform
noise where the kind has it, else the untrained model), the progress ``(c - m) / (c - f)``
(on log scale for FID) is 1 at the floor and 0 at chance. *learns*: progress >= 0.5;
*partly*: >= 0.15; *at chance*: below; *diverged*: no seed finished and a run stopped on a
non-finite loss.
"""

from __future__ import annotations

import json
import math
import statistics
from functools import cache, lru_cache
from pathlib import Path

import torch

from benchmarks import zoo_refs
from benchmarks.zoo_rows import KINDS, ROWS
from gens.data.toy import toy_modes

__all__ = ["METRICS", "progress", "refs", "score_row", "verdict"]

# the metrics.json keys a kind reads, by column name
METRICS = {
    "mixture": {"modes": "test/modes", "hq": "test/hq", "rkl": "test/rkl"},
    "digits_gan": {"fid": "test/fid", "is": "test/is"},
    "flow2d": {"nll": "test/nll"},
    "energy": {"kl": "test/kl"},
    "digits_flow": {"bpd": "test/bpd", "fid": "test/fid"},
    "digits_vae": {"nll": "test/nll"},
}
IMAGE_KINDS = ("digits_gan", "digits_flow")
N_SAMPLES = 1000
LEARNS, PARTLY = 0.5, 0.15


@lru_cache(maxsize=1)
def scorer() -> zoo_refs.DigitsScorer:
    return zoo_refs.DigitsScorer()


@cache
def refs(kind: str, data: str) -> dict[str, dict]:
    """``{"floor": {...}, "noise": {...}}`` of a data kind on a data set."""
    if kind == "mixture":
        return zoo_refs.mixture_refs(data)
    if kind == "flow2d":
        return zoo_refs.flow2d_refs(data)
    if kind == "energy":
        return zoo_refs.energy_refs(data)
    if kind == "digits_flow":
        return zoo_refs.digits_levels()
    if kind == "digits_vae":
        return zoo_refs.binary_digits()
    return scorer().refs(N_SAMPLES)


def progress(m: float, c: float, f: float, log_scale: bool) -> float:
    """1 at the floor ``f``, 0 at chance ``c`` (either direction)."""
    if log_scale:
        m, c, f = (math.log(max(v, 1e-12)) for v in (m, c, f))
    return (c - m) / (c - f) if c != f else math.nan


def verdict(p: float, n_ok: int, diverged: bool, ran: bool = True) -> str:
    if n_ok == 0:
        return "diverged" if diverged else "failed" if ran else "not run"
    if not math.isfinite(p):
        return "diverged"
    return "learns" if p >= LEARNS else "partly" if p >= PARTLY else "at chance"


def _hq_recall(m: dict, data: str) -> float:
    """High-quality fraction times the fraction of modes captured: precision and recall in
    one number, so that neither a spread-out generator nor a collapsed one scores."""
    return m["hq"] * m["modes"] / len(toy_modes(data)[0])


def _json(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _ckpt(run: Path) -> Path | None:
    for name in ("best.ckpt", "last.ckpt"):
        if (run / "checkpoints" / name).is_file():
            return run / "checkpoints" / name
    return None


@torch.no_grad()
def _image_view(run: Path, thumb: Path | None) -> dict[str, float]:
    """Score 1,000 samples of a run's checkpoint on the digits classifier; save a grid."""
    from torchvision.utils import save_image

    from gens.utils.checkpoint import fit_sampler, load_model

    ckpt = _ckpt(run)
    if ckpt is None:
        return {}
    model = load_model(ckpt)
    fit_sampler(model)
    x = model.sample(N_SAMPLES, generator=torch.Generator().manual_seed(1)).float()
    if thumb is not None:
        save_image(x[:36].clamp(-1, 1), thumb, nrow=6, normalize=True, value_range=(-1, 1))
    return scorer().score(x)


def _thumbnail(run: Path, thumb: Path) -> bool:
    """A copy of the run's final figure, at most 256 pixels wide."""
    from PIL import Image

    src = run / "samples" / "final.png"
    if not src.is_file():
        pngs = sorted(run.glob("samples/*.png"))
        if not pngs:
            return False
        src = pngs[-1]
    with Image.open(src) as im:
        im.thumbnail((256, 256))
        im.save(thumb)
    return True


def _diverged(run: Path) -> bool:
    log = run / "run.log"
    text = log.read_text(errors="replace")[-20000:] if log.is_file() else ""
    return any(w in text for w in ("non-finite", "diverged", "NaN", "nan loss"))


def _mean_se(values: list[float]) -> tuple[float, float]:
    if not values:
        return math.nan, math.nan
    if len(values) == 1:
        return values[0], math.nan
    return statistics.fmean(values), statistics.stdev(values) / math.sqrt(len(values))


def score_row(name: str, runs_dir: Path, seeds: int, thumbs: Path) -> dict:
    row = ROWS[name]
    kind = KINDS[row.kind]
    keys = METRICS[row.kind]
    thumbs.mkdir(parents=True, exist_ok=True)
    per_seed, clocks, diverged, thumb = [], [], False, None
    for s in range(seeds):
        run = runs_dir / name / f"seed{s}"
        metrics = _json(run / "metrics.json")
        if metrics is None:
            diverged |= (run / "job.json").is_file() and _diverged(run)
            continue
        got = {k: metrics.get(v, math.nan) for k, v in keys.items()}
        if row.kind == "mixture":
            got["hq_recall"] = _hq_recall(got, row.data)
        out = thumbs / f"{name}.png"
        if row.kind in IMAGE_KINDS:
            got.update(_image_view(run, out if thumb is None else None))
            thumb = thumb or (out.name if out.is_file() else None)
        elif thumb is None and _thumbnail(run, out):
            thumb = out.name
        per_seed.append({"seed": s, **got})
        clock = _json(run / "step_clock.json")
        job = _json(run / "job.json") or {}
        if clock:
            clocks.append({**clock, "job_cpu_seconds": job.get("cpu_seconds", math.nan)})
    # a run stopped from outside (no job.json) did not finish: the row is "not run", not failed
    ran = any((runs_dir / name / f"seed{s}" / "job.json").is_file() for s in range(seeds))
    untrained = _json(runs_dir / name / "untrained" / "metrics.json") or {}
    untrained = {k: untrained[v] for k, v in keys.items() if v in untrained}
    if row.kind == "mixture" and untrained:
        untrained["hq_recall"] = _hq_recall(untrained, row.data)
    ref = refs(row.kind, row.data)
    stats = (
        {k: _mean_se([r[k] for r in per_seed if k in r]) for k in per_seed[0]} if per_seed else {}
    )
    stats.pop("seed", None)
    metric = kind.metric
    m = stats.get(metric, (math.nan,))[0]
    f = ref["floor"].get(metric, math.nan)
    # uniform noise where the kind has it (an untrained flow with data-dependent init already
    # fits the data's scale), else the untrained model
    c = ref["noise"].get(metric, untrained.get(metric, math.nan))
    p = progress(m, c, f, kind.log_scale) if per_seed else math.nan
    return {
        "row": name,
        "model": row.model,
        "data": row.data,
        "kind": row.kind,
        "length": list(row.length),
        "extra": list(row.extra),
        "seeds": [r["seed"] for r in per_seed],
        "per_seed": per_seed,
        "stats": stats,
        "floor": ref["floor"],
        "noise": ref["noise"],
        "untrained": untrained,
        "chance": c,
        "progress": p,
        "verdict": verdict(p, len(per_seed), diverged, ran),
        "clock": clocks,
        "thumbnail": thumb,
    }
