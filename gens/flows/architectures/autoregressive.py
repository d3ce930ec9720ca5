"""Stacks of affine autoregressive layers: MADE (Germain et al. 2015), MAF (Papamakarios et al.
2017) and IAF (Kingma et al. 2016), sized from the data shape (images are flattened).

Order permutations between layers (Papamakarios et al. Sec. 3.1) are realized by giving each
layer's MADE its own input order (reversed or seeded-random), which is the same as permuting
the variables between layers but costs nothing at run time.

Example::

    flow = maf(data_shape=(2,), num_layers=3, hidden=(16,))
    z, logdet = flow(torch.randn(8, 2))
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import torch

from gens.flows.transforms.autoregressive import IAFLayer, MAFLayer
from gens.flows.transforms.base import Compose
from gens.utils.errors import ConfigError, IncompatibleDataError

__all__ = ["layer_orders", "maf", "iaf", "made"]


def layer_orders(dim: int, num_layers: int, permutation: str = "reverse", seed: int = 0):
    """Input orders (permutations of 1..D) of successive layers.

    ``reverse`` alternates the identity and its reverse (MAF's default); ``random`` draws a
    seeded permutation per layer; ``none`` keeps the identity (no permutation between layers).
    """
    base = torch.arange(1, dim + 1)
    if permutation == "none":
        return [base.clone() for _ in range(num_layers)]
    if permutation == "reverse":
        return [base.clone() if k % 2 == 0 else base.flip(0) for k in range(num_layers)]
    if permutation == "random":
        g = torch.Generator().manual_seed(seed)
        return [base.clone()] + [
            torch.randperm(dim, generator=g) + 1 for _ in range(num_layers - 1)
        ]
    raise ConfigError(f"unknown permutation '{permutation}'; choose reverse, random or none")


def maf(
    data_shape: Sequence[int],
    num_layers: int = 5,
    hidden: Sequence[int] = (64, 64),
    permutation: str = "reverse",
    context_dim: int = 0,
    act: str = "relu",
    scale_bound: float = 5.0,
    random_degrees: bool = False,
    seed: int = 0,
    num_classes: int | None = None,
    layer: type[MAFLayer] | type[IAFLayer] = MAFLayer,
) -> Compose:
    """MAF (Papamakarios et al. 2017): ``num_layers`` MAF layers with permuted orders.

    ``num_classes`` (passed by a class-conditional FlowModel) adds a one-hot label context;
    ``layer=IAFLayer`` stacks IAF layers instead (see ``iaf``)."""
    if int(num_layers) < 1:
        raise ConfigError(f"num_layers must be >= 1, got {num_layers}")
    dim = prod(int(s) for s in data_shape)
    orders = layer_orders(dim, int(num_layers), permutation, seed)
    return Compose(
        layer(
            dim,
            hidden=hidden,
            order=o,
            seed=seed + k,
            context_dim=context_dim + (num_classes or 0),
            act=act,
            scale_bound=scale_bound,
            random_degrees=random_degrees,
        )
        for k, o in enumerate(orders)
    )


def iaf(data_shape: Sequence[int], *args, max_dim: int | None = 256, **kwargs) -> Compose:
    """IAF (Kingma et al. 2016): ``maf``'s stack, arguments and defaults, of IAF layers.

    Its density of given data takes D sequential network passes per layer, and training by
    maximum likelihood keeps all of them in the autograd graph; above ``max_dim`` features that
    is refused (``IncompatibleDataError``) rather than left to exhaust memory."""
    dim = prod(int(s) for s in data_shape)
    if max_dim is not None and dim > int(max_dim):
        raise IncompatibleDataError(
            f"IAF evaluates log p(x) with {dim} sequential passes per layer ({dim} features > "
            f"max_dim={max_dim}); use smaller data (e.g. data.image_size=8), model=maf, or "
            "raise transform.max_dim"
        )
    return maf(data_shape, *args, layer=IAFLayer, **kwargs)


def made(
    data_shape: Sequence[int],
    hidden: Sequence[int] = (256, 256),
    act: str = "relu",
    scale_bound: float = 5.0,
    random_degrees: bool = False,
    seed: int = 0,
    num_classes: int | None = None,
) -> Compose:
    """MADE with Gaussian conditionals (Germain et al. 2015; Papamakarios et al. Sec. 3.2):
    ``p(x) = prod_i N(x_i; mu_i(x_<i), exp(alpha_i(x_<i))^2)``, which is exactly one MAF layer
    on a standard normal base. Kept as its own model so MADE can be compared with deeper MAFs."""
    return maf(
        data_shape, 1, hidden, "none", 0, act, scale_bound, random_degrees, seed, num_classes
    )
