"""Stacks of planar, radial or Sylvester layers (Rezende & Mohamed 2015; van den Berg et al.
2018), sized from the data shape; free parameters, or amortized with ``context_dim > 0``.

Example::

    flow = planar_flow(data_shape=(2,), num_layers=8)
    x, logdet = flow.inverse(torch.randn(16, 2))  # the closed-form (sampling) direction
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

from gens.flows.transforms.base import Compose
from gens.flows.transforms.planar import Planar
from gens.flows.transforms.radial import Radial
from gens.flows.transforms.sylvester import Sylvester
from gens.utils.errors import ConfigError

__all__ = ["planar_flow", "radial_flow", "sylvester_flow"]


def _dim(data_shape: Sequence[int], num_layers: int) -> int:
    if int(num_layers) < 0:
        raise ConfigError(f"num_layers must be >= 0, got {num_layers}")
    return prod(int(s) for s in data_shape)


def planar_flow(data_shape: Sequence[int], num_layers: int = 32, context_dim: int = 0) -> Compose:
    """``num_layers`` planar layers (0 gives the identity: no flow)."""
    dim = _dim(data_shape, num_layers)
    return Compose(Planar(dim, context_dim) for _ in range(int(num_layers)))


def radial_flow(data_shape: Sequence[int], num_layers: int = 32, context_dim: int = 0) -> Compose:
    """``num_layers`` radial layers (0 gives the identity: no flow)."""
    dim = _dim(data_shape, num_layers)
    return Compose(Radial(dim, context_dim) for _ in range(int(num_layers)))


def sylvester_flow(
    data_shape: Sequence[int],
    num_layers: int = 8,
    q: str = "householder",
    num_ortho: int | None = None,
    num_householder: int | None = None,
    context_dim: int = 0,
) -> Compose:
    """``num_layers`` Sylvester layers; with ``q=triangular`` alternate layers reverse the
    variables (van den Berg et al.'s T-SNF)."""
    dim = _dim(data_shape, num_layers)
    return Compose(
        Sylvester(dim, num_ortho, q, num_householder, flip=bool(k % 2), context_dim=context_dim)
        for k in range(int(num_layers))
    )
