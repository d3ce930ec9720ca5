"""FFJORD: Grathwohl, Chen, Bettencourt, Sutskever & Duvenaud 2019, Free-form continuous
dynamics for scalable reversible generative models.

``num_blocks`` continuous normalizing flows in sequence, each with its own concat-squash field
(an MLP on vectors, 3x3 convolutions on images) and learnt end time. The paper's toy models use
one to a few blocks of 64-unit layers with tanh; its image models softplus conv fields, the
Hutchinson trace and Rademacher noise, dopri5 at tolerance 1e-5.

Example::

    flow = ffjord(data_shape=(2,), hidden=(16, 16), trace="exact")
    z, logdet = flow(torch.randn(8, 2))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gens.flows.transforms.base import Compose, Transform
from gens.flows.transforms.cnf import CNF
from gens.nets.odenet import ODENet
from gens.utils.errors import ConfigError, IncompatibleDataError

__all__ = ["ffjord"]


def ffjord(
    data_shape: Sequence[int],
    num_classes: int | None = None,
    num_blocks: int = 1,
    hidden: Sequence[int] = (64, 64, 64),
    act: str = "tanh",
    end_time: float = 0.5,
    **cnf_options: Any,
) -> Transform:
    """``hidden`` is the field's widths on vectors and its channels on images; the other
    keywords (solver, tolerances, trace, regularization) are ``CNF``'s, with its defaults."""
    if num_classes:
        raise ConfigError("ffjord here is unconditional; set model.conditional=false")
    if int(num_blocks) < 1:
        raise ConfigError(f"num_blocks must be >= 1, got {num_blocks}")
    shape = tuple(int(s) for s in data_shape)
    if len(shape) not in (1, 3):
        raise IncompatibleDataError(f"ffjord takes vectors or (C, H, W) images, got {shape}")
    return Compose(
        CNF(ODENet(shape, hidden, act), end_time, **cnf_options) for _ in range(int(num_blocks))
    )
