"""RealNVP: Dinh, Sohl-Dickstein & Bengio 2017, Density estimation using Real NVP.

Affine coupling ``y = b x + (1 - b)(x exp(s(b x)) + t(b x))`` with checkerboard and channel-wise
masks, squeeze, and the multi-scale architecture (Sec. 3.6, 4.1): at each scale three
checkerboard couplings, squeeze, three channel-wise couplings, then half of the channels are
factored out; the last scale has four checkerboard couplings. s and t are ResNets (the paper:
8 blocks of 64 feature maps, 4 on CelebA-size models use more). ``batch_norm=True`` adds the
paper's batch normalization bijection after every coupling.

On vector data it is a stack of affine couplings with alternating masks and MLP s/t nets (the
2-D density experiments of the paper's Fig. 1 style).

Example::

    flow = realnvp(data_shape=(1, 8, 8), levels=1, channels=16, blocks=1)
    z, logdet = flow(torch.randn(4, 1, 8, 8))
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from gens.flows.architectures.levels import multiscale_levels
from gens.flows.transforms.base import Compose, Transform
from gens.flows.transforms.coupling import Coupling
from gens.flows.transforms.multiscale import MultiScale
from gens.flows.transforms.normalization import BatchNormFlow
from gens.nets.coupling_nets import CouplingMLP, CouplingResNet
from gens.utils.errors import ConfigError, IncompatibleDataError

__all__ = ["realnvp"]


def _couplings(shape, net, mask, parities, clamp, batch_norm, ctx) -> list[Transform]:
    out: list[Transform] = []
    for p in parities:
        out.append(Coupling(shape, net, mask, p, "affine", "exp", clamp, ctx))
        if batch_norm:
            out.append(BatchNormFlow(shape[0]))
    return out


def realnvp(
    data_shape: Sequence[int],
    num_classes: int | None = None,
    levels: int = 3,
    channels: int = 64,
    blocks: int = 8,
    norm: str = "batch",
    batch_norm: bool = False,
    clamp: float | None = 3.0,
    layers: int = 8,
    hidden: Sequence[int] = (128, 128),
    act: str = "relu",
    fit_levels: bool = True,
) -> Transform:
    """RealNVP for images ``(C, H, W)`` (``levels`` scales) or vectors ``(D,)`` (``layers``
    alternating couplings with ``hidden`` MLPs). ``fit_levels`` lowers ``levels`` (with a
    warning) to what the resolution allows instead of raising."""
    ctx = num_classes or 0
    shape = tuple(int(s) for s in data_shape)
    if len(shape) == 1:
        if shape[0] < 2:
            raise IncompatibleDataError(f"coupling flows need >= 2 dimensions, got {shape[0]}")
        net = partial(CouplingMLP, hidden=tuple(hidden), act=act)
        steps = _couplings(
            shape, net, "alternate", [i % 2 for i in range(int(layers))], clamp, batch_norm, ctx
        )
        return Compose(steps)
    if len(shape) != 3:
        raise IncompatibleDataError(f"realnvp takes vectors or (C, H, W) images, got {shape}")
    if int(levels) < 1:
        raise ConfigError(f"realnvp needs levels >= 1, got {levels}")
    c, h, w = shape
    levels = multiscale_levels("realnvp", h, w, int(levels), 1, fit_levels)
    net = partial(CouplingResNet, channels=channels, blocks=blocks, norm=norm, act=act)

    def build(c: int, h: int, w: int, level: int) -> Transform:
        if level == levels - 1:  # last scale: four checkerboard couplings
            return Compose(
                _couplings((c, h, w), net, "checkerboard", [0, 1, 0, 1], clamp, batch_norm, ctx)
            )
        before = Compose(
            _couplings((c, h, w), net, "checkerboard", [0, 1, 0], clamp, batch_norm, ctx)
        )
        sq = (4 * c, h // 2, w // 2)
        after = Compose(_couplings(sq, net, "channel", [0, 1, 0], clamp, batch_norm, ctx))
        inner = build(2 * c, h // 2, w // 2, level + 1)
        return MultiScale(before, after, inner, keep=2 * c)

    return build(c, h, w, 0)
