"""The deep sigmoidal flow transformer of Neural Autoregressive Flows (Huang, Krueger, Lacoste &
Courville 2018, Sec. 3.1, eq. 8):

    y = logit( sum_j w_j * sigmoid(a_j x + b_j) ),   a_j > 0 (softplus),  w = softmax(...)

a convex combination of increasing sigmoids is increasing, and the logit maps it back to R.
The logit's argument is squeezed affinely into ``[delta/2, 1 - delta/2]`` (the paper code's
clipping, smooth and invertible, log-det ``log(1 - delta)``) so it never reaches 0 or 1. The
log-derivative is assembled in log space with logsumexp:

    log dy/dx = log(1 - delta) + logsumexp_j(log w_j + log a_j + log s(u_j) + log s(-u_j))
                - log S - log(1 - S),      u_j = a_j x + b_j,  S the squeezed sum.

No closed-form inverse: bisection (``Transformer.inverse``) to ``tol``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from gens.flows.transforms.transformer import Transformer
from gens.utils.errors import ConfigError

__all__ = ["DeepSigmoid"]


class DeepSigmoid(Transformer):
    """DSF transformer with ``hidden`` sigmoids per variable (P = 3 * hidden parameters)."""

    def __init__(self, hidden: int = 8, delta: float = 1e-6, tol: float = 1e-10):
        super().__init__(tol=tol)
        if int(hidden) < 1 or not 0 < delta < 1:
            raise ConfigError(f"DSF needs hidden >= 1 and delta in (0, 1); got {hidden}, {delta}")
        self.hidden, self.delta = int(hidden), float(delta)
        self.num_params = 3 * self.hidden

    def forward(self, x, params):
        m = self.hidden
        a_raw, b, w_raw = params[..., :m], params[..., m : 2 * m], params[..., 2 * m :]
        log_a = torch.log(F.softplus(a_raw) + 1e-3)  # a floor keeps the map strictly increasing
        log_w = torch.log_softmax(w_raw, dim=-1)
        u = log_a.exp() * x[..., None] + b
        log_s = torch.logsumexp(log_w + F.logsigmoid(u), dim=-1)
        log_1ms = torch.logsumexp(log_w + F.logsigmoid(-u), dim=-1)
        # squeeze S into [delta/2, 1 - delta/2]: S' = (1 - delta) S + delta / 2, in log space
        d = self.delta
        log_sq = torch.logaddexp(math.log1p(-d) + log_s, torch.full_like(log_s, math.log(d / 2)))
        log_1msq = torch.logaddexp(
            math.log1p(-d) + log_1ms, torch.full_like(log_s, math.log(d / 2))
        )
        y = log_sq - log_1msq
        log_ds = torch.logsumexp(log_w + log_a + F.logsigmoid(u) + F.logsigmoid(-u), dim=-1)
        return y, math.log1p(-d) + log_ds - log_sq - log_1msq
