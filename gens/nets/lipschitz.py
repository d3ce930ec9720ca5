"""Layers with a Lipschitz constant below a coefficient ``c < 1``: the residual branches of
i-ResNets (Behrmann et al. 2019) and Residual Flows (Chen et al. 2019).

Each weight is softly normalized, ``W / max(1, sigma / c)``, where sigma, the spectral norm of
the *linear operator* the layer applies, is found by power iteration (Miyato et al. 2018 keep
one step per update; here the iteration runs until what sigma has still to rise is below
``tol`` (relative), capped at ``max_iter``, so the bound holds after any change of the weights).
The estimate rises monotonically, by steps that shrink geometrically once the slowest
component dominates; the remaining rise is extrapolated from the last two steps when their ratio
has stopped growing. A test on the last step alone stops too early when the
two largest singular values are close: sigma then creeps up by less than ``tol`` a step while
still short of its limit by up to ``sqrt(tol)``. For a convolution the operator is the
convolution at the input's real shape, so the power iteration alternates ``conv2d`` and its
adjoint ``conv_transpose2d`` on image-shaped vectors; the largest singular value of the reshaped
kernel matrix is a different number and does not bound the layer.
In training the singular vectors are kept between steps (a warm start); in evaluation they are
refined from the stored ones but not written back, so evaluation leaves the module unchanged.

LipSwish (Chen et al. 2019, Sec. 4): ``x * sigmoid(beta x) / 1.1`` with a learnt ``beta > 0``,
1-Lipschitz for every ``beta`` and smooth, unlike ReLU whose second derivative vanishes. ``beta``
sets the scale ``1 / beta`` of inputs on which it bends; the reference code starts it at
``softplus(0.5) = 0.97``. The vector branch starts it at 8: a ``c``-Lipschitz first layer spreads
a 2-D input over ``h`` units, so each pre-activation varies by about ``c / sqrt(h)`` (0.2, 0.14,
0.11 for 32, 64, 128 units on standardized data), where a unit-scale swish is nearly linear and
the block nearly affine; ``beta`` (softplus-parametrized) moves by about the learning rate a step,
too slowly to leave that regime in a few hundred steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gens.utils.errors import ConfigError

__all__ = [
    "LipSwish",
    "LipschitzConv2d",
    "LipschitzLinear",
    "check_coeff",
    "lipschitz_convnet",
    "lipschitz_mlp",
]


def check_coeff(coeff: float) -> float:
    if not 0 < float(coeff) < 1:
        raise ConfigError(
            f"the Lipschitz coefficient must be in (0, 1) for an invertible residual block, "
            f"got {coeff}"
        )
    return float(coeff)


REFERENCE_BETA = math.log1p(math.exp(0.5))
VECTOR_BETA = 8.0


class LipSwish(nn.Module):
    """``x * sigmoid(beta x) / 1.1``, ``beta = softplus(raw)`` starting at ``beta``."""

    def __init__(self, beta: float = REFERENCE_BETA):
        super().__init__()
        if not float(beta) > 0:
            raise ConfigError(f"LipSwish's beta must be > 0, got {beta}")
        raw = float(beta) + math.log(-math.expm1(-float(beta)))  # softplus^-1, stable
        self.beta = nn.Parameter(torch.tensor(raw))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x * F.softplus(self.beta)) / 1.1


def _remaining(step: float, last: float) -> tuple[float, float]:
    """What sigma has still to rise, from two successive rises of the power iteration, which
    shrink geometrically (ratio q = (sigma_2 / sigma_1)^2): ``step * q / (1 - q)``, and q."""
    if step <= 0 or last <= 0:  # no rise left but rounding
        return abs(step), 0.0
    q = min(step / last, 1 - 1e-12)
    return step * q / (1 - q), q


class _Normalized(nn.Module):
    """Shared power iteration: subclasses define the operator ``op`` and its adjoint ``adj``."""

    weight: torch.Tensor
    bias: torch.Tensor

    def _init_vectors(self, in_shape: Sequence[int], out_shape: Sequence[int], seed: int):
        g = torch.Generator().manual_seed(seed)
        self.register_buffer(
            "u", F.normalize(torch.randn(1, *out_shape, generator=g).flatten(), dim=0)
        )
        self.register_buffer(
            "v", F.normalize(torch.randn(1, *in_shape, generator=g).flatten(), dim=0)
        )
        self.in_shape, self.out_shape = tuple(in_shape), tuple(out_shape)

    def op(self, v: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def adj(self, u: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def spectral_norm(self, update: bool | None = None) -> torch.Tensor:
        """sigma = u^T W v at the converged singular vectors (differentiable in W)."""
        w = self.weight
        with torch.no_grad():
            u, v = self.u.to(w.dtype), self.v.to(w.dtype)
            sigma, rise, ratio = None, None, None
            for _ in range(self.max_iter):
                v = F.normalize(self.adj(u.view(1, *self.out_shape), w).flatten(), dim=0)
                wv = self.op(v.view(1, *self.in_shape), w).flatten()
                u = F.normalize(wv, dim=0)
                new = float(wv.norm())
                if sigma is not None:
                    step = new - sigma
                    if rise is not None:
                        left, q = _remaining(step, rise)
                        # a ratio still growing means faster components still dominate the
                        # rises, and the slowest one's tail is not yet in the estimate
                        settled = ratio is not None and q <= ratio + 1e-3
                        if left <= self.tol * new and (settled or step <= 0):
                            break
                        ratio = q
                    rise = step
                sigma = new
            if self.training if update is None else update:
                self.u.copy_(u)
                self.v.copy_(v)
        wv = self.op(v.view(1, *self.in_shape), w).flatten()
        return torch.dot(u, wv)

    def normalized_weight(self) -> torch.Tensor:
        sigma = self.spectral_norm()
        return self.weight / torch.clamp(sigma / self.coeff, min=1.0)


class LipschitzLinear(_Normalized):
    """``nn.Linear`` with ``Lip <= coeff`` (in the Euclidean norm)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        coeff: float = 0.97,
        tol: float = 1e-4,
        max_iter: int = 200,
        seed: int = 0,
    ):
        super().__init__()
        self.coeff, self.tol, self.max_iter = check_coeff(coeff), float(tol), int(max_iter)
        layer = nn.Linear(in_features, out_features)
        self.weight, self.bias = layer.weight, layer.bias
        self._init_vectors((in_features,), (out_features,), seed)

    def op(self, v, weight):
        return F.linear(v, weight)

    def adj(self, u, weight):
        return F.linear(u, weight.t())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.normalized_weight(), self.bias)


class LipschitzConv2d(_Normalized):
    """Stride-1 "same" ``nn.Conv2d`` with ``Lip <= coeff`` on inputs of ``(in_channels,
    *size)``; other sizes are refused, since the operator's norm depends on them."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        size: Sequence[int],
        coeff: float = 0.97,
        tol: float = 1e-4,
        max_iter: int = 200,
        seed: int = 0,
    ):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ConfigError(f"LipschitzConv2d needs an odd kernel size, got {kernel_size}")
        self.coeff, self.tol, self.max_iter = check_coeff(coeff), float(tol), int(max_iter)
        layer = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.weight, self.bias, self.padding = layer.weight, layer.bias, kernel_size // 2
        size = tuple(int(s) for s in size)
        self._init_vectors((in_channels, *size), (out_channels, *size), seed)

    def op(self, v, weight):
        return F.conv2d(v, weight, padding=self.padding)

    def adj(self, u, weight):
        return F.conv_transpose2d(u, weight, padding=self.padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.in_shape:
            raise ConfigError(
                f"LipschitzConv2d was normalized for inputs {self.in_shape}, "
                f"got {tuple(x.shape[1:])}"
            )
        return F.conv2d(x, self.normalized_weight(), self.bias, padding=self.padding)


def lipschitz_mlp(
    dim: int, hidden: Sequence[int], coeff: float = 0.97, beta: float = VECTOR_BETA, **kw
) -> nn.Sequential:
    """Residual Flows' vector branch: Linear -> LipSwish -> ... -> Linear, each layer <= coeff;
    ``beta`` is the swishes' initial beta (see the module docstring)."""
    sizes = [int(dim), *(int(h) for h in hidden), int(dim)]
    layers: list[nn.Module] = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        if k:
            layers.append(LipSwish(beta))
        layers.append(LipschitzLinear(a, b, coeff, seed=k, **kw))
    return nn.Sequential(*layers)


def lipschitz_convnet(
    channels: int, hidden: int, size: Sequence[int], coeff: float = 0.97, **kw
) -> nn.Sequential:
    """Residual Flows' image branch: LipSwish -> 3x3 -> LipSwish -> 1x1 -> LipSwish -> 3x3."""
    c, h = int(channels), int(hidden)
    return nn.Sequential(
        LipSwish(),
        LipschitzConv2d(c, h, 3, size, coeff, seed=0, **kw),
        LipSwish(),
        LipschitzConv2d(h, h, 1, size, coeff, seed=1, **kw),
        LipSwish(),
        LipschitzConv2d(h, c, 3, size, coeff, seed=2, **kw),
    )
