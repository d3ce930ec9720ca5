"""Cases of ``scripts/benchmark.py``: config overrides plus the plain-PyTorch step of each.

The plain steps repeat what the gens module does per batch with nothing of Lightning around
it: the same networks (taken from the built module), the same optimizers (from its
``configure_optimizers``), the same losses and the same data loader.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = str(ROOT / "configs")

__all__ = ["Case", "CASES", "compose", "gan_plain_step"]

CPU = ["trainer.accelerator=cpu", "trainer.devices=1"]


def compose(overrides: list[str], out_dir: Path) -> DictConfig:
    """``train.yaml`` composed with ``overrides``, its run directory set to ``out_dir``."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = hydra_compose("train.yaml", overrides=CPU + overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.paths.output_dir = str(out_dir)
        cfg.paths.log_dir = str(out_dir / "logs")
        cfg.hydra.runtime.output_dir = str(out_dir)
        cfg.hydra.job.num = 0
        cfg.hydra.job.id = 0
    HydraConfig().set_config(cfg)
    return cfg


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
    """One maximum-likelihood update: mean negative log-likelihood of the batch."""
    (opt,) = _optimizers(model) if isinstance(_optimizers(model), list) else [_optimizers(model)]

    def step(batch):
        loss = -model.log_prob(model.preprocess(batch[0])).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


@dataclass
class Case:
    name: str
    title: str
    overrides: list[str]
    batch: int
    target: float
    plain_step: Callable
    extra: Callable | None = None


CASES: dict[str, Case] = {
    "mlp_gan": Case(
        "mlp_gan",
        "MLP GAN, grid25 (`model=gan data=grid25`)",
        ["model=gan", "data=grid25", "data.batch_size=256"],
        256,
        1.10,
        gan_plain_step,
    ),
}
