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

    python -m benchmarks.speed --breakdown              # every case, writes the Markdown
    python -m benchmarks.speed --cases mlp_gan --profile   # cProfile of the gens arm
"""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytorch_lightning as pl
import torch

from benchmarks import common
from benchmarks.speed_cases import CASES, Case, compose
from gens.train import build, train

__all__ = ["StepTimer", "main"]

PAGE = "speed.md"


class StepTimer(pl.Callback):
    """Stamps the start of every training batch and stops training after ``StepTimer.limit``
    batches (class attributes: a registry the script reads back after ``train``)."""

    stamps: list[tuple[int, float, float]] = []
    limit: int = 0

    def __init__(self):
        StepTimer.stamps = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        StepTimer.stamps.append((trainer.current_epoch, *stamp()))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if len(StepTimer.stamps) >= StepTimer.limit:
            trainer.should_stop = True


def stamp() -> tuple[float, float]:
    """(wall clock, CPU time of this process: all its threads, user + system)."""
    return time.perf_counter(), time.process_time()


def rate(stamps: list[tuple[int, float, float]], warmup: int) -> tuple[float, float]:
    """Batches per (wall, CPU) second after the first ``warmup`` batches, counting only
    intervals between two batches of the same epoch: steady-state training steps, without
    what runs once per epoch (checkpoints, validation) in either arm."""
    s = stamps[warmup:]
    pairs = [(a, b) for a, b in zip(s[:-1], s[1:]) if a[0] == b[0]]
    wall = sum(b[1] - a[1] for a, b in pairs)
    cpu = sum(b[2] - a[2] for a, b in pairs)
    return len(pairs) / wall, len(pairs) / cpu


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
            "trainer.max_epochs=-1",
            "trainer.min_epochs=0",
            "trainer.max_steps=-1",
            "+trainer.limit_val_batches=0",
            "test=false",
            f"+callbacks.step_timer._target_={__name__}.StepTimer",
        ],
        tmp,
    )
    StepTimer.limit = warmup + steps + 1
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
    stamps: list[tuple[int, float, float]] = []
    model.train()
    epoch = 0
    while len(stamps) < warmup + steps + 1:
        if hasattr(loader, "sampler") and hasattr(loader.sampler, "set_epoch"):
            loader.sampler.set_epoch(epoch)  # what Lightning does: a new shuffle per epoch
        for batch in loader:
            stamps.append((epoch, *stamp()))
            if len(stamps) == warmup + steps + 1:
                break
            step(batch)
        epoch += 1
    return rate(stamps, warmup)


@dataclass
class Result:
    case: Case
    steps: int = 0
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

    def row(self) -> list[str]:
        ok = "yes" if statistics.median(self.ratios("gens", 1)) <= self.case.target else "**no**"
        cells = [self.case.title, str(self.case.batch), str(self.steps), *self.cells("gens")]
        return cells + [f"{self.overhead_us('gens'):.0f}", f"{self.case.target:.2f}", ok]

    def breakdown_rows(self) -> list[list[str]]:
        return [
            [
                self.case.name,
                arm,
                f"{self.median(arm, 1):.1f}",
                f"{statistics.median(self.ratios(arm, 1)):.3f}",
                f"{self.overhead_us(arm):.0f}",
            ]
            for arm in self.arms
            if arm != "plain"
        ]


def bench(
    case: Case, steps: int, warmup: int, repeats: int, root: Path, variants: list[str]
) -> Result:
    res = Result(case, steps)
    # One short untimed pass of each arm: imports, allocator and oneDNN warm-up.
    run_plain(case, 5, 2, root / "warm_p")
    run_gens(case, 5, 2, root / "warm_g")
    for r, name in common.interleave(["plain", *variants], repeats):
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


NOTES = """## Where the overhead went, and what was removed

Profiled with `python -m benchmarks.speed --cases mlp_gan --profile` (cProfile of the gens arm)
and with the `--breakdown` arms:

- **Divergence guard, gradient check** (`gens.callbacks.divergence`): a `torch.isfinite` mask
  per gradient tensor before each optimizer step (two per GAN batch) was the largest single
  cost, about 7% of an MLP GAN step under cProfile. It became one fused total norm per step
  (finite iff every entry is), with the per-tensor scan only to name the parameter when the
  norm is not finite. Micro-benchmark on this machine, the MLP GAN's gradients (1.9 M values):
  about 290 ms -> 0.6 ms of CPU per check while the machine was saturated. On CPUs it is now
  one sum per gradient tensor (finite iff every entry is; it names the parameter without a
  second scan): 0.54x the CPU time of the total norm, loss check included, on the default
  model's discriminator.
- **Rich progress bar**: Lightning's `RichProgressBar` updates its task and metrics and
  soft-refreshes on every batch whatever `refresh_rate` says; `gens.callbacks.RichProgressBar`
  forwards that hook every `refresh_rate` (10) batches and on the last one (about 0.1 ms per
  step on a framework-bound MLP GAN with 32 hidden units).
- **Kept** (small next to the work): `self.optimizers()`, the `LightningOptimizer.step` and
  `manual_backward` hook chains, the loop's batch-to-device and hook dispatch, together about
  0.7 ms of CPU per batch in a framework-bound case; logging every `log_every_n_steps` (50)
  batches with the tensors left on the device; the in-memory loader for toy sets and digits.
- **Not measured here (no GPU)**: on a GPU an MLP GAN step takes about a millisecond, so the
  ~0.7 ms of Python per batch would dominate; the conv models (DCGAN, RealNVP) have enough work
  per step to hide it. The divergence checks wait for the device only on a CPU: on a GPU the
  guard skips a bad step on the device and reads its flags a few steps late
  (`divergence.mode=device`). `bash benchmarks/gpu.sh` measures both on a GPU
  (`docs/benchmarks/gpu.md`).
"""


def render(results: list[Result], extra: list[str], args) -> str:
    lines = [
        "# Framework overhead: `train.py` path vs a plain PyTorch loop",
        "",
        f"{common.regenerate('benchmarks.speed', args.argv)} ({args.repeats} interleaved "
        "repeats per arm and case of the timed steps given in each row, after "
        f"{args.warmup} warm-up steps).",
        "",
        f"{common.machine(torch.get_num_threads())} The cores are shared with other users.",
        "",
        "A *step* is one training batch: one discriminator and one generator update for the "
        "GANs (n_critic=1), one optimizer update for flows. Both arms are timed from the start "
        "of one batch to the start of the next, so data fetching and every per-batch hook "
        "count; intervals that span an epoch boundary (end-of-epoch checkpoint, a new shuffle) "
        "are left out of both, so the figures are steady-state training steps. "
        "*ratio* = plain steps/s / gens steps/s, the time per step of "
        "gens relative to the plain loop (1.00: no overhead). Values are medians over the "
        "repeats, the range is min-max of the per-repeat ratios. The target applies to the "
        "CPU-time ratio: CPU time of the process (all threads, so a progress-bar thread counts) "
        "is what the framework adds; wall time on this shared machine mostly measures the "
        "other users' load, and is reported for completeness.",
        "",
        *common.table(
            [
                "case",
                "batch",
                "timed steps",
                "plain steps/CPU-s",
                "gens steps/CPU-s",
                "ratio, CPU time",
                "plain steps/s (wall)",
                "gens steps/s (wall)",
                "ratio, wall",
                "overhead us/step",
                "target",
                "met",
            ],
            [r.row() for r in results],
        ),
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
            *common.table(["case", "arm", "steps/CPU-s", "ratio", "overhead us/step"], rows),
            "",
        ]
    return "\n".join([*lines, NOTES, *extra])


def main(argv: list[str] | None = None) -> None:
    p = common.parser(__doc__, PAGE)
    p.add_argument("--cases", default=",".join(CASES), help=f"subset of {list(CASES)}")
    p.add_argument("--steps", type=int, default=None, help="timed steps (default: per case)")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--profile", action="store_true", help="cProfile one gens run per case")
    p.add_argument(
        "--breakdown", action="store_true", help="also time the gens arm with parts switched off"
    )
    args = common.parse(p, argv, neutral=("breakdown",))
    torch.set_num_threads(args.threads)
    names = [c for c in args.cases.split(",") if c]
    unknown = [n for n in names if n not in CASES]
    if unknown:
        p.error(f"unknown case(s) {unknown}; choose from {list(CASES)}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.profile:
            for n in names:
                steps = args.steps or CASES[n].steps
                run_gens(CASES[n], steps, args.warmup, root / f"prof_{n}", profile=True)
            return
        variants = list(VARIANTS) if args.breakdown else ["gens"]
        results = [
            bench(
                CASES[n], args.steps or CASES[n].steps, args.warmup, args.repeats, root, variants
            )
            for n in names
        ]
        extra = []
        for n in names:
            if CASES[n].extra is not None:
                extra += CASES[n].extra(root)
    common.write_page(args.out, render(results, extra, args), echo=False)


if __name__ == "__main__":
    main()
