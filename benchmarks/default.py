"""Score the embedded default (``python train.py``) over several seeds against PacGAN4's row.

    python -m benchmarks.default [--seeds 5] [--out FILE.md] [overrides ...]

Runs ``train.py seed=<s>`` in a subprocess per seed (the exact command users run), reads each
run's metrics.json and wall time, and writes a Markdown table of mean +- standard error.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from benchmarks import common

PAGE = "default.md"


def run_seed(seed: int, overrides: list[str], workdir: Path) -> tuple[dict, float, float]:
    """metrics.json (with the ``raw/`` scores), wall seconds and CPU seconds (all threads) of
    one ``train.py`` run."""
    run_dir = workdir / f"seed{seed}"
    metrics, wall, cpu = common.run_train([f"seed={seed}"], run_dir, overrides)
    metrics.update(raw_metrics(run_dir))
    return metrics, wall, cpu


def raw_metrics(run_dir: Path) -> dict:
    """The tested checkpoint's scores without rejection sampling (``raw/...``), on the same
    2,500-sample protocol and test seed; empty when the model has no rejection sampler."""
    import torch

    from gens.data.toy import ToyDataModule
    from gens.metrics.modes import mode_metrics
    from gens.utils.checkpoint import load_model

    ckpt = run_dir / "checkpoints" / "best.ckpt"
    model = load_model(ckpt if ckpt.is_file() else run_dir / "checkpoints" / "last.ckpt")
    if getattr(getattr(model, "sampler", None), "rejection", None) is None:
        return {}
    dm = ToyDataModule(name="grid25")
    x = model.sample(2500, generator=torch.Generator().manual_seed(1), raw=True)
    return {f"raw/{k}": v for k, v in mode_metrics(x, dm.modes, dm.mode_std).items()}


def cells(rows: list[dict], prefix: str = "test") -> list[str]:
    """Modes, high quality and reverse KL of ``rows``: mean ± standard error."""

    def cell(key: str, fmt: str, scale: float = 1.0, unit: str = "") -> str:
        return common.pm(*common.mean_se([r[f"{prefix}/{key}"] for r in rows]), fmt, scale, unit)

    return [cell("modes", "{:.1f}"), cell("hq", "{:.1f}", 100, " %"), cell("rkl", "{:.3f}")]


def target_line(rows: list[dict]) -> str:
    """Whether the mean of each column matches or beats PacGAN4's published mean."""
    (modes, _), (hq, _), (rkl, _) = common.PACGAN4["grid25"]
    mean = {k: common.mean_se([r[f"test/{k}"] for r in rows])[0] for k in ("modes", "hq", "rkl")}
    better = {
        "modes": mean["modes"] >= modes,
        "high quality": mean["hq"] >= hq,
        "reverse KL": mean["rkl"] <= rkl,
    }
    met = [k for k, v in better.items() if v]
    missed = [k for k, v in better.items() if not v]
    verdict = "met" if not missed else "NOT met"
    return (
        f"Target (match or beat PacGAN4 on every column): **{verdict}**"
        + (f"; matched: {', '.join(met)}" if met else "")
        + (f"; missed: {', '.join(missed)}." if missed else ".")
    )


def raw_lines(rows: list[dict]) -> list[str]:
    if not all("raw/hq" in r for r in rows):
        return []
    return [
        "The default samples through discriminator rejection sampling (Azadi et al. 2019,",
        "`gens/sampling/rejection.py`): a discriminator on Fourier features is fitted to the",
        "trained EMA generator after training and rejects the samples it finds off the data.",
        "The same checkpoints sampled directly (`sample(..., raw=True)`, same test seed):",
        "",
        *common.table(
            ["", "modes", "high quality", "reverse KL"], [["generator alone", *cells(rows, "raw")]]
        ),
        "",
    ]


def render(rows: list[dict], walls: list[float], cpus: list[float], args) -> str:
    (m, ms), (h, hs), (k, ks) = common.PACGAN4["grid25"]
    pacgan4 = [
        common.pm(m, ms, "{:.1f}"),
        common.pm(h, hs, "{:.1f}", 100, " %"),
        common.pm(k, ks),
    ]
    per_seed = [
        [
            s,
            f"{r['test/modes']:.0f}",
            f"{100 * r['test/hq']:.1f} %",
            f"{r['test/rkl']:.3f}",
            f"{w:.0f} s",
            f"{c:.0f} s",
        ]
        for s, (r, w, c) in enumerate(zip(rows, walls, cpus))
    ]
    lines = [
        "# The embedded default: `python train.py`",
        "",
        "`model=gan_r1` on `grid25` (25 Gaussians, std 0.05; 100,000 training points, batch 100),",
        "scored on 2,500 samples: modes captured, % high quality (within 3 std of the nearest",
        "mode), reverse KL of the mode histogram against uniform. Mean ± standard error over "
        f"{args.seeds} seeds (`seed=0..{args.seeds - 1}`).",
        "",
        *common.table(
            ["model", "modes (max 25)", "high quality", "reverse KL"],
            [
                ["gens default (ours)", *cells(rows)],
                ["PacGAN4 (Lin et al. 2018, Table 1)", *pacgan4],
            ],
        ),
        "",
        *raw_lines(rows),
        target_line(rows),
        "",
        "Per seed:",
        "",
        *common.table(
            ["seed", "modes", "high quality", "reverse KL", "wall time", "CPU time"], per_seed
        ),
        "",
        "Wall time per run (whole `python train.py`, start-up and test included): "
        f"median {statistics.median(walls):.0f} s, max {max(walls):.0f} s, with the 1-, 5- and "
        f"15-minute load averages at {common.load_average()} when the runs ended (above the "
        "number of cores, other jobs shared them and the wall time overstates the run's own). "
        "CPU time (user + system, all threads) does not depend on that load: median "
        f"{statistics.median(cpus):.0f} s.",
        *common.footer("benchmarks.default", args.argv),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = common.seeds_parser(__doc__, PAGE, 5, "extra Hydra overrides for every run")
    args = common.parse(p, argv)

    rows, walls, cpus = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for s in range(args.seeds):
            m, wall, cpu = run_seed(s, args.overrides, Path(tmp))
            rows.append(m)
            walls.append(wall)
            cpus.append(cpu)
            print(f"seed {s}: {m}  ({wall:.0f} s wall, {cpu:.0f} s CPU)", flush=True)
    common.write_page(args.out, render(rows, walls, cpus, args))


if __name__ == "__main__":
    main()
