"""The GANs of labels and codes on the embedded data: CGAN and AC-GAN beside DCGAN on digits,
AC-GAN's overlap bias on a 1-D mixture, InfoGAN's categorical code, the semi-supervised GAN
with 10 labels per class, and what BiGAN's encoder learned.

    python -m benchmarks.conditional [--seeds 3] [--epochs 15] [--sections digits,overlap,...]

Each row runs ``train.py`` in a subprocess per seed (the commands users run) and reads its
metrics.json, or loads its checkpoint for what needs the trained model (per-class samples, Q's
predictions on real digits). Writes ``docs/benchmarks/conditional.md`` and the overlap
histogram ``conditional_overlap.png`` beside it. The budget is CPU-sized: 16x16 digits, DCGAN
networks of width 32, ``--epochs`` passes over the 1,297 training digits.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import torch

from benchmarks import common

PAGE = "conditional.md"
BIGAN_LATENT = 16
SECTIONS = ("digits", "overlap", "infogan", "ssgan", "bigan")
IMAGE = [
    "data=digits",
    "data.image_size=16",
    "logger=csv",
    "callbacks.sample_plot.n_images=100",
]
WIDTH_BY_KIND = ["model.generator.image.width=32", "model.discriminator.image.width=32"]
METRICS = [
    "callbacks.image_metrics.n=500",
    "callbacks.image_metrics.n_test=1000",
    "callbacks.sample_plot.every_n_steps=100000",
]
DIGIT_ROWS = {
    "DCGAN (unconditional)": [
        "model=dcgan",
        "model.generator.width=32",
        "model.discriminator.width=32",
    ],
    "CGAN (concatenation)": ["model=cgan", *WIDTH_BY_KIND],
    "CGAN (projection)": [
        "model=cgan",
        "model.discriminator.conditioning=projection",
        *WIDTH_BY_KIND,
    ],
    "AC-GAN": ["model=acgan", *WIDTH_BY_KIND],
}
# twice the optimizer steps per epoch: the 1,297 training digits make 20 batches of 64
DIGITS_BATCH = ["data.batch_size=32"]
OVERLAP_ROWS = {"CGAN": ["model=cgan"], "AC-GAN": ["model=acgan"]}
OVERLAP = ["data=overlap1d", "data.n_train=20000", "callbacks.sample_plot=null", "logger=csv"]


def _run(
    name: str, before: list[str], seed: int, workdir: Path, after=()
) -> tuple[dict, Path, float]:
    run_dir = workdir / f"{name}_{seed}".replace(" ", "_").replace("(", "").replace(")", "")
    metrics, wall, _ = common.run_train([*before, f"seed={seed}"], run_dir, list(after))
    print(f"{name} seed {seed}: {metrics} ({wall:.0f} s)", flush=True)
    return metrics, run_dir, wall


def _load(run_dir: Path):
    from gens.utils.checkpoint import load_model

    return load_model(run_dir / "checkpoints" / "last.ckpt")


def cell(values: list[float], fmt: str = "{:.3f}") -> str:
    if not values:
        return "–"
    m, se = common.mean_se(values)
    return common.pm(m, se, fmt)


# --- sections ---------------------------------------------------------------------------------
def digits(args, workdir: Path) -> list[str]:
    rows = []
    for name, model in DIGIT_ROWS.items():
        runs = [
            _run(name, [*model, *IMAGE, *METRICS, *DIGITS_BATCH], s, workdir, _epochs(args))
            for s in range(args.section_seeds)
        ]
        acc = [m["test/cond_acc"] for m, _, _ in runs if "test/cond_acc" in m]
        fid = [m["test/fid"] for m, _, _ in runs]
        wall = statistics.median(w for _, _, w in runs)
        rows.append([name, cell(acc), cell(fid, "{:.2f}"), f"{wall:.0f} s"])
        _keep_grid(runs[0][1], args, name)
    return [
        "## CGAN and AC-GAN on digits",
        "",
        "`test/cond_acc`: the shipped digits classifier's accuracy on 1,000 samples drawn for "
        "balanced requested labels (chance 0.10; the classifier scores 0.990 on real test "
        "digits). FID on the classifier's features, 1,000 samples against the training digits "
        "(compare rows with each other, not with papers). Target: cond_acc >= 0.9. Batch 32 "
        "here (40 steps per epoch).",
        "",
        *common.table(["model", "cond_acc", "FID (digits features)", "wall per run"], rows),
        "",
        "Samples of seed 0, one class per row: "
        + ", ".join(f"`{_grid_name(n)}`" for n in DIGIT_ROWS if "DCGAN" not in n)
        + ".",
    ]


def _grid_name(name: str) -> str:
    return (
        "conditional_"
        + name.split(" ")[0].lower().replace("-", "")
        + ("_projection" if "projection" in name else "")
        + ".png"
    )


def _keep_grid(run_dir: Path, args, name: str) -> None:
    if "DCGAN" in name:
        return
    model = _load(run_dir)
    from gens.utils.plots import save_image_grid

    y = torch.arange(10).repeat_interleave(10)
    x = model.sample(100, y=y, generator=torch.Generator().manual_seed(0))
    save_image_grid(x, args.out.parent / _grid_name(name), nrow=10)


def overlap(args, workdir: Path) -> list[str]:
    from gens.data.toy import sample_toy

    real_x, real_y = sample_toy("overlap1d", 20000, 123)
    real_cross = _crossing(real_x[:, 0], real_y)
    rows, hist = [], {}
    for name, model in OVERLAP_ROWS.items():
        cross, band = [], []
        for s in range(args.section_seeds):
            _, run_dir, _ = _run(
                name,
                [*model, *OVERLAP],
                s,
                workdir,
                [f"trainer.max_epochs={2 if not args.quick else 1}"],
            )
            gan = _load(run_dir)
            y = torch.arange(2).repeat_interleave(10000)
            x = gan.sample(len(y), y=y, generator=torch.Generator().manual_seed(s))[:, 0]
            cross.append(_crossing(x, y))
            band.append(float((x.abs() < 0.5).float().mean()))
            if s == 0:
                hist[name] = (x, y)
        rows.append([name, cell(cross), cell(band)])
    real_band = float((real_x[:, 0].abs() < 0.5).float().mean())
    rows.append(["data", f"{real_cross:.3f}", f"{real_band:.3f}"])
    _overlap_figure(args.out.parent / "conditional_overlap.png", real_x[:, 0], real_y, hist)
    return [
        "## AC-GAN's bias where classes overlap",
        "",
        "`data=overlap1d`: two equally likely classes N(-1, 1) and N(1, 1). *Crossing*: the "
        "fraction of class-0 samples above 0 and class-1 samples below 0 (10,000 samples per "
        "class), the mass on the other class's side; *overlap band*: the fraction of all "
        "samples with |x| < 0.5. AC-GAN's G maximizes the class log-likelihood of its samples, "
        "which pays for moving them away from the overlap; CGAN has no such term. 2 epochs on "
        "20,000 points (MLP networks of `configs/base/gan_nets.yaml`).",
        "",
        *common.table(["model", "crossing", "overlap band |x| < 0.5"], rows),
        "",
        "![per-class histograms](conditional_overlap.png)",
    ]


def _crossing(x: torch.Tensor, y: torch.Tensor) -> float:
    return float(torch.cat([x[y == 0] > 0, x[y == 1] < 0]).float().mean())


def _overlap_figure(path: Path, real_x, real_y, hist) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(hist), figsize=(5 * len(hist), 3.2), squeeze=False)
    bins = torch.linspace(-5, 5, 81).numpy()
    for ax, (name, (x, y)) in zip(axes[0], hist.items()):
        for c, color in ((0, "tab:blue"), (1, "tab:orange")):
            ax.hist(
                real_x[real_y == c].numpy(),
                bins,
                density=True,
                histtype="step",
                color=color,
                ls="--",
                label=f"data class {c}",
            )
            ax.hist(
                x[y == c].numpy(),
                bins,
                density=True,
                alpha=0.45,
                color=color,
                label=f"samples class {c}",
            )
        ax.set_title(f"{name} (seed 0)", fontsize=9)
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def infogan(args, workdir: Path) -> list[str]:
    from gens.metrics.matching import matched_accuracy

    accs = []
    for s in range(args.section_seeds):
        _, run_dir, _ = _run(
            "InfoGAN",
            ["model=infogan", *WIDTH_BY_KIND, *IMAGE, *METRICS],
            s,
            workdir,
            _epochs(args),
        )
        gan = _load(run_dir)
        x, y = _split("test", s)
        with torch.no_grad():
            q = gan.discriminator.heads(x)[1][:, :10]
        accs.append(matched_accuracy(q.argmax(1), y, 10))
        if s == 0:
            from gens.utils.plots import save_image_grid

            save_image_grid(
                gan.traversal(None, 10),
                args.out.parent / "conditional_infogan_categories.png",
                nrow=10,
            )
            save_image_grid(
                gan.traversal(0, 10), args.out.parent / "conditional_infogan_c0.png", nrow=10
            )
    err = [1 - a for a in accs]
    return [
        "## InfoGAN: the categorical code against digit classes",
        "",
        "Q's most likely category on the 300 real test digits, matched one-to-one to the digit "
        "classes (Hungarian algorithm, `gens/metrics/matching.py`). Chen et al. 2016 report "
        "about 5 % error on MNIST with the same reading of c1.",
        "",
        *common.table(
            ["model", "matched accuracy", "error"],
            [
                ["InfoGAN (ours)", cell(accs), cell(err)],
                ["InfoGAN paper, MNIST", "≈0.95", "≈0.05"],
            ],
        ),
        "",
        "Seed 0: rows are the 10 categories, columns fresh noise "
        "(`conditional_infogan_categories.png`); the first continuous code swept over [-2, 2] "
        "(`conditional_infogan_c0.png`).",
    ]


def _split(split: str, seed: int):
    from gens.data import DigitsDataModule

    dm = DigitsDataModule(image_size=16, seed=seed)
    dm.setup()
    return dm.splits[split]


def _epochs(args) -> list[str]:
    return [f"trainer.max_epochs={args.epochs}"]


def ssgan(args, workdir: Path) -> list[str]:
    gan_acc, alone = [], []
    semi = [
        "model=ssgan",
        *WIDTH_BY_KIND,
        *IMAGE,
        "data.labels_per_class=10",
        "callbacks.image_metrics=null",
    ]
    for s in range(args.section_seeds):
        m, run_dir, _ = _run("SSGAN", semi, s, workdir, _epochs(args))
        gan_acc.append(m["test/acc"])
        alone.append(_classifier_alone(semi, s, args.epochs, run_dir))
    diff = [a - b for a, b in zip(gan_acc, alone)]
    return [
        "## Semi-supervised GAN with 10 labels per class",
        "",
        "D's accuracy on the 300 test digits (`test/acc`, its best validation checkpoint) after "
        "training on 100 labelled digits (10 per class, `data.labels_per_class=10`) plus all "
        "1,297 unlabelled ones, against the same classifier network (the SSGAN discriminator, "
        "freshly initialized) trained by cross-entropy on the same 100 labelled digits alone, "
        "for as many steps, also picked on validation accuracy. The lecture's table (SVHN, 1,000 "
        "labels): 8.11 % error for the GAN vs 36 % for supervised training alone.",
        "",
        *common.table(
            ["model", "test accuracy"],
            [
                ["SSGAN (100 labels + unlabelled)", cell(gan_acc)],
                ["same network, 100 labels alone", cell(alone)],
                ["difference", cell(diff)],
            ],
        ),
    ]


def _classifier_alone(semi: list[str], seed: int, epochs: int, run_dir: Path) -> float:
    """The SSGAN's discriminator network, fresh, trained on the labelled subset alone by
    cross-entropy (Adam as configured for D), the checkpoint with the best validation
    accuracy scored on the test split."""
    from hydra.utils import instantiate

    from gens.train import build

    cfg = common.compose([*semi, f"seed={seed}"])
    torch.manual_seed(seed)
    dm, gan = build(cfg)
    dm.setup("fit")
    idx = dm.labelled_indices()
    x, y = dm.splits["train"][0][idx], dm.splits["train"][1][idx]
    (xv, yv), (xt, yt) = dm.splits["val"], dm.splits["test"]
    net = gan.discriminator
    opt = instantiate(cfg.model.optimizer_d)(net.parameters())
    steps = epochs * (len(dm.splits["train"][0]) // dm.batch_size)
    g = torch.Generator().manual_seed(seed)
    best, best_test = -1.0, 0.0
    for step in range(steps):
        i = torch.randint(0, len(x), (dm.batch_size,), generator=g)
        net.train()
        loss = torch.nn.functional.cross_entropy(net.heads(x[i])[1], y[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % 20 == 0 or step + 1 == steps:
            net.eval()
            with torch.no_grad():
                val = float((net.heads(xv)[1].argmax(1) == yv).float().mean())
                if val > best:
                    best = val
                    best_test = float((net.heads(xt)[1].argmax(1) == yt).float().mean())
    return best_test


def bigan(args, workdir: Path) -> list[str]:
    probe, pixels, recon = [], [], []
    for s in range(args.section_seeds):
        m, _, _ = _run(
            "BiGAN",
            [
                "model=bigan",
                f"model.latent_dim={BIGAN_LATENT}",
                *IMAGE,
                "callbacks.image_metrics=null",
            ],
            s,
            workdir,
            _epochs(args),
        )
        probe.append(m["test/probe_acc"])
        pixels.append(m["test/probe_acc_pixels"])
        recon.append(m["test/recon_x"] / 256)
    return [
        "## BiGAN / ALI: what the encoder learned",
        "",
        "Linear probe (logistic regression, `gens/metrics/probe.py`) fitted on the 1,297 "
        "training digits, scored on the 300 test digits: on E(x) (the mean of ALI's encoder, "
        f"{BIGAN_LATENT} dimensions) and on the raw 16x16 pixels. "
        "Reconstruction error: mean squared error per pixel of G(E(x)) on test digits "
        "(pixels in [-1, 1]).",
        "",
        *common.table(
            ["representation", "probe accuracy", "recon. MSE / pixel"],
            [["BiGAN E(x)", cell(probe), cell(recon)], ["raw pixels", cell(pixels), "–"]],
        ),
    ]


RUNNERS = {
    "digits": digits,
    "overlap": overlap,
    "infogan": infogan,
    "ssgan": ssgan,
    "bigan": bigan,
}


def main(argv: list[str] | None = None) -> None:
    p = common.parser(__doc__, PAGE)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument(
        "--seeds-for",
        default="",
        help="seeds of single sections, e.g. digits=2,infogan=1 (the rest take --seeds)",
    )
    p.add_argument("--sections", default=",".join(SECTIONS))
    p.add_argument("--quick", action="store_true", help="a smoke run: 1 epoch, 1 seed")
    args = common.parse(p, argv)
    if args.quick:
        args.seeds, args.epochs, args.seeds_for = 1, 1, ""
    per_section = dict(kv.split("=") for kv in args.seeds_for.split(",") if kv)
    chosen = [s for s in args.sections.split(",") if s]
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        p.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # sections run in separate invocations share one page: each stores its lines and command
    store = common.SCRATCH / "conditional.sections.json"
    with tempfile.TemporaryDirectory() as tmp:
        for name in chosen:
            args.section_seeds = int(per_section.get(name, args.seeds))
            lines = RUNNERS[name](args, Path(tmp))
            lines += ["", f"{args.section_seeds} seed(s): `{_command(args, name)}`", ""]
            with common.locked_json(store) as done:
                done[name] = lines
            _write(args, store)


def _command(args, section: str) -> str:
    """The command that reruns one section with this run's options."""
    argv, skip = [], False
    for a in args.argv:
        if skip or a.startswith("--sections"):
            skip = a == "--sections"
            continue
        argv.append(a)
    return common.command("benchmarks.conditional", [*argv, "--sections", section])


def _write(args, store: Path) -> None:
    with common.locked_json(store) as done:
        sections = [line for name in SECTIONS for line in done.get(name, [])]
    lines = [
        "# Conditional, semi-supervised and information-maximizing GANs on embedded data",
        "",
        "Mean ± standard error over the seeds each section states (a single seed has no error "
        "bar); 16x16 digits, DCGAN networks of width 32, batch 64, unless a section says "
        "otherwise. Each section ends with the command that made it.",
        "",
        *sections,
        *common.footer("benchmarks.conditional", args.argv),
    ]
    common.write_page(args.out, "\n".join(lines))


if __name__ == "__main__":
    main()
