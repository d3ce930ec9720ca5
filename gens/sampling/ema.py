"""Exponential moving average of generator weights (Karras et al. 2018; Yazici et al. 2019).

The average is a frozen copy of the generator that lives in the LightningModule's state dict,
so checkpoints save and restore it with everything else.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["make_ema", "update_ema"]


def make_ema(model: nn.Module) -> nn.Module:
    ema = copy.deepcopy(model).eval()
    ema.requires_grad_(False)
    return ema


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """``ema <- decay * ema + (1 - decay) * model`` for parameters; buffers are copied."""
    ema_p = [p for p in ema.parameters()]
    model_p = [p.detach() for p in model.parameters()]
    torch._foreach_lerp_(ema_p, model_p, 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), model.buffers()):
        b_ema.copy_(b)
