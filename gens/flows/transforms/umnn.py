"""The unconstrained monotonic neural network transformer: Wehenkel & Louppe 2019 (UMNN).

    y = beta(h) + int_0^x g(t, h) dt,     g = ELU(net(t, h)) + 1 + s > 0

(``s``, a minimum slope, 1e-3 by default, keeps the map strictly increasing where ELU + 1
underflows to 0 for a very negative net output.)

``h`` (the conditioner's embedding of the variable's context) and ``beta`` come from the
coupling or autoregressive network; the integrand ``net`` is this transformer's own MLP,
shared by every variable. The integral is Clenshaw-Curtis quadrature on ``nodes + 1`` points
(the paper's choice), differentiated through its nodes; a smooth integrand (SiLU by default)
makes it converge spectrally fast. The log-derivative is log g(x, h) directly, not a
derivative of the quadrature, so it is exact whatever the number of nodes.
Inverse by bisection.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gens.flows.transforms.transformer import Transformer
from gens.nets.mlp import mlp
from gens.utils.errors import ConfigError

__all__ = ["UMNN", "clenshaw_curtis"]


def clenshaw_curtis(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``cos(k pi / n)``, k = 0..n, and weights on [-1, 1] (exact for degree <= n)."""
    k = np.arange(n + 1)
    nodes = np.cos(k * np.pi / n)
    weights = np.zeros(n + 1)
    for i in k:
        total = 1.0
        for j in range(1, n // 2 + 1):
            b = 1.0 if 2 * j == n else 2.0
            total -= b * np.cos(2 * j * i * np.pi / n) / (4 * j * j - 1)
        weights[i] = (1.0 if i in (0, n) else 2.0) * total / n
    return nodes, weights


class UMNN(Transformer):
    """``embedding`` features of h per variable (P = embedding + 1, the last is beta)."""

    def __init__(
        self,
        embedding: int = 8,
        hidden: Sequence[int] = (32, 32),
        nodes: int = 40,
        act: str = "silu",
        slope: float = 1e-3,
        tol: float = 1e-10,
    ):
        super().__init__(tol=tol)
        if int(nodes) < 2 or int(embedding) < 0:
            raise ConfigError(
                f"UMNN needs nodes >= 2 and embedding >= 0; got {nodes}, {embedding}"
            )
        if slope < 0:
            raise ConfigError(f"UMNN's minimum slope must be >= 0, got {slope}")
        self.embedding, self.slope = int(embedding), float(slope)
        self.num_params = self.embedding + 1
        hidden = [int(h) for h in hidden]
        self.net = nn.Sequential(mlp([1 + self.embedding, *hidden], act), nn.Linear(hidden[-1], 1))
        t, w = clenshaw_curtis(int(nodes))
        self.register_buffer("nodes", torch.tensor(t, dtype=torch.float32), persistent=False)
        self.register_buffer("weights", torch.tensor(w, dtype=torch.float32), persistent=False)

    def integrand(self, t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """g(t, h) for ``t [...]`` and ``h [..., E]``."""
        out = self.net(torch.cat([t[..., None], h], dim=-1))[..., 0]
        return F.elu(out) + 1 + self.slope

    def forward(self, x, params):
        h, beta = params[..., :-1], params[..., -1]
        nodes, weights = self.nodes.to(x.dtype), self.weights.to(x.dtype)
        t = x[..., None] * (nodes + 1) / 2  # [..., n+1] points of [0, x]
        hh = h[..., None, :].expand(*t.shape, self.embedding)
        integral = (self.integrand(t, hh) * weights).sum(-1) * x / 2
        return beta + integral, self.integrand(x, h).log()

    def extra_repr(self) -> str:
        return f"embedding={self.embedding}, nodes={len(self.nodes) - 1}"
