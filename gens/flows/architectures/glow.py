"""Glow: Kingma & Dhariwal 2018, Generative Flow with Invertible 1x1 Convolutions.

A step of flow is ActNorm -> invertible 1x1 convolution -> affine coupling (Sec. 3); the
multi-scale architecture has ``levels`` scales of squeeze -> ``depth`` steps -> split, with the
factored-out half under a learned prior N(mu(h1), sigma(h1)^2) (except after the last scale).
The paper's CIFAR-10 model: levels 3, depth 32, 512 channels, LU-decomposed 1x1 convolutions.

Ablation options of the paper's Fig. 3: ``permutation`` = ``conv1x1`` (default, ``lu`` for the
LU form) | ``reverse`` | ``shuffle``; ``coupling`` = ``affine`` | ``additive``. The scale is
Glow's ``sigmoid(h + 2)`` (``scale=exp`` gives a soft-clamped exp). On vectors every step is
ActNorm -> D x D invertible linear map -> MLP coupling.

Example::

    flow = glow(data_shape=(1, 8, 8), levels=2, depth=2, channels=16)
    z, logdet = flow(torch.randn(4, 1, 8, 8))
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from gens.flows.architectures.levels import multiscale_levels
from gens.flows.transforms.actnorm import ActNorm
from gens.flows.transforms.base import Compose, Transform
from gens.flows.transforms.conv1x1 import Invertible1x1Conv
from gens.flows.transforms.coupling import Coupling
from gens.flows.transforms.multiscale import LearnedSplitPrior, MultiScale
from gens.flows.transforms.permutation import Reverse, Shuffle
from gens.flows.transforms.reshape import Squeezed, max_squeezes
from gens.nets.coupling_nets import CouplingMLP, GlowNet
from gens.utils.errors import ConfigError, IncompatibleDataError

__all__ = ["glow", "flow_step"]

PERMUTATIONS = ("conv1x1", "reverse", "shuffle")


def flow_step(shape, net, permutation, lu, coupling, scale, clamp, ctx, seed) -> Compose:
    """ActNorm -> permutation -> coupling on ``shape``."""
    c = shape[0]
    if permutation == "conv1x1":
        perm: Transform = Invertible1x1Conv(c, lu=lu, seed=seed)
    elif permutation == "reverse":
        perm = Reverse(c)
    else:
        perm = Shuffle(c, seed=seed)
    mask = "channel" if len(shape) == 3 else "alternate"
    return Compose([ActNorm(c), perm, Coupling(shape, net, mask, 0, coupling, scale, clamp, ctx)])


def glow(
    data_shape: Sequence[int],
    num_classes: int | None = None,
    levels: int = 3,
    depth: int = 32,
    channels: int = 512,
    permutation: str = "conv1x1",
    lu: bool = True,
    coupling: str = "affine",
    scale: str = "sigmoid",
    clamp: float | None = 3.0,
    split_prior: bool = True,
    hidden: Sequence[int] = (128, 128),
    act: str = "relu",
    seed: int = 0,
    fit_levels: bool = True,
) -> Transform:
    """Glow for images ``(C, H, W)`` or, with MLP couplings, vectors ``(D,)`` (``depth`` steps).
    ``fit_levels`` lowers ``levels`` (with a warning) to what the resolution allows."""
    if permutation not in PERMUTATIONS:
        raise ConfigError(
            f"glow permutation must be one of {', '.join(PERMUTATIONS)}, got '{permutation}'"
        )
    if int(depth) < 1 or int(levels) < 1:
        raise ConfigError(f"glow needs depth >= 1 and levels >= 1, got {depth}, {levels}")
    ctx = num_classes or 0
    shape = tuple(int(s) for s in data_shape)
    args = (permutation, lu, coupling, scale, clamp, ctx)
    if len(shape) == 1:
        if shape[0] < 2:
            raise IncompatibleDataError(f"coupling flows need >= 2 dimensions, got {shape[0]}")
        net = partial(CouplingMLP, hidden=tuple(hidden), act=act)
        return Compose([flow_step(shape, net, *args, seed + i) for i in range(int(depth))])
    if len(shape) != 3:
        raise IncompatibleDataError(f"glow takes vectors or (C, H, W) images, got {shape}")
    c, h, w = shape
    if max_squeezes(h, w) == 0:
        raise IncompatibleDataError(
            f"glow squeezes at least once and needs even H and W, got {h}x{w}; resize the data "
            "(e.g. data.image_size=32)"
        )
    levels = multiscale_levels("glow", h, w, int(levels), 0, fit_levels)
    net = partial(GlowNet, channels=channels, act=act)

    def steps(sq_shape, level):
        return Compose(
            [flow_step(sq_shape, net, *args, seed + 1000 * level + i) for i in range(depth)]
        )

    def build(c: int, h: int, w: int, level: int) -> Transform:
        sq = (4 * c, h // 2, w // 2)
        if level == levels - 1:
            return Squeezed(steps(sq, level))
        prior = LearnedSplitPrior(4 * c, 2 * c, ctx) if split_prior else None
        inner = build(2 * c, h // 2, w // 2, level + 1)
        return MultiScale(None, steps(sq, level), inner, keep=2 * c, split_prior=prior)

    return build(c, h, w, 0)
