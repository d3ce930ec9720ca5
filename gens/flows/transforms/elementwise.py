"""Coupling and autoregressive layers around any elementwise ``Transformer`` (Huang et al.
2018; Durkan et al. 2019, Sec. 3.2-3.3; Papamakarios et al. 2021, Sec. 3.1).

- ``TransformerCoupling``: one part of the features conditions a network that outputs the
  transformer's parameters for the other part (RealNVP's split with a monotone map in place of
  the affine one). One pass in each direction.
- ``TransformerAutoregressive``: a MADE (Germain et al. 2015) outputs the parameters of
  variable i from ``x_<i`` (the MAF direction: density in one pass, the inverse in D passes).

Both work on vectors ``(N, D)``; architectures flatten images around them. Zero conditioner
outputs give the identity for the splines, so these layers start at (or near) the identity.

Example::

    layer = TransformerCoupling(4, RQSpline(bins=8), hidden=(32,))
    z, logdet = layer(torch.randn(8, 4))
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from gens.flows.transforms.base import Transform
from gens.flows.transforms.transformer import Transformer
from gens.nets.coupling_nets import CouplingMLP
from gens.nets.made import MADE
from gens.utils.errors import ConfigError, IncompatibleDataError

__all__ = ["TransformerCoupling", "TransformerAutoregressive"]


def _check_input(layer: Transform, x: torch.Tensor) -> None:
    if x.dim() != 2 or x.shape[1] != layer.dim:
        raise ConfigError(
            f"{type(layer).__name__} was built for {layer.dim} features, got {x.shape}"
        )


class TransformerCoupling(Transform):
    """Coupling with an elementwise transformer.

    Args:
        dim: D, the number of features.
        transformer: the monotone map applied to the transformed part.
        hidden, act: the conditioner MLP.
        parity: 0 conditions on the even features (``alternate``) or the first half
            (``half``); 1 swaps the parts.
        mask: ``alternate`` | ``half``.
        context_dim: width of the conditioning input (0 for none).
    """

    def __init__(
        self,
        dim: int,
        transformer: Transformer,
        hidden: Sequence[int] = (64, 64),
        parity: int = 0,
        mask: str = "alternate",
        context_dim: int = 0,
        act: str = "relu",
    ):
        super().__init__()
        self.dim = int(dim)
        if self.dim < 2:
            raise IncompatibleDataError(f"coupling flows need >= 2 dimensions, got {self.dim}")
        idx = torch.arange(self.dim)
        if mask == "alternate":
            cond = (idx + parity) % 2 == 0
        elif mask == "half":
            cond = (idx < self.dim // 2) != bool(parity)
        else:
            raise ConfigError(f"unknown coupling mask '{mask}'; choose alternate or half")
        self.register_buffer("cond_idx", idx[cond])
        self.register_buffer("trans_idx", idx[~cond])
        self.transformer = transformer
        self.context_dim = int(context_dim)
        n_out = len(self.trans_idx) * transformer.num_params
        self.net = CouplingMLP(len(self.cond_idx) + self.context_dim, n_out, hidden, act)

    def _params(self, x: torch.Tensor, context) -> torch.Tensor:
        h = x[:, self.cond_idx]
        if self.context_dim:
            if context is None:
                raise ConfigError("this coupling was built with context_dim > 0; pass context")
            h = torch.cat([h, context.flatten(1).to(h.dtype)], 1)
        return self.net(h).view(len(x), len(self.trans_idx), self.transformer.num_params)

    def _run(self, x, context, inverse: bool):
        _check_input(self, x)
        p = self._params(x, context)
        fn = self.transformer.inverse if inverse else self.transformer
        yb, ld = fn(x[:, self.trans_idx], p)
        y = x.clone()
        y[:, self.trans_idx] = yb
        return y, ld.sum(1)

    def forward(self, x, context=None):
        return self._run(x, context, inverse=False)

    def inverse(self, z, context=None):
        return self._run(z, context, inverse=True)


class TransformerAutoregressive(Transform):
    """Masked autoregressive layer with an elementwise transformer (the MAF direction).

    Args:
        dim: D, the number of features.
        transformer: the monotone map of each variable.
        hidden: the MADE's hidden widths; the other keywords (``order``, ``context_dim``,
            ``act``, ``random_degrees``, ``seed``) are ``MADE``'s, with its defaults.
    """

    def __init__(
        self,
        dim: int,
        transformer: Transformer,
        hidden: Sequence[int] = (64, 64),
        **made_options,
    ):
        super().__init__()
        self.dim = int(dim)
        self.transformer = transformer
        self.made = MADE(self.dim, transformer.num_params, hidden, **made_options)

    def _params(self, x, context) -> torch.Tensor:
        return self.made(x, context).transpose(1, 2)  # [N, D, P]

    def forward(self, x, context=None):
        _check_input(self, x)
        z, ld = self.transformer(x, self._params(x, context))
        return z, ld.sum(1)

    def inverse(self, z, context=None):
        _check_input(self, z)
        x = torch.zeros_like(z)
        # After pass k every variable of degree <= k is exact, so D passes recover x.
        for _ in range(self.dim):
            x, ld = self.transformer.inverse(z, self._params(x, context))
        return x, ld.sum(1)
