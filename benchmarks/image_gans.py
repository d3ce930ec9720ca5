"""Benchmark the image GANs on the embedded digits set at a fixed CPU budget.

For each ``model=`` config (the defaults, on ``data=digits`` at 32x32, batch 64) train for
``--seconds`` of wall time on one CPU thread, then record the generator steps reached, the
time per generator step (including its n_critic discriminator steps) and the final sample grid
from the fixed evaluation noise. Writes ``docs/benchmarks/image_gans.md`` and one PNG per model
next to it (``--out`` names their folder). Regenerate with::

    python -m benchmarks.image_gans            # ~1 minute per model
    python -m benchmarks.image_gans --seconds 20 --models dcgan began   # -> logs/benchmarks/
"""

from __future__ import annotations

import time
from pathlib import Path

import pytorch_lightning as pl
import torch

from benchmarks import common
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


class StepClock(pl.Callback):
    """Wall time of the training batches (D and G steps), excluding validation, setup and the
    first (warm-up) generator step."""

    def __init__(self):
        self.train_time, self._t, self.g_steps_at_start = 0.0, None, None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self._t = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self.g_steps_at_start is None:
            if pl_module.g_steps > 0:
                self.g_steps_at_start = pl_module.g_steps
            return
        self.train_time += time.perf_counter() - self._t

    def sec_per_g_step(self, g_steps: int) -> float:
        return self.train_time / max(g_steps - (self.g_steps_at_start or 0), 1)


def run(name: str, seconds: float, out_dir: Path, seed: int) -> dict:
    overrides = VARIANTS.get(name, [f"model={name}"]) + ["data=digits", f"seed={seed}"]
    cfg = common.compose(overrides)
    pl.seed_everything(seed, verbose=False)
    dm, model = build(cfg)
    clock = StepClock()
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=-1,
        max_time={"seconds": seconds},
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
        "sec_per_g_step": clock.sec_per_g_step(model.g_steps),
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
    head = ["model", "overrides", "G steps", "D steps", "s / G step", "G params", "D params"]
    lines = [
        "# Image GANs on digits: time per generator step at a fixed CPU budget",
        "",
        common.regenerate("benchmarks.image_gans", args.argv) + ". Each model trains with its "
        f"default config on `data=digits` (32x32, batch 64) for {args.seconds:g} s of wall time "
        f"on one CPU thread (load average {common.load_average()} at the end: the machine is "
        "shared, so absolute times are noisy).",
        "A generator step includes its `n_critic` discriminator steps; the first (warm-up) step "
        "is not timed. Samples: the 64 fixed evaluation latents.",
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
        "At this budget the samples show how far each objective gets in the same wall time, "
        "not converged quality; WGAN and WGAN-GP spend 5 critic steps per generator step.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = common.parser(__doc__, PAGE, out_is_dir=True)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--models", nargs="*", default=MODELS)
    p.add_argument("--seed", type=int, default=0)
    args = common.parse(p, argv)
    torch.set_num_threads(1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.models:
        print(f"== {name}", flush=True)
        rows.append(run(name, args.seconds, args.out.parent, args.seed))
        print(rows[-1], flush=True)
    common.write_page(args.out, render(rows, args), echo=False)


if __name__ == "__main__":
    main()
