"""log|det(I + J_g)| of a residual block ``x + g(x)`` with Lip(g) < 1 (Behrmann et al. 2019,
i-ResNet, Sec. 3; Chen et al. 2019, Residual Flows, Sec. 3):

    log det(I + J) = sum_{k >= 1} (-1)^{k+1} / k * tr(J^k),

each trace estimated by Hutchinson's ``v^T J^k v`` with ``v ~ N(0, I)`` (vector-Jacobian
products, no Jacobian is formed).

- ``truncated``: the first ``n_terms`` terms (i-ResNet). Biased: the tail is dropped.
- ``roulette``: a random number of terms ``N = n_exact + G``, ``G ~ Geometric(p)`` on
  {0, 1, ...}, term k weighted by ``1 / P(N >= k)`` (Russian roulette; Residual Flows eq. 6),
  unbiased for the series. One N per example.
- ``exact``: ``slogdet(I + J)`` from the full Jacobian (D vector-Jacobian products), for
  evaluation in low dimension and for tests.

``neumann=True`` (Residual Flows Sec. 3.2) keeps memory constant in the number of terms: the
value is computed without a graph and the gradient comes from the series
``d log det(I + J) = sum_{k >= 0} (-1)^k tr(J^k dJ)`` (the same weights), through the single
differentiable product ``u^T J v`` with ``u = sum_k (-1)^k w_{k+1} v^T J^k`` held fixed.
"""

from __future__ import annotations

import torch

__all__ = ["ESTIMATORS", "series_weights", "estimate_logdet", "exact_logdet"]

ESTIMATORS = ("truncated", "roulette", "exact")


def _vjp(gx, x, w, create_graph: bool) -> torch.Tensor:
    return torch.autograd.grad(gx, x, w, retain_graph=True, create_graph=create_graph)[0]


def series_weights(
    n: int, kind: str, n_terms: int, p: float, n_exact: int, generator=None, device=None
) -> torch.Tensor:
    """``[n, K]`` weights of the terms k = 1..K for each of ``n`` examples."""
    if kind == "truncated":
        return torch.ones(n, n_terms, device=device)
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    # inverse CDF of the geometric number of failures before the first success
    extra = torch.floor(torch.log1p(-u) / torch.log1p(torch.tensor(-p, dtype=u.dtype)))
    total = (n_exact + extra.long()).to(device)
    k = torch.arange(1, max(int(total.max()), 1) + 1, device=device)
    survival = (1 - p) ** (k - n_exact).clamp_min(0).double()
    return (k[None, :] <= total[:, None]).double() / survival[None, :]


def exact_logdet(gx: torch.Tensor, x: torch.Tensor, create_graph: bool) -> torch.Tensor:
    """log|det(I + dg/dx)| per example from the full Jacobian."""
    n, d = len(x), x[0].numel()
    rows = []
    for i in range(d):
        e = torch.zeros(n, d, dtype=x.dtype, device=x.device)
        e[:, i] = 1
        rows.append(_vjp(gx, x, e.view_as(x), create_graph).reshape(n, d))
    jac = torch.stack(rows, 1)  # [N, D, D], row i = d g_i / dx
    eye = torch.eye(d, dtype=x.dtype, device=x.device)
    return torch.linalg.slogdet(eye + jac)[1]


def estimate_logdet(
    gx: torch.Tensor,
    x: torch.Tensor,
    weights: torch.Tensor,
    create_graph: bool,
    neumann: bool,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The weighted power series with one Hutchinson vector per example."""
    n = len(x)
    v = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    weights = weights.to(x.dtype)
    graph = create_graph and not neumann

    def per_example(t: torch.Tensor) -> torch.Tensor:
        return t.view(n, *[1] * (x.dim() - 1))

    w, total = v, x.new_zeros(n)
    u = per_example(weights[:, 0]) * v  # the Neumann gradient's vector, from the k = 0 term
    for k in range(1, weights.shape[1] + 1):
        w = _vjp(gx, x, w, graph)  # v^T J^k
        if not graph:
            w = w.detach()
        sign = 1.0 if k % 2 else -1.0
        total = total + sign / k * weights[:, k - 1] * (w * v).flatten(1).sum(1)
        if neumann and k < weights.shape[1]:
            u = u - sign * per_example(weights[:, k]) * w
    if not neumann or not create_graph:
        return total
    surrogate = (_vjp(gx, x, u.detach(), True) * v).flatten(1).sum(1)
    return total.detach() + surrogate - surrogate.detach()
