"""What the benchmark harnesses share: where a page goes, runs of ``train.py``, clocks,
statistics, Markdown tables and the lines every page starts with.

Every harness runs as ``python -m benchmarks.<name>`` from the repository root. A full run (every
flag that changes what is measured at its default) writes ``docs/benchmarks/<page>``; any other
run (``--quick``, a subset of rows, seeds or sections, another budget) writes
``logs/benchmarks/<page>``, so the committed pages change only through a full run, ``--publish``
or an explicit ``--out``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import math
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "docs" / "benchmarks"
SCRATCH = ROOT / "logs" / "benchmarks"
CONFIG_DIR = str(ROOT / "configs")

# PacGAN (Lin et al. 2018), Table 1, PacGAN4: (mean, s.e.) of modes, high-quality fraction,
# reverse KL.
PACGAN4 = {
    "grid25": ((24.8, 0.2), (0.936, 0.006), (0.04, 0.01)),
    "ring8": ((7.8, 0.1), (0.959, 0.014), (0.07, 0.02)),
}
# train.py without its progress bars: the output of a harness stays readable
NO_PROGRESS = ["callbacks.rich_progress_bar=null", "+trainer.enable_progress_bar=false"]

__all__ = [
    "CONFIG_DIR",
    "Clock",
    "NO_PROGRESS",
    "PACGAN4",
    "ROOT",
    "adam_fit",
    "best_of_interleaved",
    "bits_per_dim_table",
    "changed_flags",
    "command",
    "compose",
    "footer",
    "interleave",
    "load_average",
    "locked_json",
    "machine",
    "mean_se",
    "merge_rows",
    "n_params",
    "parse",
    "parser",
    "pm",
    "read_metrics",
    "regenerate",
    "run_train",
    "se0",
    "seeds_parser",
    "table",
    "train_command",
    "write_page",
]


# --- command line and where the page goes ---------------------------------------------------
def parser(doc: str, page: str, out_is_dir: bool = False) -> argparse.ArgumentParser:
    """A harness's parser with ``--out`` and ``--publish``; ``page`` is the file name under
    docs/benchmarks/. With ``out_is_dir``, ``--out`` names the folder of the page (and of
    the files the harness writes beside it)."""
    p = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    what = "folder of the page" if out_is_dir else "page to write"
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"the {what} (default: docs/benchmarks/{page} for a full run, "
        f"logs/benchmarks/{page} for any other)",
    )
    p.add_argument(
        "--publish",
        action="store_true",
        help=f"write docs/benchmarks/{page} even when the run is not a full one",
    )
    p.set_defaults(page=page, out_is_dir=out_is_dir)
    return p


def seeds_parser(doc: str, page: str, seeds: int, overrides: str) -> argparse.ArgumentParser:
    """The parser of a harness that runs ``train.py`` over ``--seeds`` seeds, with Hydra
    overrides as positional arguments (``overrides`` says what they do)."""
    p = parser(doc, page)
    p.add_argument("--seeds", type=int, default=seeds)
    p.add_argument("overrides", nargs="*", help=overrides)
    return p


def changed_flags(p: argparse.ArgumentParser, args, neutral: Iterable[str] = ()) -> list[str]:
    """The options of ``args`` that differ from their defaults, leaving out ``neutral`` ones
    (those that do not change what is measured, e.g. how many jobs run at once)."""
    skip = {"help", "out", "publish", "page", "out_is_dir", *neutral}
    out = []
    for action in p._actions:
        if action.dest in skip or action.default == argparse.SUPPRESS:
            continue
        value, default = getattr(args, action.dest, None), action.default
        if value in ([], None) and default in ([], None):
            continue
        if value != default:
            out.append(action.option_strings[0] if action.option_strings else action.dest)
    return out


def parse(
    p: argparse.ArgumentParser, argv: Sequence[str] | None = None, neutral: Iterable[str] = ()
) -> argparse.Namespace:
    """Parse ``argv``; sets ``args.argv`` (the arguments as given), ``args.partial`` (the
    flags that make this run other than the full one) and ``args.out`` (the page's path)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = p.parse_args(argv)
    args.argv = argv
    args.partial = changed_flags(p, args, neutral)
    if args.out is not None:
        args.out = args.out / args.page if args.out_is_dir else args.out
    elif args.publish or not args.partial:
        args.out = PAGES / args.page
    else:
        args.out = SCRATCH / args.page
    return args


def command(module: str, argv: Sequence[str], drop: Iterable[str] = ()) -> str:
    """The shell command that reruns a harness with ``argv`` (minus the ``drop`` flags)."""
    drop = set(drop)
    return shlex.join(["python", "-m", module, *(a for a in argv if a not in drop)])


def regenerate(module: str, argv: Sequence[str], drop: Iterable[str] = ()) -> str:
    return f"Regenerate: `{command(module, argv, drop)}`"


def footer(module: str, argv: Sequence[str], threads: int | None = None) -> list[str]:
    """The last lines of a page: the machine and the command that regenerates it."""
    return ["", machine(threads), "", regenerate(module, argv)]


def write_page(path: Path, text: str, echo: bool = True, home: Path | None = None) -> Path:
    """Write a page (ending in one newline), print it when ``echo``, and say where it went;
    ``home`` is where ``--publish`` puts it (default: docs/benchmarks/)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n")
    if echo:
        print(text)
    note = ""
    if path.resolve().is_relative_to(SCRATCH):
        where = (home or PAGES / path.name).relative_to(ROOT)
        note = f" (not a full run; --publish writes {where})"
    print(f"wrote {path}{note}", flush=True)
    return path


# --- the machine and the code -----------------------------------------------------------------
def load_average() -> str:
    """The 1-, 5- and 15-minute load averages, e.g. ``2.1/1.9/1.7``."""
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def commit() -> str:
    """The checked-out commit, marked when the tree has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head} (with uncommitted changes)" if head and dirty else head or "unknown"


def machine(threads: int | None = None) -> str:
    """One line on what ran the benchmark: CPU, cores, torch threads, versions, commit."""
    import pytorch_lightning as pl

    cpu = platform.processor() or platform.machine()
    parts = [f"{cpu}, {os.cpu_count()} cores"]
    if threads is not None:
        parts.append(f"{threads} torch thread(s)")
    parts += [
        f"torch {torch.__version__}",
        f"Lightning {pl.__version__}",
        f"Python {platform.python_version()}",
        f"commit {commit()}",
    ]
    return "Machine: " + ", ".join(parts) + "."


# --- clocks -----------------------------------------------------------------------------------
def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Clock:
    """Wall seconds and CPU seconds (this process, all threads; or its finished children)
    since the last ``lap``."""

    def __init__(self, children: bool = False):
        self.cpu = children_cpu if children else time.process_time
        self.t, self.c = time.perf_counter(), self.cpu()

    def lap(self) -> tuple[float, float]:
        t, c = time.perf_counter(), self.cpu()
        out = (t - self.t, c - self.c)
        self.t, self.c = t, c
        return out


def interleave(jobs: Sequence, repeats: int) -> Iterator[tuple[int, object]]:
    """``(repeat, job)`` for every repeat, in alternating order (forward, backward, ...), so
    that load from other users of a shared machine hits every job alike."""
    for r in range(repeats):
        for job in jobs if r % 2 == 0 else list(jobs)[::-1]:
            yield r, job


def best_of_interleaved(fns: dict[str, Callable[[], object]], reps: int) -> dict[str, float]:
    """The fastest of ``reps`` calls of each function, in seconds; the calls alternate."""
    best = dict.fromkeys(fns, math.inf)
    for _ in range(reps):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


# --- statistics and tables --------------------------------------------------------------------
def mean_se(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error of the mean (NaN for fewer than two values)."""
    m = statistics.fmean(values)
    if len(values) < 2:
        return m, float("nan")
    return m, statistics.stdev(values) / math.sqrt(len(values))


def se0(se: float) -> float:
    """A standard error, 0 where there is none (NaN): for sums and comparisons."""
    return 0.0 if math.isnan(se) else se


def pm(m: float, se: float, fmt: str = "{:.2f}", scale: float = 1.0, unit: str = "") -> str:
    """``m ± se`` (the mean alone when the standard error is NaN), scaled, with a unit."""
    if math.isnan(se):
        return f"{fmt.format(m * scale)}{unit}"
    return f"{fmt.format(m * scale)} ± {fmt.format(se * scale)}{unit}"


def table(head: Sequence[str], rows: Iterable[Sequence], align: str = "") -> list[str]:
    """A Markdown table; ``align`` has one letter a column, ``l`` (default) or ``r``."""
    align = align.ljust(len(head), "l")
    rule = "|" + "".join("---:|" if a == "r" else "---|" for a in align)
    lines = ["| " + " | ".join(head) + " |", rule]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def bits_per_dim_table(rows: Iterable[Sequence]) -> list[str]:
    """Flows on digits: rows of (model, parameters, test bits/dim, train bits/dim or None,
    seconds per training step)."""
    cells = [
        [m, f"{n:,}", f"{test:.3f}", "—" if train is None else f"{train:.3f}", f"{sec:.3f}"]
        for m, n, test, train, sec in rows
    ]
    head = ["model", "params", "test bits/dim", "train bits/dim", "train s/step"]
    return table(head, cells, "lrrrr")


# --- runs of train.py and of composed configs -------------------------------------------------
def train_command(*overrides: str) -> list[str]:
    return [sys.executable, str(ROOT / "train.py"), *overrides]


def read_metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())


def run_train(
    before: Sequence[str], run_dir: Path, after: Sequence[str] = ()
) -> tuple[dict, float, float]:
    """``python train.py <before> hydra.run.dir=<run_dir> <no progress bars> <after>`` in a
    subprocess: its metrics.json, wall seconds and CPU seconds (all threads). Exits with the
    command and its stderr when the run fails."""
    cmd = train_command(*before, f"hydra.run.dir={run_dir}", *NO_PROGRESS, *after)
    clock = Clock(children=True)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall, cpu = clock.lap()
    if proc.returncode != 0:
        sys.exit(f"{shlex.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return read_metrics(run_dir), wall, cpu


def compose(overrides: Sequence[str], out_dir: Path | None = None):
    """``train.yaml`` composed with ``overrides``; with ``out_dir``, also the Hydra config of
    a run there (what callbacks and loggers read), set as the current one."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = hydra_compose(
            "train.yaml", overrides=list(overrides), return_hydra_config=out_dir is not None
        )
    if out_dir is None:
        return cfg
    with open_dict(cfg):
        cfg.paths.output_dir = str(out_dir)
        cfg.paths.log_dir = str(out_dir / "logs")
        cfg.hydra.runtime.output_dir = str(out_dir)
        cfg.hydra.job.num = 0
        cfg.hydra.job.id = 0
    HydraConfig().set_config(cfg)
    return cfg


# --- fits of small models in plain PyTorch ----------------------------------------------------
def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters() if p.requires_grad)


def adam_fit(
    loss_fn: Callable[[int], torch.Tensor],
    params,
    steps: int,
    lr: float,
    clip: float | None = None,
    cosine: bool = False,
) -> float:
    """Adam on ``loss_fn(step)``, optionally with gradient-norm clipping and a cosine decay
    over the steps; returns seconds per step. A non-finite loss stops it."""
    params = list(params)
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps) if cosine else None
    t0 = time.perf_counter()
    for step in range(steps):
        loss = loss_fn(step)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss diverged at step {step}: {loss.item()}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        if sched is not None:
            sched.step()
    return (time.perf_counter() - t0) / steps


# --- results stored as JSON beside a page ------------------------------------------------------
@contextmanager
def locked_json(path: Path) -> Iterator[dict]:
    """The JSON object stored at ``path`` ({} if none), to update in place; written back on
    leaving. Locked, so that harnesses in parallel processes can store parts of one file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = Path(tempfile.gettempdir()) / f"gens_benchmarks_{path.stem}.lock"
    with open(lock, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        results = json.loads(path.read_text()) if path.is_file() else {}
        yield results
        path.write_text(json.dumps(results, indent=1))


def merge_rows(old: list[dict], new: list[dict], key: Sequence[str], sort: bool = False):
    """``old`` rows with those of ``new`` that have the same ``key`` values replaced (the new
    rows last, or everything sorted by key)."""

    def k(row):
        return tuple(row.get(c) for c in key)

    fresh = {k(r) for r in new}
    rows = [r for r in old if k(r) not in fresh] + list(new)
    return sorted(rows, key=k) if sort else rows
