"""The report card's page (``docs/zoo.md``) and its results JSON, from ``zoo_score`` rows."""

from __future__ import annotations

import json
import math
from pathlib import Path

from benchmarks import common
from benchmarks.zoo_notes import note
from benchmarks.zoo_rows import KINDS, RECIPES, REMEDY_ROWS, ROWS
from benchmarks.zoo_score import LEARNS, METRICS, PARTLY

__all__ = ["render", "save_results"]

# column name -> (header, format of a value)
COLUMNS = {
    "modes": ("modes", "{:.1f}"),
    "hq": ("high quality", "{:.1%}"),
    "rkl": ("reverse KL", "{:.2f}"),
    "hq_recall": ("hq × modes/K", "{:.2f}"),
    "fid": ("FID", "{:.1f}"),
    "is": ("IS", "{:.2f}"),
    "sharpness": ("sharpness", "{:.2f}"),
    "coverage_kl": ("class KL", "{:.3f}"),
    "nll": ("test NLL (nats)", "{:.3f}"),
    "kl": ("KL (nats)", "{:.3f}"),
    "bpd": ("bits/dim", "{:.3f}"),
}
EXTRA = {
    "mixture": ("hq_recall",),
    "digits_gan": ("sharpness", "coverage_kl"),
    "digits_flow": ("sharpness", "coverage_kl"),
}


def save_results(path: Path, results: dict[str, dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=float))


def _fmt(v, fmt: str) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return fmt.format(v)


def _pm(stat, fmt: str) -> str:
    m, se = stat if stat else (math.nan, math.nan)
    if not math.isfinite(m):
        return "–"
    return _fmt(m, fmt) + ("" if not math.isfinite(se) else f" ± {_fmt(se, fmt)}")


def _clock(r: dict) -> tuple[str, str, str]:
    """Training CPU-minutes per run, milliseconds per batch, batches per run."""
    c = r["clock"]
    if not c:
        return "–", "–", "–"
    cpu = sum(x["cpu_seconds"] for x in c) / len(c)
    batches = sum(x["batches"] for x in c) / len(c)
    return f"{cpu / 60:.2f}", f"{1000 * cpu / max(batches, 1):.0f}", f"{batches:,.0f}"


def _section(kind: str, results: dict[str, dict], names: list[str], out_dir: Path) -> list[str]:
    k = KINDS[kind]
    cols = [*METRICS[kind], *EXTRA.get(kind, ())]
    head = ["row", "data", "seeds", *(COLUMNS[c][0] for c in cols)]
    head += [f"untrained {COLUMNS[k.metric][0]}", "progress", "train CPU-min", "ms/batch"]
    head += ["batches", "samples", "verdict"]
    body, refs = [], {}
    for n in names:
        r = results[n]
        thumb = (
            f'<img src="{out_dir.name}/{r["thumbnail"]}" width="96">' if r["thumbnail"] else "–"
        )
        label = n + (f" (`{' '.join(r['extra'])}`)" if r["extra"] else "")
        body.append(
            [
                label,
                r["data"],
                len(r["seeds"]),
                *(_pm(r["stats"].get(c), COLUMNS[c][1]) for c in cols),
                _fmt(r["untrained"].get(k.metric), COLUMNS[k.metric][1]),
                _fmt(r["progress"], "{:.2f}"),
                *_clock(r),
                thumb,
                f"**{r['verdict']}**",
            ]
        )
        refs.setdefault(r["data"], (r["floor"], r["noise"]))
    lines = [f"## {k.title}", "", *common.table(head, body), ""]
    ref_head = ["reference", "data", *(COLUMNS[c][0] for c in cols)]
    ref_body = []
    for data, (floor, noise) in refs.items():
        how = floor.get("how")
        floor_name = "floor" + (f": {how}" if how else "")
        noise_name = "chance: " + noise.get("how", "uniform noise")
        for name, vals in ((floor_name, floor), (noise_name, noise)):
            if any(c in vals for c in cols):
                ref_body.append([name, data, *(_fmt(vals.get(c), COLUMNS[c][1]) for c in cols)])
    if ref_body:
        lines += [*common.table(ref_head, ref_body), ""]
    notes = [f"- **{n}**: {text}" for n in names if (text := note(n))]
    if notes:
        lines += ["What limits a row at this budget:", "", *notes, ""]
    return lines


BLURB = """\
Every model config, trained on its natural embedded data set at one CPU budget per data kind
(CPU time of the training batches on one thread, stated below as a batch count per row), scored
beside its **floor** (real held-out data, or the true or a fitted density, scored the same
way) and its **chance level** (uniform noise, and the same config's untrained model: the test
stage of `train.py train=false`). Mean ± standard error over seeds.

- **progress** = (chance − model) / (chance − floor) on the kind's verdict metric (FID on a
  log scale), with uniform noise as chance where the kind has it, else the untrained model;
  1 is the floor, 0 chance. For flows the floor
  is a fitted reference that a flow can beat (progress > 1).
- **verdict**: *learns* (progress ≥ {learns}), *partly* (≥ {partly}), *at chance* (below),
  *diverged* (no seed finished; a run stopped on a non-finite loss), *failed* (no seed
  finished otherwise).
- Digits: FID and IS on the shipped digits classifier's features (1,000 samples against the
  1,297 training images; the floor scores the 500 held-out images), **sharpness** = the
  classifier's mean max-probability, **class KL** = KL of its predicted-class histogram from
  uniform (coverage). Targets for image GANs: FID within 2× of DCGAN's, sharpness ≥ 0.8,
  class KL ≤ 0.1.
- Columns of the clock: CPU-minutes of the training batches per run, milliseconds per batch
  (one discriminator step, and a generator step every n_critic batches), batches per run.
"""


def _remedies(results: dict[str, dict], rows: list[str]) -> list[str]:
    """Plain GAN, the paper rows at chance and their recipes on each mixture, with the
    targets: a recipe's high-quality fraction above 3x uniform noise's, its modes above plain
    GAN's."""
    lines = [
        "## Remedies for the GAN rows at chance",
        "",
        "Each recipe is the paper row with the default's cures for a short run: lazy R1 "
        "(gamma 0.1 every 16 D steps), cosine decay and lr 6e-4, D on raw coordinates. "
        "PacGAN4's recipe also takes the paper's batch of 100 packs, passes each sample "
        "through one layer shared by the pack before the packed layers, uses the default's "
        "narrow networks and gives D 4x G's lr (two time scales: the packed D is the slow "
        "player); ALI/BiGAN's gives x and z pathways of their own in D (ALI's discriminator) "
        "on the narrow networks and D twice the lr of G and E; minibatch discrimination's is "
        "Karras et al.'s simplified form, the minibatch standard deviation, at lr 1e-3 (each "
        "config's header says why). Pick one with "
        "`python train.py experiment=<recipe> data=grid25` (or `data=ring8`). Targets: "
        "high quality above 3x uniform noise's; modes above plain GAN's at the same budget "
        "(or all of them).",
        "",
        f"Regenerate these tables: `python -m benchmarks.zoo --rows {','.join(REMEDY_ROWS)} "
        "--seeds 3 --reuse`",
        "",
    ]
    for data, suffix in (("grid25", ""), ("ring8", "_ring8")):
        names = [f"gan{suffix}"]
        for paper, recipe in RECIPES.items():
            if paper != "gan" and not suffix:
                names.append(paper)
            names.append(recipe + suffix)
        names = [n for n in names if n in rows and results[n]["seeds"]]
        if not names:
            continue
        r0 = results[names[0]]
        noise_hq = r0["noise"]["hq"]
        gan = results.get(f"gan{suffix}")
        gan_modes = gan["stats"]["modes"][0] if gan and gan["seeds"] else math.nan
        k = r0["floor"]["modes"]  # every mode: a recipe that captures all ties at the top
        body = []
        for n in names:
            r = results[n]
            hq, modes = r["stats"]["hq"][0], r["stats"]["modes"][0]
            recipe = n.removesuffix(suffix) in RECIPES.values()
            ok = (
                ("yes" if hq > 3 * noise_hq and (modes > gan_modes or modes == k) else "**no**")
                if recipe
                else "–"
            )
            body.append(
                [
                    f"`experiment={n.removesuffix(suffix)}`"
                    if recipe
                    else f"`model={r['model']}`",
                    len(r["seeds"]),
                    _pm(r["stats"]["modes"], "{:.1f}"),
                    _pm(r["stats"]["hq"], "{:.1%}"),
                    _pm(r["stats"]["rkl"], "{:.2f}"),
                    ok,
                ]
            )
        body.append(
            [
                "uniform noise",
                "–",
                _fmt(r0["noise"]["modes"], "{:.1f}"),
                _fmt(noise_hq, "{:.1%}"),
                _fmt(r0["noise"]["rkl"], "{:.2f}"),
                "–",
            ]
        )
        head = ["row", "seeds", "modes", "high quality", "reverse KL", "meets both targets"]
        lines += [f"### {data}", "", *common.table(head, body), ""]
    return lines


def _argv(argv: list[str], whole: bool) -> list[str]:
    """The arguments that change what is measured (no --reuse, --render-only, --publish,
    --note, nor where the runs are stored; no --rows on a page of every row)."""
    drop = ("--note", "--runs-dir", *(("--rows",) if whole else ()))
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a in drop:
            skip = True
        elif a not in ("--reuse", "--render-only", "--publish") and not a.startswith(
            tuple(f"{d}=" for d in drop)
        ):
            out.append(a)
    return out


def render(results: dict[str, dict], rows: list[str], args, wall: float | None) -> str:
    lines = [
        "# The model zoo's report card",
        "",
        common.regenerate("benchmarks.zoo", _argv(args.argv, whole=rows == list(ROWS)))
        + " (add `--reuse` to keep the stored runs; `--rows a,b` for some rows)",
        "",
        *([args.note, ""] if getattr(args, "note", "") else []),
        BLURB.format(learns=LEARNS, partly=PARTLY),
        "## Budgets",
        "",
    ]
    kinds = [k for k in KINDS if any(ROWS[r].kind == k for r in rows)]
    budget_rows = []
    for k in kinds:
        names = [r for r in rows if ROWS[r].kind == k]
        lengths = ", ".join(f"{r} {' '.join(ROWS[r].length)}" for r in names)
        title = KINDS[k].title + "".join(f" `{o}`" for o in KINDS[k].overrides)
        budget_rows.append([title, f"{KINDS[k].budget_min:g}", lengths])
    lines += [*common.table(["kind", "CPU-min per run", "length of each row"], budget_rows), ""]
    short = [r for r in rows if len(results[r]["seeds"]) < args.seeds]
    if short:
        lines += [
            f"Rows with fewer than {args.seeds} finished seeds: "
            + ", ".join(f"{r} ({len(results[r]['seeds'])})" for r in short)
            + ".",
            "",
        ]
    counts = {}
    for r in rows:
        counts[results[r]["verdict"]] = counts.get(results[r]["verdict"], 0) + 1
    lines += ["Verdicts: " + ", ".join(f"{v} {n}" for v, n in sorted(counts.items())) + ".", ""]
    for k in kinds:
        names = [r for r in rows if ROWS[r].kind == k]
        lines += _section(k, results, names, args.out.parent / "zoo")
    if any(ROWS[r].kind == "mixture" for r in rows):
        lines += _remedies(results, rows)
    when = "no runs this time (stored runs)" if wall is None else f"{wall / 60:.1f} min wall"
    lines += [f"{common.machine()} Load average at the end {common.load_average()}; {when}."]
    return "\n".join(lines)
