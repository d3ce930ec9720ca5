"""Framework overhead: steps/s of the ``train.py`` path against a plain PyTorch loop.

For each case the script composes the real config (default callbacks and logger), builds the
data module and model with ``gens.train.build``, and times

- ``gens``: ``gens.train.train(cfg)``, i.e. the Lightning Trainer with the configured callbacks
  (checkpointing, sample plots, metrics, progress bar) and the CSV logger; and
- ``plain``: a hand-written PyTorch loop in this file doing the same forward / backward /
  optimizer work on the same networks, data loader and batch size.

Both are timed from the start of batch ``warmup`` to the start of the last batch (data fetch,
step and every per-batch hook included; set-up, validation and checkpoint writing excluded).
The two arms alternate ``repeats`` times in one process so that load from other users of the
machine hits both alike; the tables report medians. Results go to ``docs/benchmarks/speed.md``.

    python scripts/benchmark.py                       # every case, writes the Markdown
    python scripts/benchmark.py --cases mlp_gan --profile   # cProfile of the gens arm
"""

from __future__ import annotations

import argparse
import cProfile
import io
import platform
import pstats
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytorch_lightning as pl
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gens.train import build, train  # noqa: E402
from scripts.bench_cases import CASES, Case, compose  # noqa: E402

__all__ = ["StepTimer", "main"]


class StepTimer(pl.Callback):
    """Records ``perf_counter`` at the start of every training batch (global registry)."""

    stamps: list[tuple[float, float]] = []

    def __init__(self):
        StepTimer.stamps = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        StepTimer.stamps.append(stamp())


def stamp() -> tuple[float, float]:
    """(wall clock, CPU time of this process: all its threads, user + system)."""
    return time.perf_counter(), time.process_time()


def rate(stamps: list[tuple[float, float]], warmup: int) -> tuple[float, float]:
    """Batches per (wall, CPU) second between batch ``warmup`` and the last batch start."""
    s = stamps[warmup:]
    n = len(s) - 1
    return n / (s[-1][0] - s[0][0]), n / (s[-1][1] - s[0][1])


# Variants of the gens arm that attribute the overhead (``--breakdown``).
VARIANTS = {
    "gens": [],
    "gens, no progress bar": [
        "callbacks.rich_progress_bar=null",
        "+trainer.enable_progress_bar=false",
    ],
    "Lightning, no callbacks/logger": [
        "callbacks.rich_progress_bar=null",
        "+trainer.enable_progress_bar=false",
        "callbacks.sample_plot=null",
        "callbacks.vector_metrics=null",
        "callbacks.model_checkpoint=null",
        "+trainer.enable_checkpointing=false",
        "logger=none",
    ],
}


def run_gens(
    case: Case,
    steps: int,
    warmup: int,
    tmp: Path,
    profile: bool = False,
    variant: str = "gens",
) -> tuple[float, float]:
    cfg = compose(
        case.overrides
        + VARIANTS[variant]
        + [
            "trainer.max_epochs=1",
            "trainer.max_steps=-1",
            f"+trainer.limit_train_batches={warmup + steps + 1}",
            "+trainer.limit_val_batches=0",
            "test=false",
            f"+callbacks.step_timer._target_={__name__}.StepTimer",
        ],
        tmp,
    )
    prof = cProfile.Profile() if profile else None
    if prof:
        prof.enable()
    train(cfg)
    if prof:
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumtime").print_stats(
            r"lightning|gens|rich", 60
        )
        print(out.getvalue())
    return rate(StepTimer.stamps, warmup)


def run_plain(case: Case, steps: int, warmup: int, tmp: Path) -> tuple[float, float]:
    cfg = compose(case.overrides, tmp)
    dm, model = build(cfg)
    dm.setup("fit")
    step = case.plain_step(model)
    loader = dm.train_dataloader()
    stamps: list[tuple[float, float]] = []
    model.train()
    for i, batch in enumerate(loader):
        stamps.append(stamp())
        if i == warmup + steps:
            break
        step(batch)
    return rate(stamps, warmup)


@dataclass
class Result:
    case: Case
    # arm -> per-repeat (wall, cpu) steps/s; "plain" and "gens" always, other VARIANTS optional
    arms: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def ratios(self, arm: str, k: int) -> list[float]:
        return sorted(p[k] / g[k] for g, p in zip(self.arms[arm], self.arms["plain"]))

    def median(self, arm: str, k: int) -> float:
        return statistics.median(x[k] for x in self.arms[arm])

    def overhead_us(self, arm: str) -> float:
        """Extra CPU time per step of ``arm`` over the plain loop, in microseconds."""
        return 1e6 * (1 / self.median(arm, 1) - 1 / self.median("plain", 1))

    def cells(self, arm: str) -> list[str]:
        out = []
        for k in (1, 0):  # CPU time first: other users' load inflates wall time, not CPU time
            r = self.ratios(arm, k)
            out += [
                f"{self.median('plain', k):.1f}",
                f"{self.median(arm, k):.1f}",
                f"**{statistics.median(r):.3f}** ({r[0]:.3f}-{r[-1]:.3f})",
            ]
        return out

    def row(self) -> str:
        ok = "yes" if statistics.median(self.ratios("gens", 1)) <= self.case.target else "**no**"
        cells = [self.case.title, str(self.case.batch), *self.cells("gens")]
        cells += [f"{self.overhead_us('gens'):.0f}", f"{self.case.target:.2f}", ok]
        return "| " + " | ".join(cells) + " |"

    def breakdown_rows(self) -> list[str]:
        rows = []
        for arm in self.arms:
            if arm == "plain":
                continue
            r = self.ratios(arm, 1)
            rows.append(
                f"| {self.case.name} | {arm} | {self.median(arm, 1):.1f} | "
                f"{statistics.median(r):.3f} | {self.overhead_us(arm):.0f} |"
            )
        return rows


def bench(
    case: Case, steps: int, warmup: int, repeats: int, root: Path, variants: list[str]
) -> Result:
    res = Result(case)
    # One short untimed pass of each arm: imports, allocator and oneDNN warm-up.
    run_plain(case, 5, 2, root / "warm_p")
    run_gens(case, 5, 2, root / "warm_g")
    names = ["plain", *variants]
    for r in range(repeats):
        order = names if r % 2 == 0 else names[::-1]  # alternate which arm goes first
        for name in order:
            torch.manual_seed(r)
            out = root / f"{name.replace(' ', '_').replace(',', '').replace('/', '_')}{r}"
            if name == "plain":
                v = run_plain(case, steps, warmup, out)
            else:
                v = run_gens(case, steps, warmup, out, variant=name)
            res.arms.setdefault(name, []).append(v)
            print(
                f"  {case.name} #{r} {name}: {v[0]:.1f} steps/s wall, {v[1]:.1f} per CPU s",
                flush=True,
            )
    return res


def write_markdown(results: list[Result], extra: list[str], path: Path, args) -> None:
    lines = [
        "# Framework overhead: `train.py` path vs a plain PyTorch loop",
        "",
        f"Regenerate: `python scripts/benchmark.py` ({args.repeats} interleaved repeats of "
        f"{args.steps} timed steps per arm and case, after {args.warmup} warm-up steps).",
        "",
        f"Machine: {platform.machine()} CPU, {torch.get_num_threads()} torch thread(s), "
        f"torch {torch.__version__}, Lightning {pl.__version__}, Python "
        f"{platform.python_version()}; the machine's 2 cores are shared with other users.",
        "",
        "A *step* is one training batch: one discriminator and one generator update for the "
        "GANs (n_critic=1), one optimizer update for flows. Both arms are timed from the start "
        "of a batch to the start of the batch `steps` later, so data fetching and every "
        "per-batch hook count. *ratio* = plain steps/s / gens steps/s, the time per step of "
        "gens relative to the plain loop (1.00: no overhead). Values are medians over the "
        "repeats, the range is min-max of the per-repeat ratios. The target applies to the "
        "CPU-time ratio: CPU time of the process (all threads, so a progress-bar thread counts) "
        "is what the framework adds; wall time on this shared machine mostly measures the "
        "other users' load, and is reported for completeness.",
        "",
        "| case | batch | plain steps/CPU-s | gens steps/CPU-s | ratio, CPU time | "
        "plain steps/s (wall) | gens steps/s (wall) | ratio, wall | overhead us/step | target "
        "| met |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *[r.row() for r in results],
        "",
    ]
    rows = [row for r in results for row in r.breakdown_rows()]
    if any(len(r.arms) > 2 for r in results):
        lines += [
            "## Where the overhead goes",
            "",
            "The gens arm again with parts switched off (same repeats, CPU time). "
            "*overhead* is the extra CPU time per step over the plain loop.",
            "",
            "| case | arm | steps/CPU-s | ratio | overhead us/step |",
            "|---|---|---|---|---|",
            *rows,
            "",
        ]
    lines += [
        *extra,
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", default=",".join(CASES), help=f"subset of {list(CASES)}")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--profile", action="store_true", help="cProfile one gens run per case")
    p.add_argument(
        "--breakdown", action="store_true", help="also time the gens arm with parts switched off"
    )
    p.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "speed.md"))
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    names = [c for c in args.cases.split(",") if c]
    unknown = [n for n in names if n not in CASES]
    if unknown:
        p.error(f"unknown case(s) {unknown}; choose from {list(CASES)}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.profile:
            for n in names:
                run_gens(CASES[n], args.steps, args.warmup, root / f"prof_{n}", profile=True)
            return
        variants = list(VARIANTS) if args.breakdown else ["gens"]
        results = [
            bench(CASES[n], args.steps, args.warmup, args.repeats, root, variants) for n in names
        ]
        extra = []
        for n in names:
            if CASES[n].extra is not None:
                extra += CASES[n].extra(root)
    write_markdown(results, extra, Path(args.out), args)


if __name__ == "__main__":
    main()
