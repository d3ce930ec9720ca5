"""Cases of ``benchmarks.speed``: config overrides plus the plain-PyTorch step of each.

The plain steps repeat what the gens module does per batch with nothing of Lightning around
it: the same networks (taken from the built module), the same optimizers (from its
``configure_optimizers``), the same losses and the same data loader.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import hydra
import torch
from omegaconf import DictConfig

from benchmarks import common

__all__ = ["Case", "CASES", "compose", "gan_plain_step", "flow_plain_step", "data_throughput"]

CPU = ["trainer.accelerator=cpu", "trainer.devices=1"]


def compose(overrides: list[str], out_dir: Path) -> DictConfig:
    """``train.yaml`` on the CPU composed with ``overrides``, its run directory ``out_dir``."""
    return common.compose(CPU + overrides, out_dir)


def _optimizers(model):
    opts = model.configure_optimizers()
    return opts[0] if isinstance(opts, tuple) else opts


def gan_plain_step(model) -> Callable:
    """One D update and one G update (n_critic=1) of ``gens.gan.GAN``'s default objectives."""
    G, D = model.generator, model.discriminator
    opt_d, opt_g = _optimizers(model)
    d_loss_fn, g_loss_fn, k = model.d_loss_fn, model.g_loss_fn, model.latent_dim

    def step(batch):
        x = batch[0]
        with torch.no_grad():
            fake = G(torch.randn(len(x), k))
        loss_d = d_loss_fn(D(x), D(fake))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        D.requires_grad_(False)
        loss_g = g_loss_fn(D(G(torch.randn(len(x), k))))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        D.requires_grad_(True)

    return step


def flow_plain_step(model) -> Callable:
    """One maximum-likelihood update of ``gens.flows.FlowModel``: the per-dimension mean NLL
    (dequantized, logit space: the module's own ``_nll``), gradient-norm clipping, Adam."""
    opt = model.configure_optimizers()
    opt = opt["optimizer"] if isinstance(opt, dict) else opt
    params = [p for p in model.parameters() if p.requires_grad]

    def step(batch):
        loss = model._nll(batch).mean() / model.dim
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if model.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, model.max_grad_norm)
        opt.step()

    return step


def _images_per_second(loader, min_images: int = 5000) -> float:
    n, clock = 0, common.Clock()
    while n < min_images:
        for x, _ in loader:
            n += len(x)
            if n >= min_images:
                break
    return n / clock.lap()[0]


def data_throughput(root: Path) -> list[str]:
    """Images/s of the image data modules' training loaders (decode, resize, batch)."""
    from tests.fakedata import make_fake_mnist

    make_fake_mnist(root / "data" / "mnist", n_train=6000, n_test=100)
    rows = []
    sets = [
        ("digits 32x32 (in memory)", ["data=digits"], [0]),
        ("MNIST 28x28 (idx files, fake 6k)", ["data=mnist", "data.n_val=100"], [0, 2]),
        (
            "MNIST resized to 32x32",
            ["data=mnist", "data.n_val=100", "data.image_size=32"],
            [0, 2],
        ),
    ]
    for title, overrides, workers in sets:
        for w in workers:
            extra = [f"data.num_workers={w}"] if "mnist" in overrides[0] else []
            ov = overrides + extra + [f"paths.data_dir={root / 'data'}"]
            cfg = compose(ov, root / "dt")
            dm = hydra.utils.instantiate(cfg.data)
            dm.setup("fit")
            ips = _images_per_second(dm.train_dataloader())
            rows.append([title, dm.batch_size, w, f"{ips:,.0f}"])
    return [
        "## Data loading",
        "",
        "Images per second from each data module's training loader (shuffle, decode, resize, "
        "normalize, batch), on this machine's 2 shared cores, 5,000 images after the loader "
        "starts. A training step of the models above consumes far fewer images per second.",
        "",
        *common.table(["data module", "batch", "workers", "images/s"], rows),
        "",
    ]


@dataclass
class Case:
    name: str
    title: str
    overrides: list[str]
    batch: int
    target: float
    plain_step: Callable
    extra: Callable | None = None
    steps: int = 100  # timed steps per arm and repeat (a few CPU-minutes per case)


CASES: dict[str, Case] = {
    "mlp_gan": Case(
        "mlp_gan",
        "MLP GAN, grid25 (`model=gan data=grid25`)",
        ["model=gan", "data=grid25", "data.batch_size=256"],
        256,
        1.10,
        gan_plain_step,
    ),
    "dcgan": Case(
        "dcgan",
        "DCGAN, digits 32x32 (`model=dcgan data=digits`)",
        ["model=dcgan", "data=digits", "data.image_size=32", "data.batch_size=64"],
        64,
        1.05,
        gan_plain_step,
        steps=20,
    ),
    "realnvp": Case(
        "realnvp",
        "RealNVP, digits 32x32 (`model=realnvp data=digits`)",
        ["model=realnvp", "data=digits", "data.image_size=32", "data.batch_size=64"],
        64,
        1.05,
        flow_plain_step,
        extra=data_throughput,
        steps=8,
    ),
}
