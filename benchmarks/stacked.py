"""Stacked digits (the PacGAN paper's Stacked-MNIST idea on the embedded digits): modes
captured (of 1,000) and KL to uniform for DCGAN vs PacDCGAN2.

    python -m benchmarks.stacked [--seeds 2] [--out FILE.md] [overrides ...]

Runs ``train.py model=dcgan|pacdcgan data=stacked_digits seed=<s>`` in a subprocess per run
(the commands users run), reads each run's metrics.json (``test/modes`` and ``test/kl`` from
the StackedModes callback: the shipped digits classifier applied to each channel of 26,000
samples) and writes a Markdown table of mean +- standard error beside the paper's rows. The
default budget is CPU-sized (16x16 images, narrow networks, a few thousand steps); pass
overrides for the paper-scale set-up.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from benchmarks import common

PAGE = "stacked_digits.md"
ROWS = {"DCGAN": ["model=dcgan"], "PacDCGAN2": ["model=pacdcgan", "model.discriminator.pack=2"]}
# PacGAN (Lin et al. 2018), Stacked MNIST: modes captured (of 1,000).
PUBLISHED = {"DCGAN": "78.9", "PacDCGAN2": "1000"}
BUDGET = [
    "data.image_size=16",
    "data.n_train=20000",
    "model.generator.width=32",
    "model.discriminator.width=32",
    "trainer.max_epochs=4",
    "callbacks.image_metrics=null",
    "callbacks.sample_plot=null",
    "logger=csv",
]


def run(model: list[str], seed: int, overrides: list[str], workdir: Path) -> tuple[dict, float]:
    run_dir = workdir / f"{model[0].split('=')[1]}_{seed}"
    before = [*model, "data=stacked_digits", f"seed={seed}"]
    metrics, wall, _ = common.run_train(before, run_dir, overrides)
    return metrics, wall


def cell(values: list[float]) -> str:
    m, se = common.mean_se(values)
    return common.pm(m, se, "{:.1f}" if m >= 10 else "{:.2f}")


def render(results: dict[str, list[tuple[dict, float]]], overrides: list[str], args) -> str:
    ours = [
        [
            f"{name} (ours)",
            cell([m["test/modes"] for m, _ in rs]),
            cell([m["test/kl"] for m, _ in rs]),
            f"{statistics.median(w for _, w in rs):.0f} s",
        ]
        for name, rs in results.items()
    ]
    paper = [[f"{n} (PacGAN paper, Stacked MNIST)", m, "–", "–"] for n, m in PUBLISHED.items()]
    lines = [
        "# Stacked digits: DCGAN vs PacDCGAN2",
        "",
        "Three embedded 8x8 digits stacked as the channels of one image (1,000 modes), the "
        "PacGAN paper's Stacked-MNIST idea. Modes captured (of 1,000) and KL(p || uniform) of the "
        "mode histogram of 26,000 samples, each channel classified by the shipped digits "
        f"classifier. Mean ± standard error over {args.seeds} seed(s).",
        "",
        f"Budget: `{' '.join(overrides)}` (batch 64).",
        "",
        *common.table(["model", "modes (of 1,000)", "KL", "wall time per run"], ours + paper),
        "",
        "The paper's networks and budget are far larger (28x28 MNIST, full DCGAN widths, "
        "many epochs); this CPU-sized run compares the two models at equal budget.",
        *common.footer("benchmarks.stacked", args.argv),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = common.seeds_parser(__doc__, PAGE, 2, "Hydra overrides replacing the default budget")
    args = common.parse(p, argv)
    overrides = args.overrides or BUDGET
    results: dict[str, list[tuple[dict, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            for name, model in ROWS.items():
                m, wall = run(model, seed, overrides, Path(tmp))
                results.setdefault(name, []).append((m, wall))
                print(
                    f"{name} seed {seed}: modes {m['test/modes']:.0f} kl {m['test/kl']:.3f} "
                    f"({wall:.0f} s)",
                    flush=True,
                )
    common.write_page(args.out, render(results, overrides, args))


if __name__ == "__main__":
    main()
