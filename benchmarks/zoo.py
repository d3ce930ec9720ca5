"""The model zoo's report card: every model config trained on its natural embedded data set at
one stated CPU budget per data kind, scored beside its floor (real data, or the true or a
fitted density, scored the same way) and its chance level (uniform noise, the untrained model),
with the time per training batch, a sample thumbnail and a verdict.

Each row runs ``python train.py model=... data=... <its length> seed=s`` for every seed, plus
one run of the untrained model (``train=false``: the test stage on the initial weights). Runs
live under ``--runs-dir/<row>/seed<s>`` and ``.../untrained``; ``--reuse`` keeps every stored
run that finished and runs only the missing ones. The rows and budgets are in
``benchmarks.zoo_rows``, the reference points in ``benchmarks.zoo_refs``, the page in
``benchmarks.zoo_page``.

The card keeps every row's scores in ``docs/zoo/results.json``. A row that has no runs in
``--runs-dir`` keeps its stored scores while its settings are unchanged, so a developer adding a
row on a fresh clone runs that row alone and publishes the whole card (``--publish``).

    python -m benchmarks.zoo --jobs 2               # every row, 3 seeds -> docs/zoo.md
    python -m benchmarks.zoo --rows dcgan,wgan_gp   # some rows -> logs/benchmarks/zoo.md
    python -m benchmarks.zoo --rows my_row --publish  # one row run, the card -> docs/zoo.md
    python -m benchmarks.zoo --quick --rows gan     # seconds: a smoke run of the harness
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks import common
from benchmarks.common import ROOT
from benchmarks.zoo_rows import KINDS, ROWS, row_overrides
from benchmarks.zoo_score import score_row

PAGE = "zoo.md"
HOME = ROOT / "docs" / PAGE  # the card is the docs' front page, not a benchmark page
SEEDS = 3
CLOCK = "+callbacks.step_clock._target_=benchmarks.zoo_clock.StepClock"
# every run: the step clock, image metrics on 1,000 test samples, CSV logs, no progress bars
COMMON = [CLOCK, "callbacks.image_metrics.n_test=1000", "logger=csv", "task_name=zoo"]
QUICK = [
    "trainer.max_epochs=1",
    "+trainer.limit_train_batches=3",
    "+trainer.limit_val_batches=1",
    "+trainer.limit_test_batches=1",
    "callbacks.image_metrics.n=64",
    "callbacks.image_metrics.n_test=64",
    "callbacks.image_metrics.n_real=256",
    "callbacks.sample_plot.n=200",
]


def job_overrides(row: str, seed: int | None, quick: bool) -> list[str]:
    """A run's overrides: the row's (without its length when ``quick``) and the harness's;
    ``seed=None`` is the untrained model."""
    over = row_overrides(row, 0 if seed is None else seed)
    if quick:
        length = set(ROWS[row].length)
        over = [o for o in over if o not in length] + QUICK
        if ROWS[row].data in ("grid25", "ring8", "moons", "checkerboard"):
            over.append("data.n_train=1000")
    if seed is None:
        over.append("train=false")
    return [*over, *COMMON]


def run_dir(runs_dir: Path, row: str, seed: int | None) -> Path:
    return runs_dir / row / ("untrained" if seed is None else f"seed{seed}")


def run_job(row: str, seed: int | None, args) -> tuple[str, int | None, float, float, int]:
    """One ``train.py`` run in a subprocess on one thread: (row, seed, wall s, CPU s, exit)."""
    out = run_dir(args.runs_dir, row, seed)
    shutil.rmtree(out, ignore_errors=True)  # no stale files from an unfinished run
    out.mkdir(parents=True)
    cmd = common.train_command(
        *job_overrides(row, seed, args.quick), f"hydra.run.dir={out}", *common.NO_PROGRESS
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "WANDB_MODE": "offline"}
    t0 = time.perf_counter()
    # the log waits beside the run directory until the run ends: train.py refuses a directory
    # that already holds files of another run
    pending = out.parent / f"{out.name}.log"
    with open(pending, "w") as log:
        log.write(" ".join(cmd) + "\n")
        log.flush()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall, cpu = time.perf_counter() - t0, usage.ru_utime + usage.ru_stime
    out.mkdir(parents=True, exist_ok=True)
    pending.replace(out / "run.log")
    (out / "job.json").write_text(
        json.dumps({"wall_seconds": wall, "cpu_seconds": cpu, "exit": proc.returncode})
    )
    return row, seed, wall, cpu, proc.returncode


def finished(out: Path) -> bool:
    return (out / "metrics.json").is_file() or (out / "job.json").is_file()


def select_rows(p, spec: str | None) -> list[str]:
    if not spec:
        return list(ROWS)
    rows = [r.strip() for r in spec.split(",") if r.strip()]
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        p.error(f"unknown rows {unknown}; choose from {', '.join(ROWS)}")
    return rows


def main(argv: list[str] | None = None) -> Path:
    p = common.parser(__doc__, PAGE)
    p.add_argument("--rows", default=None, help="comma-separated rows (default: every row)")
    p.add_argument("--seeds", type=int, default=SEEDS, help="seeds 0 .. seeds-1 per row")
    p.add_argument("--jobs", type=int, default=2, help="runs at once, one thread each")
    p.add_argument("--quick", action="store_true", help="3 batches a run: a smoke test")
    p.add_argument("--reuse", action="store_true", help="keep stored runs; run missing ones")
    p.add_argument("--runs-dir", type=Path, default=ROOT / "logs" / "zoo")
    p.add_argument("--render-only", action="store_true", help="run nothing; render stored runs")
    p.add_argument("--note", default="", help="a paragraph printed at the top of the page")
    args = common.parse(p, argv, neutral=("jobs", "reuse", "runs_dir", "render_only", "note"))
    if args.seeds < 1 or args.jobs < 1:
        p.error("--seeds and --jobs must be >= 1")
    if args.out == common.PAGES / PAGE:
        args.out = HOME
    args.runs_dir = args.runs_dir.resolve()
    rows = select_rows(p, args.rows)

    jobs = [(r, s) for r in rows for s in [*range(args.seeds), None]]
    if args.reuse or args.render_only:
        jobs = [(r, s) for r, s in jobs if not finished(run_dir(args.runs_dir, r, s))]
    if args.render_only:
        jobs = []
    # every row's first seed before any second one, the cheapest first, untrained models last:
    # a run cut short by the clock still leaves one seed of as many rows as possible
    jobs.sort(key=lambda rs: (rs[1] is None, rs[1] or 0, KINDS[ROWS[rs[0]].kind].budget_min))
    clock = common.Clock()
    with ThreadPoolExecutor(args.jobs) as pool:
        for row, seed, wall, cpu, rc in pool.map(lambda rs: run_job(*rs, args), jobs):
            what = "untrained" if seed is None else f"seed {seed}"
            print(f"[{row} {what}] exit {rc}, {wall / 60:.1f} min, {cpu / 60:.1f} CPU-min")
    wall = clock.lap()[0]

    from benchmarks.zoo_page import render, save_results

    store = args.out.parent / "zoo" / "results.json"
    stored = stored_results(store)
    # the card lists every row: those not selected, or with no runs here (a fresh clone), keep
    # their stored result while the row's settings are unchanged
    page_rows = list(ROWS) if args.out == HOME else rows
    results = {}
    for r in page_rows:
        fresh = r in rows and has_runs(args.runs_dir, r, args.seeds)
        if not fresh and r in stored and same_settings(stored[r], r):
            results[r] = stored[r]
        else:
            results[r] = score_row(r, args.runs_dir, args.seeds, store.parent)
    save_results(store, results)
    text = render(results, page_rows, args, wall if jobs else None)
    return common.write_page(args.out, text, echo=False, home=HOME)


def has_runs(runs_dir: Path, row: str, seeds: int) -> bool:
    return any(finished(run_dir(runs_dir, row, s)) for s in [*range(seeds), None])


def stored_results(path: Path) -> dict[str, dict]:
    return json.loads(path.read_text()) if path.is_file() else {}


def same_settings(result: dict, row: str) -> bool:
    """Whether a stored result was measured with the row's present model, data and overrides."""
    r = ROWS[row]
    got = (result.get("model"), result.get("data"), result.get("length"), result.get("extra"))
    return got == (r.model, r.data, list(r.length), list(r.extra))


if __name__ == "__main__":
    main()
