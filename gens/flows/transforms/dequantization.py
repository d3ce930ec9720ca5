"""Variational dequantization: Ho et al. 2019 (Flow++), Sec. 3.1.

Instead of uniform noise, the noise ``v`` in (0, 1)^D added to the discrete image ``k`` comes
from a learned conditional flow q(v | k): ``eps ~ N(0, I)``, ``h = g(eps; k)`` (affine
couplings whose nets also see features of ``k``), ``v = sigmoid(h)``. Then

    log q(v | k) = log N(eps) - log|det dg/deps| - sum log sigmoid'(h),

and maximizing E_q[log p(u) - log q(v | k)] - D log K tightens the bound on log P(k) that
uniform dequantization leaves loose (see :mod:`gens.flows.transforms.preprocess`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from gens.flows.transforms.base import Compose
from gens.flows.transforms.coupling import Coupling
from gens.nets.coupling_nets import CouplingResNet
from gens.utils.errors import IncompatibleDataError

__all__ = ["VariationalDequantization"]


class VariationalDequantization(nn.Module):
    """q(v | k) as a conditional checkerboard-coupling flow on images ``(C, H, W)``."""

    def __init__(
        self,
        data_shape: Sequence[int],
        layers: int = 4,
        channels: int = 32,
        blocks: int = 1,
        features: int = 16,
    ):
        super().__init__()
        shape = tuple(int(s) for s in data_shape)
        if len(shape) != 3:
            raise IncompatibleDataError(
                f"variational dequantization is for images (C, H, W), got {shape}; "
                "use model.dequantization=uniform"
            )
        self.shape = shape
        self.encoder = nn.Sequential(
            nn.Conv2d(shape[0], features, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(features, features, 3, padding=1),
        )
        net = partial(CouplingResNet, channels=channels, blocks=blocks, norm="none")
        self.flow = Compose(
            [
                Coupling(shape, net, "checkerboard", i % 2, "affine", "exp", 3.0, features)
                for i in range(int(layers))
            ]
        )

    def forward(self, k: torch.Tensor, num_levels: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Discrete levels ``k`` -> (``u = (k + v) / K``, log q(v | k)) per example."""
        ctx = self.encoder(k / (num_levels - 1) * 2 - 1)
        eps = torch.randn_like(k)
        h, logdet = self.flow(eps, ctx)
        log_n = -0.5 * (eps.pow(2) + torch.log(torch.tensor(2 * torch.pi))).flatten(1).sum(1)
        log_sig_grad = (F.logsigmoid(h) + F.logsigmoid(-h)).flatten(1).sum(1)
        v = torch.sigmoid(h)
        return (k + v) / num_levels, log_n - logdet - log_sig_grad
