"""Invertible residual blocks: Behrmann et al. 2019 (i-ResNet) and Chen et al. 2019 (Residual
Flows).

``f(x) = x + g(x)`` is invertible when Lip(g) < 1 (Banach's fixed-point theorem), which the
branch ``g`` guarantees through its softly normalized layers (``gens.nets.lipschitz``). The
inverse is the fixed-point iteration ``x <- y - g(x)``, stopped when the step is below
``inverse_tol`` (relative to float resolution) or after ``inverse_max_iter`` steps.
log|det(I + J_g)| comes from ``logdet_estimators``: the truncated series (i-ResNet), the
Russian-roulette series (Residual Flows), or, in evaluation up to ``exact_max_dim`` features,
exactly.

Example::

    block = ResidualBlock(lipschitz_mlp(2, (16,), coeff=0.9), estimator="roulette")
    z, logdet = block(torch.randn(8, 2))
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from gens.flows.transforms.base import Transform
from gens.flows.transforms.logdet_estimators import (
    ESTIMATORS,
    estimate_logdet,
    exact_logdet,
    series_weights,
)
from gens.utils.errors import ConfigError

__all__ = ["ResidualBlock"]


class ResidualBlock(Transform):
    """``z = x + g(x)``.

    Args:
        g: the residual branch, Lip(g) < 1.
        estimator: ``truncated`` | ``roulette`` | ``exact`` (the log-det in training).
        n_terms: terms of the truncated series.
        p, n_exact: the roulette's geometric parameter and its always-computed first terms.
        neumann: the constant-memory Neumann-series gradient.
        exact_max_dim: in evaluation, the exact log-det up to this many features.
        inverse_tol, inverse_max_iter: the fixed-point inverse.
        eval_seed: the seed of the estimator's noise in evaluation above ``exact_max_dim``.
    """

    def __init__(
        self,
        g: nn.Module,
        estimator: str = "roulette",
        n_terms: int = 5,
        p: float = 0.5,
        n_exact: int = 2,
        neumann: bool = True,
        exact_max_dim: int = 16,
        inverse_tol: float = 1e-10,
        inverse_max_iter: int = 1000,
        eval_seed: int = 0,
    ):
        super().__init__()
        if estimator not in ESTIMATORS:
            raise ConfigError(f"unknown log-det estimator '{estimator}'; choose {ESTIMATORS}")
        if not 0 < p < 1:
            raise ConfigError(f"the roulette's geometric p must be in (0, 1), got {p}")
        if int(n_terms) < 1 or int(n_exact) < 0:
            raise ConfigError(f"need n_terms >= 1 and n_exact >= 0, got {n_terms}, {n_exact}")
        self.g, self.estimator = g, estimator
        self.n_terms, self.p, self.n_exact = int(n_terms), float(p), int(n_exact)
        self.neumann, self.exact_max_dim = bool(neumann), int(exact_max_dim)
        self.tol, self.max_iter = float(inverse_tol), int(inverse_max_iter)
        self.eval_seed = int(eval_seed)

    def _branch_and_logdet(self, x: torch.Tensor):
        """``g(x)`` and the log-det; the estimators need autograd even under ``no_grad`` and
        under the inference mode Lightning evaluates in (where no tensor may join a graph)."""
        if torch.is_inference_mode_enabled():
            with torch.inference_mode(False), torch.no_grad():
                return self._branch_and_logdet(x.clone())
        graph = torch.is_grad_enabled()
        kind = self.estimator
        if not self.training and x[0].numel() <= self.exact_max_dim:
            kind = "exact"
        with torch.enable_grad():
            if not (graph and x.requires_grad):
                x = x.detach().requires_grad_(True)
            gx = self.g(x)
            if kind == "exact":
                ld = exact_logdet(gx, x, graph)
            else:
                # evaluation draws the same noise every call, so it is deterministic and the
                # inverse reports the negative of the forward estimate at the same point
                gens = (None, None)
                if not self.training:
                    gens = (
                        torch.Generator().manual_seed(self.eval_seed),
                        torch.Generator(x.device).manual_seed(self.eval_seed),
                    )
                n, dev = len(x), x.device
                w = series_weights(n, kind, self.n_terms, self.p, self.n_exact, gens[0], dev)
                ld = estimate_logdet(gx, x, w, graph, self.neumann, gens[1])
        return (gx, ld) if graph else (gx.detach(), ld.detach())

    def forward(self, x, context=None):
        gx, ld = self._branch_and_logdet(x)
        return x + gx, ld

    def inverse(self, z, context=None):
        with torch.no_grad():
            x = z - self.g(z)
            floor = 4 * torch.finfo(z.dtype).eps
            for _ in range(self.max_iter):
                step = z - self.g(x) - x
                x = x + step
                if step.abs().max() <= max(self.tol, floor * float(x.abs().max())):
                    break
            else:
                warnings.warn(
                    f"residual block inverse did not converge in {self.max_iter} steps "
                    f"(last step {float(step.abs().max()):.2e}); raise inverse_max_iter",
                    stacklevel=2,
                )
        if torch.is_grad_enabled():
            x = self._implicit(z, x)
        # a copy: the estimator's own derivatives in x must not pass through the adjoint hook
        return x, -self._branch_and_logdet(x.clone())[1]

    def _implicit(self, z: torch.Tensor, x_star: torch.Tensor) -> torch.Tensor:
        """``x = z - g(x*)`` at the fixed point, with the implicit-function gradient: the
        adjoint ``a`` of ``dx = (I + J)^{-1} (dz - dg/dtheta dtheta)`` solves ``a = grad - J^T a``
        (by the same contraction), and replaces the gradient that reaches ``x``."""
        x0 = x_star.detach().requires_grad_(True)
        gx0 = self.g(x0)
        x = z - gx0

        def adjoint(grad: torch.Tensor) -> torch.Tensor:
            a = grad
            for _ in range(self.max_iter):
                jta = torch.autograd.grad(gx0, x0, a, retain_graph=True)[0]
                new = grad - jta
                if (new - a).abs().max() <= self.tol:
                    return new
                a = new
            return a

        if x.requires_grad:
            x.register_hook(adjoint)
        return x
