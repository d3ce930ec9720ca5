"""Benchmark the image GANs on the embedded digits set at the report card's CPU budget.

For each ``model=`` config (on ``data=digits`` at 32x32 with its card row's settings) train on one
CPU thread until the training batches have used ``--cpu-minutes`` of CPU time (default: the
report card's budget for image GANs, ``benchmarks.zoo_rows.KINDS``), then record the generator
steps reached, the CPU time per generator step (including its n_critic discriminator steps)
and the final sample grid from the fixed evaluation noise. Writes
``docs/benchmarks/image_gans.md`` and one PNG per model next to it (``--out`` names their
folder). Regenerate with::

    python -m benchmarks.image_gans            # the card's 3 CPU-minutes per model
    python -m benchmarks.image_gans --cpu-minutes 0.3 --models dcgan began  # -> logs/benchmarks/
"""

from __future__ import annotations

import time
from pathlib import Path

import pytorch_lightning as pl
import torch

from benchmarks import common
from benchmarks.zoo_rows import KINDS, settings, with_kind
from gens.train import build
from gens.utils.plots import save_image_grid

PAGE = "image_gans.md"

MODELS = ["dcgan", "dcgan_hinge_sn", "wgan", "wgan_gp", "lsgan", "began"]
VARIANTS = {
    "dcgan_hinge_sn": [
        "model=dcgan",
        "model.loss.d=hinge",
        "model.loss.g=hinge",
        "model.discriminator.spectral_norm=true",
        "model.discriminator.norm=none",
    ]
}
CARD_MINUTES = KINDS["digits_gan"].budget_min


class CPUBudget(pl.Callback):
    """CPU time of the training batches (D and G steps; no validation or set-up); stops the
    run at the end of the batch that reaches ``seconds``."""

    def __init__(self, seconds: float):
        self.seconds, self.cpu, self._t = seconds, 0.0, None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self._t = time.process_time()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.cpu += time.process_time() - self._t
        if self.cpu >= self.seconds:
            trainer.should_stop = True


def run(name: str, cpu_seconds: float, out_dir: Path, seed: int) -> dict:
    # a card row's settings (its batch, BEGAN's narrower nets) come along: the grids are the card's
    if name in VARIANTS:
        row = with_kind("digits_gan", VARIANTS[name])
    else:
        row = [f"model={name}", *settings(name)]
    overrides = [*row, "data=digits", f"seed={seed}"]
    cfg = common.compose(overrides)
    pl.seed_everything(seed, verbose=False)
    dm, model = build(cfg)
    clock = CPUBudget(cpu_seconds)
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=-1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        callbacks=[clock],
    )
    trainer.fit(model, datamodule=dm)
    model.eval()
    x = model.sample(64, z=model.fixed_z[:64])
    png = out_dir / f"image_gans_{name}.png"
    save_image_grid(x, png, nrow=8)
    n_params = {
        k: sum(p.numel() for p in getattr(model, k).parameters())
        for k in ("generator", "discriminator")
    }
    return {
        "model": name,
        "overrides": " ".join(overrides[:-1]),
        "g_steps": model.g_steps,
        "d_steps": model.d_steps,
        "sec_per_g_step": clock.cpu / max(model.g_steps, 1),
        "g_params": n_params["generator"],
        "d_params": n_params["discriminator"],
        "png": png.name,
        "k": getattr(model, "k", None),
    }


def render(rows: list[dict], args) -> str:
    table = [
        [
            r["model"],
            f"`{r['overrides']}`",
            r["g_steps"],
            r["d_steps"],
            f"{r['sec_per_g_step']:.3f}",
            f"{r['g_params'] / 1e6:.2f}M",
            f"{r['d_params'] / 1e6:.2f}M",
            f"![{r['model']}]({r['png']})",
        ]
        for r in rows
    ]
    head = ["model", "overrides", "G steps", "D steps", "CPU s / G step", "G params", "D params"]
    lines = [
        "# Image GANs on digits: time per generator step at a fixed CPU budget",
        "",
        common.regenerate("benchmarks.image_gans", args.argv) + ". Each model trains with its "
        "config and its card row's overrides (listed) on `data=digits` (32x32) on one "
        f"CPU thread until its training batches have used {args.cpu_minutes:g} CPU-minutes "
        f"(the report card's budget for image GANs is {CARD_MINUTES:g}: these grids are "
        "what [the card](../zoo.md) scores). "
        f"Load average {common.load_average()} at the end.",
        "A generator step includes its `n_critic` discriminator steps. Samples: the 64 fixed "
        "evaluation latents.",
        "",
        common.machine(threads=1),
        "",
        *common.table([*head, "samples"], table, align="llrrrrrl"),
    ]
    began = [r for r in rows if r["k"] is not None]
    if began:
        lines += ["", f"BEGAN's k_t at the end: {began[0]['k']:.4f}."]
    lines += [
        "",
        "At this budget the samples show how far each objective gets in the same CPU time, "
        "not converged quality; WGAN and WGAN-GP spend 5 critic steps per generator step.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = common.parser(__doc__, PAGE, out_is_dir=True)
    p.add_argument("--cpu-minutes", type=float, default=CARD_MINUTES)
    p.add_argument("--models", nargs="*", default=MODELS)
    p.add_argument("--seed", type=int, default=0)
    args = common.parse(p, argv)
    torch.set_num_threads(1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.models:
        print(f"== {name}", flush=True)
        rows.append(run(name, 60 * args.cpu_minutes, args.out.parent, args.seed))
        print(rows[-1], flush=True)
    common.write_page(args.out, render(rows, args), echo=False)


if __name__ == "__main__":
    main()
