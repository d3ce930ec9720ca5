"""The deep sigmoidal flow transformer of Neural Autoregressive Flows (Huang, Krueger, Lacoste &
Courville 2018, Sec. 3.1, eq. 8):

    y = logit( sum_j w_j * sigmoid(a_j x + b_j) ),   a_j > 0 (softplus),  w = softmax(...)

a convex combination of increasing sigmoids is increasing, and the logit maps it back to R.
The logit's argument is squeezed affinely into ``[delta/2, 1 - delta/2]`` (the paper code's
clipping, smooth and invertible, log-det ``log(1 - delta)``) so it never reaches 0 or 1. The
log-derivative is assembled in log space with logsumexp:

    log dy/dx = log(1 - delta) + logsumexp_j(log w_j + log a_j + log s(u_j) + log s(-u_j))
                - log S - log(1 - S),      u_j = a_j x + b_j,  S the squeezed sum.

Zero parameters give ``a_j = 1`` (as the paper code's softplus bias ``log(e^(1 - delta) - 1)``)
and biases ``b_j`` spread evenly over ``[-spread, spread]``: with equal biases every sigmoid
would get the same gradient from a zero-initialised conditioner and they would stay equal, a
mixture of one sigmoid, i.e. an affine map. The spread start is close to the identity
(slope 0.75 at 0 for ``spread = 2``).

No closed-form inverse: bisection (``Transformer.inverse``) to ``tol``. The squeeze bounds the
range to ``|y| < logit(1 - delta/2)``; ``inverse`` returns NaN for targets outside it, which
have no preimage.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from gens.flows.transforms.transformer import Transformer
from gens.utils.errors import ConfigError

__all__ = ["DeepSigmoid"]

A_FLOOR = 1e-3  # keeps every a_j > 0, so the map stays strictly increasing


class DeepSigmoid(Transformer):
    """DSF transformer with ``hidden`` sigmoids per variable (P = 3 * hidden parameters)."""

    def __init__(
        self, hidden: int = 8, delta: float = 1e-6, tol: float = 1e-10, spread: float = 2.0
    ):
        super().__init__(tol=tol)
        if int(hidden) < 1 or not 0 < delta < 1 or spread < 0:
            raise ConfigError(
                f"DSF needs hidden >= 1, delta in (0, 1), spread >= 0; "
                f"got {hidden}, {delta}, {spread}"
            )
        self.hidden, self.delta, self.spread = int(hidden), float(delta), float(spread)
        self.num_params = 3 * self.hidden
        self.a_shift = math.log(math.expm1(1.0 - A_FLOOR))  # softplus(0 + a_shift) + floor = 1
        # not persistent: a function of (hidden, spread), so checkpoints stay as they were
        self.register_buffer(
            "b_shift", torch.linspace(-self.spread, self.spread, self.hidden), persistent=False
        )

    def forward(self, x, params):
        m, d = self.hidden, self.delta
        a = F.softplus(params[..., :m] + self.a_shift) + A_FLOOR
        u = a * x[..., None] + (params[..., m : 2 * m] + self.b_shift)
        log_w = torch.log_softmax(params[..., 2 * m :], dim=-1)
        # one logsigmoid serves both tails: log s(-u) = log s(u) - u
        ls_pos = F.logsigmoid(u)
        ls_neg = ls_pos - u
        terms = torch.stack([ls_pos, ls_neg, ls_pos + ls_neg + a.log()]) + log_w
        log_s, log_1ms, log_ds = torch.logsumexp(terms, dim=-1).unbind(0)
        # squeeze S into [delta/2, 1 - delta/2]: S' = (1 - delta) S + delta / 2, in log space
        sq = torch.logaddexp(
            torch.stack([log_s, log_1ms]) + math.log1p(-d), log_s.new_tensor(math.log(d / 2))
        )
        log_sq, log_1msq = sq.unbind(0)
        return log_sq - log_1msq, math.log1p(-d) + log_ds - log_sq - log_1msq
