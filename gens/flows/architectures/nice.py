"""NICE: Dinh, Krueger & Bengio 2014, Non-linear Independent Components Estimation.

Additive coupling layers (volume preserving, log|det| = 0) with alternating odd/even
partitions of the (flattened) input, MLP coupling functions, and a final diagonal scaling layer
``z = exp(s) * h`` that carries the whole log-determinant (Sec. 3.3). The paper uses 4 coupling
layers of 5 x 1000 ReLU units on MNIST; images are treated as vectors.

Example::

    flow = nice(data_shape=(2,), layers=4, hidden=(64, 64))
    z, logdet = flow(torch.randn(8, 2))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial

from gens.flows.transforms.base import Compose, Transform
from gens.flows.transforms.coupling import Coupling
from gens.flows.transforms.normalization import DiagonalScaling
from gens.flows.transforms.reshape import Flatten
from gens.nets.coupling_nets import CouplingMLP
from gens.utils.errors import ConfigError, IncompatibleDataError

__all__ = ["nice"]


def nice(
    data_shape: Sequence[int],
    num_classes: int | None = None,
    layers: int = 4,
    hidden: Sequence[int] = (1000, 1000, 1000, 1000, 1000),
    act: str = "relu",
    scaling: bool = True,
) -> Transform:
    """The NICE flow for data of any shape (flattened to ``D`` dimensions)."""
    if int(layers) < 1:
        raise ConfigError(f"nice needs layers >= 1, got {layers}")
    dim = math.prod(data_shape)
    if dim < 2:
        raise IncompatibleDataError(f"coupling flows need >= 2 dimensions, got {dim}")
    net = partial(CouplingMLP, hidden=tuple(hidden), act=act)
    steps: list[Transform] = [
        Coupling(
            (dim,),
            net,
            "alternate",
            parity=i % 2,
            kind="additive",
            context_channels=num_classes or 0,
        )
        for i in range(int(layers))
    ]
    if scaling:
        steps.append(DiagonalScaling((dim,)))
    return Flatten(data_shape, Compose(steps))
