"""Mode-collapse benchmark on the 2-D mixtures, in the layout of the PacGAN paper's Table 1.

Lin et al. 2018 (PacGAN), Table 1, with the set-up of VEEGAN (Srivastava et al. 2017):
``ring8`` and ``grid25`` with 100,000 training points, batch 100, >= 5 seeds; each trained model
is evaluated on 2,500 samples: modes captured, % high-quality samples (within 3 std of a mode)
and the reverse KL of the mode histogram (``test/modes``, ``test/hq``, ``test/rkl``, logged by
the VectorMetrics callback). A reference row scores uniform noise on the box that holds every
high-quality disk (no training): a generator that has learned only the data's range gets that
much. Every row is one Hydra multirun per data set over the seeds
(``python train.py -m model=... data=... seed=0,1,2,3,4 ...``); ``--jobs`` multiruns run at once,
each on one thread. The table gives mean +- standard error over seeds, with the published rows
beside ours.

    python -m benchmarks.modes            # default budget -> docs/benchmarks/modes.md
    python -m benchmarks.modes --quick    # CI-sized smoke run -> logs/benchmarks/modes.md

The rows and their budgets are in ``benchmarks.modes_rows``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
import yaml

from benchmarks import common
from benchmarks.common import PACGAN4, ROOT
from benchmarks.modes_rows import (
    COMMON,
    COST,
    DATA,
    EPOCHS,
    PUBLISHED,
    QUICK_BATCHES,
    ROW_LR,
    ROWS,
    SEEDS,
    available_rows,
    budget_overrides,
)
from gens.data.toy import toy_modes
from gens.metrics.modes import mode_metrics

PAGE = "modes.md"


def sweep_name(row: str) -> str:
    return row.replace("/", "_").replace(" ", "_").replace(".", "")


def multirun(row: str, data: str, args, runs_dir: Path) -> tuple[str, str, float, int]:
    """One Hydra multirun of a row on one data set over the seeds; returns (row, data, seconds,
    exit code)."""
    sweep = runs_dir / sweep_name(row) / data
    shutil.rmtree(sweep, ignore_errors=True)  # no stale jobs from an earlier run
    cmd = common.train_command(
        "-m",
        *ROWS[row],
        f"data={data}",
        f"seed={','.join(str(s) for s in seeds(args))}",
        *budget_overrides(row, args),
        *COMMON,
        *args.extra,
        "task_name=benchmark_modes",
        f"hydra.sweep.dir={sweep}",
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "WANDB_MODE": "offline"}
    env.setdefault("GENS_ROOT", str(runs_dir))
    clock = common.Clock()
    sweep.mkdir(parents=True, exist_ok=True)
    with open(sweep / "multirun.log", "w") as log:
        log.write(" ".join(cmd) + "\n")
        log.flush()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        tail = (sweep / "multirun.log").read_text()[-2000:]
        print(f"[{row} {data}] failed (exit {proc.returncode}):\n{tail}", file=sys.stderr)
    return row, data, clock.lap()[0], proc.returncode


def seeds(args) -> range:
    return range(args.first_seed, args.first_seed + args.seeds)


def seed_range(args) -> str:
    s = seeds(args)
    return f"seed {s[0]}" if len(s) == 1 else f"seeds {s[0]}-{s[-1]}"


def collect(runs_dir: Path) -> dict[tuple[str, str], list[dict]]:
    """Read every job's metrics.json with its overrides: {(sweep name, data): [metrics]}.
    A job that failed (no metrics.json) is left out and shows in the seed count."""
    out: dict[tuple[str, str], list[dict]] = {}
    for metrics in sorted(runs_dir.glob("*/*/*/metrics.json")):
        job = metrics.parent  # runs_dir / row / data / job number
        overrides = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())
        data = next(o.split("=", 1)[1] for o in overrides if o.startswith("data="))
        out.setdefault((job.parent.parent.name, data), []).append(json.loads(metrics.read_text()))
    return out


def summarize(results: dict[str, list[dict]]) -> dict[str, tuple]:
    """row -> (n, (modes m, se), (hq m, se), (rkl m, se))."""
    table = {}
    for row, runs in results.items():
        cols = [common.mean_se([r[f"test/{k}"] for r in runs]) for k in ("modes", "hq", "rkl")]
        table[row] = (len(runs), *cols)
    return table


CHANCE = "uniform noise (no training)"


def chance(data: str, n_seeds: int, n: int = 2500) -> tuple:
    """The metrics of ``n`` points drawn uniformly on the smallest box holding every
    high-quality disk (the modes' bounding box widened by 3 std), one draw per seed: the
    score of a generator that has learned the data's range and nothing else. Same layout
    as a ``summarize`` entry."""
    means, std = toy_modes(data)
    means = torch.as_tensor(means, dtype=torch.float32)
    lo, hi = means.min(0).values - 3 * std, means.max(0).values + 3 * std
    runs = []
    for seed in range(n_seeds):
        u = torch.rand(n, means.shape[1], generator=torch.Generator().manual_seed(seed))
        x = lo + (hi - lo) * u
        runs.append({f"test/{k}": v for k, v in mode_metrics(x, means, std).items()})
    return summarize({CHANCE: runs})[CHANCE]


def cells(entry: tuple) -> list[str]:
    """Modes, high quality and reverse KL of a ``summarize`` entry: mean ± standard error."""
    _, modes, hq, rkl = entry
    return [
        common.pm(*modes, "{:.1f}"),
        common.pm(*hq, "{:.1f}", 100, " %"),
        common.pm(*rkl),
    ]


def render(summary: dict[str, dict], rows: list[str], args, timing: dict, wall: float) -> str:
    lines = [
        "# Mode collapse on the 2-D mixtures (PacGAN Table 1 layout)",
        "",
        common.regenerate("benchmarks.modes", args.argv, drop=["--reuse"]),
        "",
        *([f"> {args.note}", ""] if args.note else []),
        f"- Budget of this run: {args.epochs} epoch(s) of the 100,000-point training set "
        f"({args.epochs * 1000} batches of 100 per run; PacGAN's batches are 100 packs of m, "
        f"as in its paper's code, over {args.epochs} x m epochs), {args.seeds} seed(s) "
        f"({seed_range(args)}) per row "
        f"and data set, Adam lr {args.lr:g} for G and D (WGAN-GP: its paper's 1e-4, n_critic 5; "
        + "; ".join(f"{r}: G {g:g}, D {d:g}" for r, (g, d) in ROW_LR.items())
        + (
            "), decayed to 0 over the run by a cosine schedule (stepped per generator step)"
            if args.schedule == "cosine"
            else "), constant"
        )
        + f"; extra overrides: {' '.join(args.extra) or 'none'}.",
        "- Each run is tested on 2,500 samples (test split seed) from the checkpoint with the "
        "best val/rkl, validated once per epoch (at 1 epoch: the final weights). Mean ± "
        "standard error over seeds. "
        + (
            "Re-rendered from stored runs (--reuse); times are the stored run's. "
            if args.reuse
            else ""
        )
        + (
            "No stored times."
            if wall is None
            else f"Wall time {wall / 60:.1f} min ({'within' if wall <= 3600 else 'over'} the "
            f"60-minute target) with {args.jobs} parallel multirun(s), one thread each."
        ),
        f"- {common.machine()}",
        "- Networks: the PacGAN 2-D set-up for every GAN row (G 4x400 ReLU+BN, D 3x200 maxout "
        "with 5 pieces, latent dim 2); WGAN-GP uses configs/model/wgan_gp.yaml (3x512 ReLU).",
        "",
    ]
    if "gens gan_r1" in rows:
        lines[-1:-1] = [
            '- "gens gan_r1" is the recipe of `python train.py` (`model=gan_r1`: G 4x256, D 3x128 '
            "maxout, lazy R1, EMA generator with standing statistics, samples through "
            "discriminator rejection sampling) at a budget of its own: 7 epochs (the default is "
            "14) at lr 6e-4 (default 3e-4) with cosine decay over the 7; the default itself is "
            "benchmarked in docs/benchmarks/default.md.",
        ]
    for data in args.data:
        k = 8 if data == "ring8" else 25
        s = summary.get(data, {})
        ours = []
        for row in rows:
            if row not in s:
                ours.append([row, "–", "–", "–", 0, "–"])
                continue
            secs = timing.get((row, data))
            minutes = "–" if secs is None else f"{secs / 60 / args.seeds:.1f}"
            ours.append([row, *cells(s[row]), s[row][0], minutes])
        noise = chance(data, args.seeds)
        ours.append([CHANCE, *cells(noise), noise[0], "–"])
        lines += [
            f"## {data} ({k} modes)",
            "",
            *common.table(
                ["ours", "modes", "high quality", "reverse KL", "seeds", "min/run"], ours
            ),
            "",
            *common.table(["published", "modes", "high quality", "reverse KL"], PUBLISHED[data]),
            "",
            *verdict(s, data, noise),
            "",
        ]
    return "\n".join(lines)


def verdict(s: dict, data: str, noise: tuple | None = None) -> list[str]:
    """The targets: every remedy beats our GAN on modes; our best row beats PacGAN4. With
    ``noise`` (the ``chance`` entry), also the rows whose high-quality fraction is not above
    uniform noise's by two of their standard errors: their modes are chance hits."""
    if "GAN" not in s:
        return []
    gan_modes = s["GAN"][1][0]
    out = []
    remedies = [r for r in s if r not in ("GAN", "WGAN-GP", "gens gan_r1")]
    beat = [r for r in remedies if s[r][1][0] > gan_modes]
    out.append(
        f"- Remedies with more modes than our GAN ({gan_modes:.1f}): "
        f"{len(beat)}/{len(remedies)} ({', '.join(beat) or 'none'})."
    )
    (pm, _), (ph, _), (pk, _) = PACGAN4[data]
    best = [r for r in s if s[r][1][0] > pm and s[r][2][0] > ph and s[r][3][0] < pk]
    out.append(
        f"- Rows beating the published PacGAN4 ({pm} modes, {ph * 100:.1f} %, {pk}) on all "
        f"three columns: {', '.join(best) or 'none'}."
    )
    if noise is not None:
        chance_modes, chance_hq = noise[1][0], noise[2][0]
        level = [r for r in s if s[r][2][0] - 2 * common.se0(s[r][2][1]) <= chance_hq]
        out.append(
            f"- Rows whose high-quality fraction is not above uniform noise's "
            f"({chance_hq * 100:.1f} %, which captures {chance_modes:.1f} modes) by two of their "
            f"standard errors, so that their modes count chance hits of a spread-out "
            f"generator: {', '.join(level) or 'none'}."
        )
    return out


def write_timing(path: Path, timing: dict[tuple[str, str], float], wall: float) -> None:
    """Store a run's times beside its runs, so ``--reuse`` can print them again. A run
    replaces the file: after a run of some rows only, those rows have times."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = {f"{row}|{data}": secs for (row, data), secs in timing.items()}
    path.write_text(json.dumps({"wall_seconds": wall, "multirun_seconds": rows}, indent=1))


def read_timing(path: Path) -> tuple[dict[tuple[str, str], float], float | None]:
    """The times ``write_timing`` stored; none when the runs have no timing.json."""
    if not path.is_file():
        return {}, None
    stored = json.loads(path.read_text())
    timing = {}
    for key, secs in stored["multirun_seconds"].items():
        row, data = key.rsplit("|", 1)
        timing[row, data] = float(secs)
    return timing, float(stored["wall_seconds"])


def main(argv: list[str] | None = None) -> Path:
    p = common.parser(__doc__, PAGE)
    p.add_argument("--quick", action="store_true", help="CI-sized smoke run (seconds)")
    p.add_argument("--epochs", type=int, default=EPOCHS)
    p.add_argument("--seeds", type=int, default=SEEDS)
    p.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seeds first-seed .. first-seed + seeds - 1 (probes on seeds the table does not use)",
    )
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument(
        "--schedule",
        choices=("cosine", "constant"),
        default="cosine",
        help="learning rates: cosine decay to 0 over the run, or constant",
    )
    p.add_argument("--jobs", type=int, default=2, help="multiruns at once (one thread each)")
    p.add_argument("--rows", nargs="*", default=None, help="subset of rows, by name")
    p.add_argument("--data", nargs="*", default=list(DATA), choices=DATA)
    p.add_argument("--runs-dir", type=Path, default=ROOT / "logs" / "benchmark_modes")
    p.add_argument("--reuse", action="store_true", help="only re-render from --runs-dir")
    p.add_argument("--note", default="", help="a note printed at the top of the page")
    p.add_argument("extra", nargs="*", help="Hydra overrides added to every run")
    args = common.parse(p, argv, neutral=("jobs", "runs_dir", "reuse", "note"))
    if args.quick:
        args.epochs, args.seeds = 1, min(args.seeds, 2)
        args.extra = [
            "data.n_train=1000",
            f"+trainer.limit_train_batches={QUICK_BATCHES}",
            "+trainer.limit_val_batches=1",
            "model.log_every_n_steps=1",
            *args.extra,
        ]
    rows = available_rows()
    if args.rows:
        unknown = set(args.rows) - set(rows)
        if unknown:
            p.error(f"unknown or unavailable rows {sorted(unknown)}; available: {rows}")
        rows = [r for r in rows if r in args.rows]
    if args.seeds < 1 or args.epochs < 1:
        p.error("--seeds and --epochs must be >= 1")
    if args.first_seed < 0:
        p.error("--first-seed must be >= 0")

    runs_dir = args.runs_dir.resolve()
    clock = common.Clock()
    timing: dict[tuple[str, str], float] = {}
    failed = []
    if not args.reuse:
        # one multirun per row and data set, the longest first (finer pieces pack the cores
        # more evenly than one multirun per row)
        jobs = sorted(
            ((r, d) for r in rows for d in args.data), key=lambda rd: -COST.get(rd[0], 1.0)
        )
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            futures = [pool.submit(multirun, r, d, args, runs_dir) for r, d in jobs]
            for f in futures:
                row, data, secs, rc = f.result()
                timing[row, data] = secs
                if rc:
                    failed.append(f"{row} ({data})")
                print(f"[{row} {data}] done in {secs / 60:.1f} min (exit {rc})", flush=True)
    wall: float | None = clock.lap()[0]
    stored = runs_dir / "timing.json"
    if args.reuse:
        timing, wall = read_timing(stored)
    else:
        write_timing(stored, timing, wall)

    by_sweep = collect(runs_dir)
    summary: dict[str, dict] = {}
    for row in rows:
        for data in args.data:
            runs = by_sweep.get((sweep_name(row), data))
            if runs:
                summary.setdefault(data, {}).update(summarize({row: runs}))
    common.write_page(args.out, render(summary, rows, args, timing, wall))
    if failed:
        raise SystemExit(f"benchmarks.modes: rows failed: {', '.join(failed)} (see multirun.log)")
    return args.out


if __name__ == "__main__":
    main()
