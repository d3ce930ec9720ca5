"""Residual flows: i-ResNet (Behrmann et al. 2019) and Residual Flows (Chen et al. 2019).

A stack of invertible residual blocks ``x + g(x)`` with Lip(g) < 1, ActNorm between them (as in
Residual Flows). On vectors ``g`` is an MLP of Lipschitz-normalized linear layers with LipSwish;
on images a 3x3 -> 1x1 -> 3x3 conv branch, with ``levels`` scales (a squeeze between scales,
the shape of ``z`` kept). The presets differ in how the log-determinant is estimated in
training: ``iresnet`` truncates the power series at ``n_terms`` (biased), ``resflow`` uses the
unbiased Russian-roulette estimator with the Neumann-series gradient.

Example::

    flow = resflow(data_shape=(2,), num_blocks=2, hidden=(16,))
    z, logdet = flow(torch.randn(8, 2))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gens.flows.transforms.actnorm import ActNorm
from gens.flows.transforms.base import Compose, Transform
from gens.flows.transforms.reshape import Squeezed, max_squeezes
from gens.flows.transforms.residual import ResidualBlock
from gens.nets.lipschitz import VECTOR_BETA, check_coeff, lipschitz_convnet, lipschitz_mlp
from gens.utils.errors import ConfigError, IncompatibleDataError

__all__ = ["residual_flow", "iresnet", "resflow"]


def residual_flow(
    data_shape: Sequence[int],
    num_classes: int | None = None,
    num_blocks: int = 8,
    hidden: Sequence[int] = (128, 128),
    channels: int = 64,
    levels: int = 1,
    coeff: float = 0.97,
    swish_beta: float = VECTOR_BETA,
    actnorm: bool = True,
    power_tol: float = 1e-4,
    power_max_iter: int = 200,
    **block: Any,
) -> Transform:
    """``num_blocks`` residual blocks per scale (``levels`` scales on images); the spectral norms
    are found by power iteration to ``power_tol``, at most ``power_max_iter`` steps.
    ``swish_beta`` is the initial LipSwish beta of vector branches (image branches start at the
    reference code's 0.97; ``gens.nets.lipschitz`` says why vectors differ). The other keywords
    (the log-det ``estimator`` and its options, the inverse's tolerance) are ``ResidualBlock``'s,
    with its defaults."""
    if num_classes:
        raise ConfigError("residual flows here are unconditional; set model.conditional=false")
    check_coeff(coeff)
    if int(num_blocks) < 1:
        raise ConfigError(f"num_blocks must be >= 1, got {num_blocks}")
    shape = tuple(int(s) for s in data_shape)

    def stack(branch, c: int) -> list[Transform]:
        out: list[Transform] = []
        for _ in range(int(num_blocks)):
            if actnorm:
                out.append(ActNorm(c))
            out.append(ResidualBlock(branch(), **block))
        return out

    if len(shape) == 1:
        return Compose(
            stack(
                lambda: lipschitz_mlp(
                    shape[0], hidden, coeff, swish_beta, tol=power_tol, max_iter=power_max_iter
                ),
                shape[0],
            )
        )
    if len(shape) != 3:
        raise IncompatibleDataError(f"residual flows take vectors or (C, H, W), got {shape}")
    c, h, w = shape
    if not 1 <= int(levels) <= max_squeezes(h, w) + 1:
        raise ConfigError(
            f"levels must be in [1, {max_squeezes(h, w) + 1}] for {h}x{w} images, got {levels}"
        )

    def build(c: int, h: int, w: int, level: int) -> Transform:
        def branch():
            return lipschitz_convnet(
                c, channels, (h, w), coeff, tol=power_tol, max_iter=power_max_iter
            )

        blocks = stack(branch, c)
        if level + 1 < int(levels):
            blocks.append(Squeezed(build(4 * c, h // 2, w // 2, level + 1)))
        return Compose(blocks)

    return build(c, h, w, 0)


def iresnet(data_shape: Sequence[int], num_classes: int | None = None, **kwargs) -> Transform:
    """i-ResNet: the power series truncated at ``n_terms`` (default 5), backpropagated."""
    kwargs = {"estimator": "truncated", "neumann": False, **kwargs}
    return residual_flow(data_shape, num_classes, **kwargs)


def resflow(data_shape: Sequence[int], num_classes: int | None = None, **kwargs) -> Transform:
    """Residual Flow: Russian-roulette series (p, n_exact) with the Neumann gradient."""
    kwargs = {"estimator": "roulette", "neumann": True, **kwargs}
    return residual_flow(data_shape, num_classes, **kwargs)
