"""The base of the flow LightningModules: the standard normal base density and the training
plumbing they share.

A flow's density is its base density pushed through an invertible map, log p(x) =
log N(f(x); 0, I) + log|det df/dx| (Dinh et al. 2014, NICE, eq. 1; Rezende & Mohamed 2015).
The subclasses differ in what they fit it to: data by maximum likelihood (``FlowModel``), an
energy by reverse KL (``EnergyFlow``), or a VAE posterior (``FlowVAE``). Sampling at a
temperature ``T`` draws the base from N(0, T^2 I) (Kingma & Dhariwal 2018, Glow, Sec. 5).
The optimizer and LR scheduler come from ``_partial_`` factories of the model config, called
here with the module's parameters, so the YAML stays the one place of hyper-parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from gens.module import GensModule
from gens.utils.errors import ConfigError

__all__ = ["FlowModule", "standard_normal_log_prob"]

LOG_2PI = math.log(2 * math.pi)


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) summed over all but the batch dimension."""
    return -0.5 * (z.flatten(1).pow(2).sum(1) + z[0].numel() * LOG_2PI)


class FlowModule(GensModule):
    """A LightningModule built around a standard normal base density.

    Args:
        optimizer: factory ``(params) -> Optimizer``.
        scheduler: optional factory ``(optimizer) -> LRScheduler``, stepped every
            ``scheduler_interval`` (``epoch`` or ``step``).
        max_grad_norm: clip the gradients' total norm to this (``None``: the trainer's
            ``gradient_clip_val``, if any, applies).
        base_shape: per-example shape of the base variable; default ``data_shape``.
        monitor: the validation metric a best checkpoint tracks (flow configs: ``val/nll``).

    Provides ``base_log_prob(z, temperature)``, ``base_sample(n, temperature, generator)``,
    ``dim`` (features per example), ``configure_optimizers`` and gradient clipping.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable | None = None,
        scheduler_interval: str = "epoch",
        max_grad_norm: float | None = None,
        num_classes: int | None = None,
        num_levels: int | None = None,
        base_shape: Sequence[int] | None = None,
        monitor: str | None = None,
    ):
        super().__init__(data_shape, num_classes, num_levels, monitor=monitor)
        if scheduler_interval not in ("epoch", "step"):
            raise ConfigError("model.scheduler_interval must be 'epoch' or 'step'")
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.scheduler_interval = scheduler_interval
        self.max_grad_norm = None if max_grad_norm is None else float(max_grad_norm)
        self.dim = math.prod(self.data_shape)
        shape = self.data_shape if base_shape is None else base_shape
        self.base_shape = tuple(int(s) for s in shape)

    # --- base density ----------------------------------------------------------------------
    def base_log_prob(self, z: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """log N(z; 0, T^2 I) per example, at temperature ``T``."""
        if temperature == 1.0:
            return standard_normal_log_prob(z)
        t = float(temperature)
        return standard_normal_log_prob(z / t) - z[0].numel() * math.log(t)

    def base_sample(
        self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``n`` draws of N(0, T^2 I) of shape ``[n, *base_shape]``."""
        eps = torch.randn((n, *self.base_shape), device=self.device, generator=generator)
        return eps * float(temperature)

    # --- optimization ----------------------------------------------------------------------
    def configure_optimizers(self):
        opt = self.optimizer_factory(self.parameters())
        if self.scheduler_factory is None:
            return opt
        sched = self.build_scheduler(self.scheduler_factory, opt, self.scheduler_interval)
        sched = {"scheduler": sched, "interval": self.scheduler_interval}
        return {"optimizer": opt, "lr_scheduler": sched}

    def configure_gradient_clipping(
        self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None
    ):
        if self.max_grad_norm is not None:
            self.clip_gradients(optimizer, self.max_grad_norm, "norm")
        elif gradient_clip_val:
            self.clip_gradients(optimizer, gradient_clip_val, gradient_clip_algorithm)
