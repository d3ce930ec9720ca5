"""Regenerate ``docs/benchmarks/metrics.md``: the cost of FID + IS + KID with the digits
extractor, and the ImageMetrics callback's overhead on the embedded default image run.

    python -m benchmarks.metrics [--threads 2] [--epochs 8] [--skip-overhead]

1. FID + IS + KID of 10,000 generated-size images (1x32x32) against the digits train split:
   real-feature extraction (done once, then cached), sample feature extraction, statistics.
2. ``python train.py model=dcgan data=digits`` with the default callbacks (8 epochs): wall time
   of ``fit`` and the time the callback spent evaluating inside it.
The machine may be shared: the load average before and after each part is recorded.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from benchmarks import common
from benchmarks.common import Clock, load_average
from gens.callbacks.image_metrics import ImageMetrics
from gens.data import DigitsDataModule
from gens.metrics.features import ClassifierExtractor
from gens.metrics.fidelity import FidelityMetrics, extract_features

PAGE = "metrics.md"


def metric_cost(n: int = 10_000) -> dict:
    dm = DigitsDataModule()
    dm.setup()
    train_x = dm.splits["train"][0]
    g = torch.Generator().manual_seed(0)
    idx = torch.randint(0, len(train_x), (n,), generator=g)
    fake = (train_x[idx] + 0.2 * torch.randn(n, 1, 32, 32, generator=g)).clamp(-1, 1)
    res = {"load_before": load_average()}
    clock = Clock()
    ex = ClassifierExtractor()
    metrics = FidelityMetrics(ex)
    res["setup_s"] = clock.lap()
    real = extract_features(ex, [train_x[i : i + 500] for i in range(0, len(train_x), 500)])
    metrics.set_real(real)
    res["real_s"] = clock.lap()
    for i in range(0, n, 500):
        metrics.update(fake[i : i + 500])
    res["extract_s"] = clock.lap()
    res["values"] = metrics.compute()
    res["stats_s"] = clock.lap()
    # reference points: real held-out digits and uniform noise against the train split
    metrics.reset()
    metrics.update(dm.splits["test"][0])
    res["real_vs_real"] = metrics.compute()
    metrics.reset()
    metrics.update(torch.rand(300, 1, 32, 32, generator=g) * 2 - 1)
    res["noise"] = metrics.compute()
    res["load_after"] = load_average()
    res["n_real"] = len(train_x)
    return res


# trainer.max_epochs in configs/trainer/default.yaml
DEFAULT_EPOCHS = 8


def overhead(epochs: int) -> dict:
    from hydra.utils import instantiate

    from gens.train import build

    tmp = Path(tempfile.mkdtemp(prefix="gens_bench_"))
    cfg = common.compose(
        [
            "model=dcgan",
            "data=digits",
            f"trainer.max_epochs={epochs}",
            "callbacks.rich_progress_bar=null",
            "+trainer.enable_progress_bar=false",
            f"paths.data_dir={tmp / 'data'}",
        ],
        tmp / "run",
    )
    torch.manual_seed(0)
    dm, model = build(cfg)
    callbacks = [instantiate(c) for c in cfg.callbacks.values() if c and "_target_" in c]
    loggers = [instantiate(c) for c in cfg.logger.values() if c and "_target_" in c]
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers)
    (cb,) = [c for c in callbacks if isinstance(c, ImageMetrics)]
    res = {"load_before": load_average(), "every_n_steps": cb.every_n_steps, "n": cb.n}
    res["kid_subsets"] = cb.kid[0]
    clock = Clock()
    trainer.fit(model, datamodule=dm)
    res["fit_s"] = clock.lap()
    res["eval_s"] = (cb.eval_seconds, cb.eval_cpu_seconds)
    res["n_evals"], res["steps"] = cb.n_evals, trainer.global_step
    trainer.test(model, datamodule=dm, verbose=False)
    res["test_s"] = clock.lap()
    res["test"] = {k: float(v) for k, v in trainer.callback_metrics.items() if "test/" in k}
    res["load_after"] = load_average()
    return res


def evals_in(epochs: int, steps_per_epoch: float, every: int) -> int:
    """How many evaluations the callback's schedule makes in a fit of ``epochs`` epochs."""
    n, last = 0, None
    for e in range(1, epochs + 1):
        step = round(e * steps_per_epoch)
        if last is None or step - last >= every or e == epochs:
            n, last = n + 1, step
    return n


def main(argv: list[str] | None = None) -> None:
    p = common.parser(__doc__, PAGE)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="epochs of the measured run")
    p.add_argument("--skip-overhead", action="store_true")
    args = common.parse(p, argv)
    torch.set_num_threads(args.threads)
    cost = metric_cost()
    ov = None if args.skip_overhead else overhead(args.epochs)
    common.write_page(args.out, render(cost, ov, args))


def render(cost: dict, ov: dict | None, args) -> str:
    v, rr, nz = cost["values"], cost["real_vs_real"], cost["noise"]
    total = tuple(a + b for a, b in zip(cost["extract_s"], cost["stats_s"]))

    def s2(pair) -> list[str]:
        return [f"{pair[0]:.2f}", f"{pair[1]:.2f}"]

    minutes = (total[0] + (ov["fit_s"][0] + ov["test_s"][0] if ov else 0)) / 60
    lines = [
        "# Image metrics: cost and overhead",
        "",
        f"{common.regenerate('benchmarks.metrics', args.argv)} (about {minutes:.1f} min here).",
        f"{common.machine(args.threads)} Shared with other jobs, so wall times are upper "
        "bounds (load averages 1/5/15 min are recorded); CPU seconds (this process, all "
        "threads) depend less on the load.",
        "",
        "## FID + IS + KID on 10,000 samples, digits extractor",
        "",
        f"Real features: the {cost['n_real']} digits of the train split (extracted once, then "
        "cached on disk). Samples: 10,000 noisy train digits (the timing does not depend on "
        "the content). KID: 100 subsets of 1,000; IS: 10 splits.",
        "",
        *common.table(
            ["step", "wall s", "CPU s"],
            [
                ["load extractor, build metrics", *s2(cost["setup_s"])],
                [
                    f"real features ({cost['n_real']} images, once per cache key)",
                    *s2(cost["real_s"]),
                ],
                ["features of 10,000 samples", *s2(cost["extract_s"])],
                ["FID + IS + KID statistics", *s2(cost["stats_s"])],
                [
                    "**total per evaluation (cached real features)**",
                    f"**{total[0]:.2f}**",
                    f"**{total[1]:.2f}**",
                ],
            ],
        ),
        "",
        f"Load average before / after: {cost['load_before']} / {cost['load_after']}.",
        "",
        "Reference values with this extractor (train split as the real set):",
        "",
        *common.table(
            ["images", "FID", "IS", "KID"],
            [
                [
                    "300 real test digits",
                    f"{rr['fid']:.2f}",
                    f"{rr['is']:.2f}",
                    f"{rr['kid']:.3f}",
                ],
                [
                    "10,000 noisy train digits",
                    f"{v['fid']:.2f}",
                    f"{v['is']:.2f}",
                    f"{v['kid']:.3f}",
                ],
                [
                    "300 uniform-noise images",
                    f"{nz['fid']:.1f}",
                    f"{nz['is']:.2f}",
                    f"{nz['kid']:.1f}",
                ],
            ],
        ),
        "",
        "These numbers are on the digits classifier's 64-d feature scale: compare them with "
        "each other, not with Inception-based FIDs from papers.",
    ]
    if ov:
        frac = [e / f for e, f in zip(ov["eval_s"], ov["fit_s"])]
        lines += [
            "",
            "## Callback overhead on the default image run",
            "",
            f"`python train.py model=dcgan data=digits` (trainer.max_epochs={args.epochs}, "
            f"{ov['steps']} global steps), default callbacks: ImageMetrics every "
            f"{ov['every_n_steps']} global steps (checked at validation ends; the first and "
            f"last validation always evaluate) on n={ov['n']} samples, KID with "
            f"{ov['kid_subsets']} subsets.",
            "",
            *common.table(
                ["quantity", "wall", "CPU"],
                [
                    ["fit (s)", f"{ov['fit_s'][0]:.1f}", f"{ov['fit_s'][1]:.1f}"],
                    ["evaluations during fit", ov["n_evals"], ""],
                    ["time in evaluation during fit (s)", *s2(ov["eval_s"])],
                    [
                        "**overhead (% of fit)**",
                        f"**{100 * frac[0]:.1f}**",
                        f"**{100 * frac[1]:.1f}**",
                    ],
                    ["test stage, one test evaluation (s)", *s2(ov["test_s"])],
                ],
            ),
        ]
        if args.epochs != DEFAULT_EPOCHS:
            per_eval = ov["eval_s"][1] / max(1, ov["n_evals"])
            per_epoch = (ov["fit_s"][1] - ov["eval_s"][1]) / args.epochs
            k = evals_in(DEFAULT_EPOCHS, ov["steps"] / args.epochs, ov["every_n_steps"])
            lines += [
                "",
                f"Projection to the default {DEFAULT_EPOCHS} epochs (CPU time): {k} evaluations"
                f" x {per_eval:.1f} s over {DEFAULT_EPOCHS * per_epoch:.0f} s of training = "
                f"**{100 * k * per_eval / (DEFAULT_EPOCHS * per_epoch):.1f} %** (the measured "
                f"run had {args.epochs} epochs).",
            ]
        lines += [
            "",
            "The first evaluation also extracts the real features (cache miss); later runs "
            "read them from the cache.",
            "Final test metrics: "
            + ", ".join(f"{k} = {val:.3g}" for k, val in sorted(ov["test"].items())),
            "",
            f"Load average before / after: {ov['load_before']} / {ov['load_after']}.",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
