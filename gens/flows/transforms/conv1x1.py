"""Invertible 1x1 convolution: Kingma & Dhariwal 2018 (Glow), Sec. 3.2.

``z = W x`` at every pixel with a learned C x C matrix, so log|det| = h * w * log|det W|.
``lu=True`` keeps ``W = P L (U + diag(sign(s) exp(log|s|)))`` with P fixed, which makes the
log-determinant ``h * w * sum(log|s|)`` (O(C) instead of O(C^3)). W starts as a random rotation.
On vector data (N, D) it is an invertible linear layer.
"""

from __future__ import annotations

import torch
from torch import nn

from gens.flows.transforms.base import Transform

__all__ = ["Invertible1x1Conv"]


class Invertible1x1Conv(Transform):
    def __init__(self, channels: int, lu: bool = True, seed: int | None = None):
        super().__init__()
        g = torch.Generator().manual_seed(int(seed)) if seed is not None else None
        w = torch.linalg.qr(torch.randn(channels, channels, generator=g))[0]
        self.lu = bool(lu)
        if not self.lu:
            self.weight = nn.Parameter(w)
            return
        p, lower, upper = torch.linalg.lu(w)
        s = torch.diagonal(upper)
        self.register_buffer("p", p)
        self.register_buffer("sign_s", torch.sign(s))
        self.register_buffer("l_mask", torch.tril(torch.ones(channels, channels), -1))
        self.register_buffer("eye", torch.eye(channels))
        self.lower = nn.Parameter(lower)
        self.upper = nn.Parameter(torch.triu(upper, 1))
        self.log_s = nn.Parameter(torch.log(s.abs()))

    def matrix(self) -> torch.Tensor:
        if not self.lu:
            return self.weight
        lower = self.lower * self.l_mask + self.eye
        upper = self.upper * self.l_mask.T + torch.diag(self.sign_s * self.log_s.exp())
        return self.p @ lower @ upper

    def log_abs_det(self) -> torch.Tensor:
        if self.lu:
            return self.log_s.sum()
        return torch.linalg.slogdet(self.weight)[1]

    @staticmethod
    def _matmul(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            return x @ w.T
        return torch.einsum("ij,nj...->ni...", w, x)

    def forward(self, x, context=None):
        hw = x[0, 0].numel() if x.dim() > 2 else 1
        return self._matmul(self.matrix(), x), (hw * self.log_abs_det()).expand(len(x))

    def inverse(self, z, context=None):
        hw = z[0, 0].numel() if z.dim() > 2 else 1
        w_inv = torch.linalg.inv(self.matrix())
        return self._matmul(w_inv, z), (-hw * self.log_abs_det()).expand(len(z))
