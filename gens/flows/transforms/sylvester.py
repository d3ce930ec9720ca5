"""Sylvester normalizing flows (van den Berg, Hasenclever, Tomczak & Welling 2018).

Generative direction ``x = f(z) = z + Q R h(R~ Q^T z + b)`` with ``Q`` a ``D x M`` matrix of
orthonormal columns, ``R, R~`` upper-triangular ``M x M`` and ``h = tanh``. By Sylvester's
determinant identity ``log|det df/dz| = sum_i log|1 + R_ii R~_ii h'((R~ Q^T z + b)_i)|``.

Invertibility (their Theorem 2): ``R_ii R~_ii > -1 / ||h'||_inf = -1``; the diagonals are
``tanh`` of free parameters, so the product lies in ``(-1, 1)``.

Variants of ``Q`` (their Sec. 3):
- ``householder``: ``Q`` = the first ``M`` columns of a product of ``H`` Householder
  reflections ``I - 2 v v^T / |v|^2`` (exactly orthogonal);
- ``orthogonal``: a free ``D x M`` matrix made orthonormal by Björck's iteration
  ``Q <- Q (I + (I - Q^T Q) / 2)`` (Björck & Bowie 1971), run ``ortho_steps`` times;
- ``triangular``: ``Q`` is the identity or the reversal permutation (alternate layers), M = D.

No closed-form inverse. With ``v = Q^T z`` the map on ``Q^T x = v + R h(R~ v + b)`` is upper
triangular: coordinate ``i`` depends on ``v_i..v_M`` and increases in ``v_i`` (slope
``1 + R_ii R~_ii h' > 0``), so ``forward`` recovers ``v_M, ..., v_1`` by one bisection each and
``z = Q v + (I - Q Q^T) x`` (the orthogonal complement is untouched).
"""

from __future__ import annotations

from functools import partial

import torch

from gens.flows.transforms.amortized import ParamLayer, bisect
from gens.utils.errors import ConfigError

__all__ = ["Sylvester", "householder_q", "bjorck_q"]

Q_KINDS = ("householder", "orthogonal", "triangular")


def householder_q(v: torch.Tensor, m: int) -> torch.Tensor:
    """``[N, H, D]`` reflection vectors -> ``[N, D, m]``: first ``m`` columns of H_1 ... H_H."""
    n, _, dim = v.shape
    q = torch.eye(dim, m, dtype=v.dtype, device=v.device).expand(n, dim, m)
    v = v / v.norm(dim=2, keepdim=True).clamp_min(1e-12)
    for k in reversed(range(v.shape[1])):  # apply H_H first so that Q = H_1 ... H_H E
        vk = v[:, k, :, None]
        q = q - 2 * vk @ (vk.transpose(1, 2) @ q)
    return q


def bjorck_q(a: torch.Tensor, steps: int = 30) -> torch.Tensor:
    """``[N, D, M]`` -> orthonormal columns by Björck's iteration (converges for ||Q||_2 < sqrt 3;
    starting from ``a / ||a||_F`` keeps every singular value at most 1)."""
    q = a / a.flatten(1).norm(dim=1).clamp_min(1e-12)[:, None, None]
    eye = torch.eye(a.shape[2], dtype=a.dtype, device=a.device)
    for _ in range(steps):
        q = q @ (eye + 0.5 * (eye - q.transpose(1, 2) @ q))
    return q


def _scalar_map(a, rii, rtii, rest):
    """Coordinate ``i`` of ``v -> v + R h(R~ v + b)`` as a function of ``v_i`` alone."""
    return a + rii * torch.tanh(rtii * a + rest)


class Sylvester(ParamLayer):
    """One Sylvester layer; ``context_dim > 0`` makes it amortized (van den Berg et al.'s VAE)."""

    def __init__(
        self,
        dim: int,
        num_ortho: int | None = None,
        q: str = "householder",
        num_householder: int | None = None,
        ortho_steps: int = 30,
        flip: bool = False,
        context_dim: int = 0,
    ):
        if q not in Q_KINDS:
            raise ConfigError(f"unknown Sylvester q='{q}'; choose one of {', '.join(Q_KINDS)}")
        self.dim = int(dim)
        self.m = self.dim if (num_ortho is None or q == "triangular") else int(num_ortho)
        if not 1 <= self.m <= self.dim:
            raise ConfigError(f"num_ortho must be in 1..{self.dim}, got {num_ortho}")
        self.q_kind, self.ortho_steps, self.flip = q, int(ortho_steps), bool(flip)
        self.num_h = int(num_householder or self.dim)
        tri = self.m * (self.m + 1) // 2
        q_params = {"householder": self.num_h * self.dim, "orthogonal": self.dim * self.m}
        self.q_size = q_params.get(q, 0)
        super().__init__(2 * tri + self.m + self.q_size, context_dim)
        self.register_buffer("triu", torch.triu_indices(self.m, self.m), persistent=False)

    def init_params(self) -> torch.Tensor:
        p = 0.1 * torch.randn(self.num_params)
        if self.q_kind == "orthogonal":  # a well-conditioned start for Björck's iteration
            p[-self.q_size :] = torch.eye(self.dim, self.m).flatten() + p[-self.q_size :]
        return p

    def _tri(self, flat: torch.Tensor) -> torch.Tensor:
        out = flat.new_zeros(len(flat), self.m, self.m)
        out[:, self.triu[0], self.triu[1]] = flat
        diag = torch.arange(self.m, device=flat.device)
        out[:, diag, diag] = torch.tanh(out[:, diag, diag])
        return out

    def _params(self, n: int, context):
        p = self.params(n, context)
        tri = self.m * (self.m + 1) // 2
        r, r_t = self._tri(p[:, :tri]), self._tri(p[:, tri : 2 * tri])
        b = p[:, 2 * tri : 2 * tri + self.m]
        if self.q_kind == "householder":
            q = householder_q(p[:, -self.q_size :].view(n, self.num_h, self.dim), self.m)
        elif self.q_kind == "orthogonal":
            q = bjorck_q(p[:, -self.q_size :].view(n, self.dim, self.m), self.ortho_steps)
        else:
            eye = torch.eye(self.dim, dtype=p.dtype, device=p.device)
            q = (eye.flip(1) if self.flip else eye).expand(n, self.dim, self.dim)
        return q, r, r_t, b

    def inverse(self, z, context=None):
        """Closed form: ``z -> x = f(z)`` with ``log|det df/dz|``."""
        flat = z.reshape(len(z), self.dim)
        q, r, r_t, b = self._params(len(z), context)
        v = (q.transpose(1, 2) @ flat[:, :, None]).squeeze(2)
        pre = (r_t @ v[:, :, None]).squeeze(2) + b
        h = torch.tanh(pre)
        x = flat + (q @ (r @ h[:, :, None])).squeeze(2)
        diag = torch.diagonal(r, dim1=1, dim2=2) * torch.diagonal(r_t, dim1=1, dim2=2)
        logdet = torch.log((1 + diag * (1 - h * h)).abs()).sum(1)
        return x.view_as(z), logdet

    def forward(self, x, context=None):
        """Numerical inverse ``x -> z`` (back substitution, one bisection per coordinate)."""
        flat = x.reshape(len(x), self.dim)
        q, r, r_t, b = self._params(len(x), context)
        y = (q.transpose(1, 2) @ flat[:, :, None]).squeeze(2)
        v = torch.zeros_like(y)
        pre = torch.zeros_like(y)
        for i in reversed(range(self.m)):
            rest = (r_t[:, i, i + 1 :] * v[:, i + 1 :]).sum(1) + b[:, i]
            known = (r[:, i, i + 1 :] * torch.tanh(pre[:, i + 1 :])).sum(1)
            t = y[:, i] - known
            rii, rtii = r[:, i, i], r_t[:, i, i]
            fn = partial(_scalar_map, rii=rii, rtii=rtii, rest=rest)
            vi = bisect(fn, t, t - 1.01, t + 1.01)
            v[:, i] = vi
            pre[:, i] = rtii * vi + rest
        z = flat - (q @ y[:, :, None]).squeeze(2) + (q @ v[:, :, None]).squeeze(2)
        diag = torch.diagonal(r, dim1=1, dim2=2) * torch.diagonal(r_t, dim1=1, dim2=2)
        logdet = -torch.log((1 + diag * (1 - torch.tanh(pre) ** 2)).abs()).sum(1)
        return z.view_as(x), logdet
