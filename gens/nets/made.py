"""MADE: masked autoencoder for distribution estimation (Germain et al. 2015).

A fully connected network whose weights are multiplied by binary masks so that output ``i``
depends only on the inputs that precede ``i`` in a chosen order: the autoregressive property
that MAF (Papamakarios et al. 2017) and IAF (Kingma et al. 2016) build on.

Masks come from degree assignments (Germain et al. 2015, Sec. 4): input ``d`` gets degree
``order[d]`` in ``1..D``; hidden unit ``k`` gets a degree ``m(k)`` in ``1..D-1``; a hidden weight
from unit ``k'`` to ``k`` is kept iff ``m(k) >= m(k')``, an output weight from hidden ``k`` to
output ``d`` iff ``order[d] > m(k)``. Conditioning input (``context``) feeds the first hidden
layer and, directly, the output layer, both unmasked, so it reaches every output (the first
variable in the order has no hidden unit it may see).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from gens.nets.mlp import activation
from gens.utils.errors import ConfigError

__all__ = ["MaskedLinear", "MADE", "made_degrees"]


class MaskedLinear(nn.Linear):
    """``y = x (W * M)^T + b`` with a fixed binary mask ``M`` (a buffer, saved with the model)."""

    def __init__(self, mask: torch.Tensor, bias: bool = True):
        out_features, in_features = mask.shape
        super().__init__(in_features, out_features, bias=bias)
        self.register_buffer("mask", mask.to(torch.get_default_dtype()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight * self.mask, self.bias)


def made_degrees(
    dim: int, hidden: Sequence[int], order: torch.Tensor, random: bool = False, seed: int = 0
) -> list[torch.Tensor]:
    """Degrees of the input layer and of every hidden layer.

    Hidden degrees cycle through ``1..D-1`` (deterministic; every degree is represented when the
    layer is wide enough, evenly spaced degrees otherwise) or, with ``random=True``, are drawn
    uniformly from ``[min degree of the previous layer, D-1]`` as in Germain et al. (2015).
    """
    g = torch.Generator().manual_seed(seed)
    degrees = [order.long()]
    for h in hidden:
        if dim == 1:  # no input may influence the single output: hidden units see nothing
            degrees.append(torch.zeros(h, dtype=torch.long))
            continue
        low = int(degrees[-1].min()) if len(degrees) > 1 else 1
        if random:
            deg = torch.randint(low, dim, (h,), generator=g)
        elif h >= dim - 1:
            deg = torch.arange(h) % (dim - 1) + 1
        else:  # fewer units than degrees: spread them evenly so late outputs see late inputs
            deg = torch.arange(h) * (dim - 1) // h + 1
        degrees.append(deg)
    return degrees


class MADE(nn.Module):
    """``x [N, D] (+ context [N, C]) -> params [N, P, D]`` with ``params[:, :, i]`` a function of
    ``x[:, order < order[i]]`` (and the context) only. Parameter-major layout, so each of the P
    parameter vectors is a contiguous block of the output layer.

    Args:
        dim: D, the number of autoregressive variables.
        params_per_dim: P, outputs per variable (2 for an affine transform: shift, log-scale).
        hidden: widths of the hidden layers.
        order: degree of each input, a permutation of ``1..D``; default ``1..D`` (identity).
        context_dim: width of the conditioning input, 0 for none.
        random_degrees: draw hidden degrees at random (Germain et al.) instead of cycling.
        zero_init: zero the output layer so the network starts at ``params = 0`` (identity
            flow), the initialization that keeps deep flows stable at the start.
    """

    def __init__(
        self,
        dim: int,
        params_per_dim: int = 2,
        hidden: Sequence[int] = (64, 64),
        order: torch.Tensor | None = None,
        context_dim: int = 0,
        act: str = "relu",
        random_degrees: bool = False,
        seed: int = 0,
        zero_init: bool = True,
    ):
        super().__init__()
        hidden = [int(h) for h in hidden]
        if dim < 1 or not hidden or min(hidden) < 1:
            raise ConfigError(f"MADE needs dim >= 1 and hidden widths >= 1; got {dim}, {hidden}")
        order = torch.arange(1, dim + 1) if order is None else torch.as_tensor(order).long()
        if sorted(order.tolist()) != list(range(1, dim + 1)):
            raise ConfigError(f"MADE order must be a permutation of 1..{dim}; got {order}")
        self.dim, self.params_per_dim = dim, params_per_dim
        self.register_buffer("order", order)
        degrees = made_degrees(dim, hidden, order, random_degrees, seed)
        layers: list[nn.Module] = []
        for d_in, d_out in zip(degrees[:-1], degrees[1:]):
            mask = (d_out[:, None] >= d_in[None, :]).float()
            layers.append(MaskedLinear(mask))
        self.hidden_layers = nn.ModuleList(layers)
        # In place: saves one activation-sized allocation per layer (autograd-safe for ReLU).
        self.act = torch.nn.ReLU(inplace=True) if act == "relu" else activation(act)
        self.context = nn.Linear(context_dim, hidden[0], bias=False) if context_dim else None
        self.context_out = (
            nn.Linear(context_dim, dim * params_per_dim, bias=False) if context_dim else None
        )
        # Output (p, d) sits at row p * D + d and shares the degree of variable d.
        out_deg = order.repeat(params_per_dim)
        out_mask = (out_deg[:, None] > degrees[-1][None, :]).float()
        self.out = MaskedLinear(out_mask)
        if zero_init:
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)
            if self.context_out is not None:
                nn.init.zeros_(self.context_out.weight)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        h = self.hidden_layers[0](x)
        if self.context is not None:
            if context is None:
                raise ConfigError("this MADE was built with context_dim > 0; pass a context")
            h = h + self.context(context)
        h = self.act(h)
        for layer in self.hidden_layers[1:]:
            h = self.act(layer(h))
        out = self.out(h)
        if self.context_out is not None:
            out = out + self.context_out(context)
        return out.view(len(x), self.params_per_dim, self.dim)
