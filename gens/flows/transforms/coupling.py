"""Coupling layers: Dinh et al. 2014 (NICE) and Dinh et al. 2017 (RealNVP), Glow's variant.

The input is split by a binary mask ``b`` into a part that passes unchanged and a part that is
transformed conditioned on it (RealNVP eq. 9):

    affine:    y = b * x + (1 - b) * (x * exp(s(b * x)) + t(b * x)),  log|det| = sum((1 - b) s)
    additive:  y = b * x + (1 - b) * (x + t(b * x)),                 log|det| = 0  (NICE)

Masks, as RealNVP defines them (Sec. 3.4, Fig. 3): ``checkerboard`` b = 1 where (i + j) is even,
``channel`` b = 1 on the first half of the channels; ``parity=1`` uses 1 - b, so alternating
layers transform every dimension. On vectors ``alternate`` is NICE's odd/even partition and
``half`` the first/second half. Channel, half and alternate partitions are applied by indexing
(the net sees only the conditioning part); the checkerboard by masking, as in RealNVP.

Scales are soft-clamped, ``s = c * tanh(s_raw / c)``, so exp(s) stays in [e^-c, e^c] (the
bounded scales of RealNVP's tanh and of zuko); ``scale="sigmoid"`` is Glow's
``sigmoid(s_raw + 2)``, applied as ``y = (x + t) * scale``. Conditioning ``context`` (one-hot
labels ``(N, K)`` or feature maps ``(N, K, H', W')``) is concatenated to the net's input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gens.flows.transforms.base import Transform
from gens.utils.errors import ConfigError

__all__ = ["Coupling", "checkerboard_mask", "channel_mask", "MASKS"]

MASKS = ("checkerboard", "channel", "alternate", "half")


def checkerboard_mask(shape: Sequence[int], parity: int = 0) -> torch.Tensor:
    """``(C, H, W)`` mask: 1 where (i + j + parity) is even."""
    c, h, w = shape
    i = torch.arange(h).view(-1, 1)
    j = torch.arange(w).view(1, -1)
    return ((i + j + parity) % 2 == 0).float().expand(c, h, w).clone()


def channel_mask(shape: Sequence[int], parity: int = 0) -> torch.Tensor:
    """Mask of ones on the first half of the channels (the second half if ``parity``)."""
    c = shape[0]
    m = (torch.arange(c) < c // 2).float()
    m = 1 - m if parity else m
    return m.view(c, *([1] * (len(shape) - 1))).expand(*shape).clone()


def merge_context(h: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
    """Concatenate conditioning input to the net input (broadcast / resized for images)."""
    if context is None:
        return h
    if h.dim() == 2:
        return torch.cat([h, context.flatten(1).to(h.dtype)], 1)
    size = h.shape[2:]
    if context.dim() == 2:
        context = context[:, :, None, None].expand(-1, -1, *size)
    elif context.shape[2:] != size:
        context = F.adaptive_avg_pool2d(context, size)
    return torch.cat([h, context.to(h.dtype)], 1)


class Coupling(Transform):
    """One coupling layer.

    Args:
        shape: per-example shape ``(D,)`` or ``(C, H, W)``.
        net: factory ``(in, out) -> nn.Module`` (``in``/``out`` features or channels).
        mask: ``checkerboard`` | ``channel`` (images), ``alternate`` | ``half`` (vectors).
        parity: 0 or 1, which side of the mask is transformed.
        kind: ``affine`` or ``additive``.
        scale: ``exp`` (soft-clamped by ``clamp``; ``None`` for no clamp) or ``sigmoid``.
        context_channels: size of the conditioning input (0 for none).
    """

    def __init__(
        self,
        shape: Sequence[int],
        net: Callable[[int, int], nn.Module],
        mask: str = "checkerboard",
        parity: int = 0,
        kind: str = "affine",
        scale: str = "exp",
        clamp: float | None = 3.0,
        context_channels: int = 0,
    ):
        super().__init__()
        shape = tuple(int(s) for s in shape)
        if mask not in MASKS:
            raise ConfigError(f"unknown coupling mask '{mask}'; choose one of {', '.join(MASKS)}")
        if (len(shape) == 3) != (mask in ("checkerboard", "channel")):
            raise ConfigError(f"mask '{mask}' does not fit data of shape {shape}")
        if kind not in ("affine", "additive"):
            raise ConfigError(f"coupling kind must be affine or additive, got '{kind}'")
        if scale not in ("exp", "sigmoid"):
            raise ConfigError(f"coupling scale must be exp or sigmoid, got '{scale}'")
        self.kind, self.scale, self.clamp = kind, scale, clamp
        self.sliced = mask != "checkerboard"
        mult = 2 if kind == "affine" else 1
        c = shape[0]
        if self.sliced:
            if mask == "alternate":  # NICE's odd/even partition: even indices condition
                cond = (torch.arange(c) + parity) % 2 == 0
            else:  # first half conditions (parity 0) or the second half does (parity 1)
                cond = torch.arange(c) < c // 2
                cond = ~cond if parity else cond
            if cond.all() or not cond.any():
                raise ConfigError(f"mask '{mask}' needs >= 2 channels/features, got {c}")
            cond_idx, trans_idx = torch.nonzero(cond)[:, 0], torch.nonzero(~cond)[:, 0]
            self.register_buffer("cond_idx", cond_idx)
            self.register_buffer("trans_idx", trans_idx)
            self.register_buffer("order", torch.argsort(torch.cat([cond_idx, trans_idx])))
            self.net = net(len(cond_idx) + context_channels, len(trans_idx) * mult)
        else:
            self.register_buffer("mask", checkerboard_mask(shape, parity))
            self.net = net(c + context_channels, c * mult)

    def _params(self, x_cond: torch.Tensor, context):
        out = self.net(merge_context(x_cond, context))
        if self.kind == "additive":
            return None, out
        s_raw, t = out.chunk(2, dim=1)
        if self.scale == "sigmoid":
            log_scale = F.logsigmoid(s_raw + 2.0)
        elif self.clamp:
            log_scale = self.clamp * torch.tanh(s_raw / self.clamp)
        else:
            log_scale = s_raw
        return log_scale, t

    def _couple(self, xb, log_scale, t, inverse: bool):
        if log_scale is None:
            return xb - t if inverse else xb + t
        if self.scale == "sigmoid":  # Glow: y = (x + t) * scale
            return xb * (-log_scale).exp() - t if inverse else (xb + t) * log_scale.exp()
        return (xb - t) * (-log_scale).exp() if inverse else xb * log_scale.exp() + t

    def _run(self, x, context, inverse: bool):
        if self.sliced:
            xa = x.index_select(1, self.cond_idx)
            log_scale, t = self._params(xa, context)
            yb = self._couple(x.index_select(1, self.trans_idx), log_scale, t, inverse)
            y = torch.cat([xa, yb], 1).index_select(1, self.order)
        else:
            b = self.mask
            log_scale, t = self._params(x * b, context)
            t = t * (1 - b)
            if log_scale is not None:
                log_scale = log_scale * (1 - b)
            y = self._couple(x, log_scale, t, inverse)
        ld = x.new_zeros(len(x)) if log_scale is None else log_scale.flatten(1).sum(1)
        return y, (-ld if inverse else ld)

    def forward(self, x, context=None):
        return self._run(x, context, inverse=False)

    def inverse(self, z, context=None):
        return self._run(z, context, inverse=True)
