"""Affine autoregressive flows: MAF (Papamakarios et al. 2017) and IAF (Kingma et al. 2016).

One MAF layer maps data to noise with a MADE (Germain et al. 2015) conditioner:
``z_i = (x_i - mu_i(x_<i)) * exp(-alpha_i(x_<i))``, ``log|det dz/dx| = -sum_i alpha_i``.
All ``mu, alpha`` come from one pass over ``x``, so density evaluation is one network pass; the
inverse (sampling) must recover ``x_i`` in order and takes D passes.

IAF is the same layer used the other way round: its sampling direction
``x_i = z_i * exp(alpha_i(z_<i)) + mu_i(z_<i)`` is one pass, and evaluating the density of an
arbitrary ``x`` needs D passes. Here ``IAFLayer`` is literally ``Inverse(MAFLayer)``.

Order permutations between layers (Papamakarios et al. Sec. 3.1) are realized by giving each
layer's MADE its own input order (reversed or seeded-random), which is the same as permuting
the variables between layers but costs nothing at run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import torch

from gens.flows.made import MADE
from gens.flows.transform import Compose, Inverse, Transform
from gens.utils.errors import ConfigError, IncompatibleDataError

__all__ = ["MAFLayer", "IAFLayer", "layer_orders", "maf", "iaf", "made"]


class MAFLayer(Transform):
    """Masked affine autoregressive transform on the flattened features of ``x``.

    The log-scale is soft-clamped to ``(-bound, bound)`` with ``bound * tanh(a / bound)`` so a
    single layer cannot blow up; the MADE output starts at zero, so the layer starts as identity.
    """

    def __init__(
        self,
        dim: int,
        hidden: Sequence[int] = (64, 64),
        order: torch.Tensor | None = None,
        context_dim: int = 0,
        act: str = "relu",
        scale_bound: float = 5.0,
        random_degrees: bool = False,
        seed: int = 0,
    ):
        super().__init__()
        if scale_bound <= 0:
            raise ConfigError(f"scale_bound must be > 0, got {scale_bound}")
        self.dim, self.scale_bound = int(dim), float(scale_bound)
        self.made = MADE(
            self.dim, 2, hidden, order, context_dim, act, random_degrees=random_degrees, seed=seed
        )

    def _shift_logscale(self, x: torch.Tensor, context):
        p = self.made(x, context)
        shift, raw = p[:, 0], p[:, 1]
        return shift, self.scale_bound * torch.tanh(raw / self.scale_bound)

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        if prod(x.shape[1:]) != self.dim:
            raise ConfigError(
                f"{type(self).__name__} was built for {self.dim} features, got {x.shape}"
            )
        return x.reshape(len(x), self.dim)

    def forward(self, x, context=None):
        flat = self._flat(x)
        shift, logscale = self._shift_logscale(flat, context)
        z = (flat - shift) * torch.exp(-logscale)
        return z.view_as(x), -logscale.sum(1)

    def inverse(self, z, context=None):
        flat = self._flat(z)
        x = torch.zeros_like(flat)
        # After pass k every variable of degree <= k is exact, so D passes recover x.
        for _ in range(self.dim):
            shift, logscale = self._shift_logscale(x, context)
            x = flat * torch.exp(logscale) + shift
        return x.view_as(z), logscale.sum(1)


class IAFLayer(Inverse):
    """IAF (Kingma et al. 2016): a MAF layer run backwards; one pass to sample, D to evaluate."""

    def __init__(self, dim: int, **kwargs):
        super().__init__(MAFLayer(dim, **kwargs))


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


def _stack(cls, data_shape, num_layers, hidden, permutation, seed, **kw) -> Compose:
    if int(num_layers) < 1:
        raise ConfigError(f"num_layers must be >= 1, got {num_layers}")
    dim = prod(int(s) for s in data_shape)
    orders = layer_orders(dim, int(num_layers), permutation, seed)
    return Compose(
        cls(dim, hidden=hidden, order=o, seed=seed + k, **kw) for k, o in enumerate(orders)
    )


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
) -> Compose:
    """MAF (Papamakarios et al. 2017): ``num_layers`` MAF layers with permuted orders.

    ``num_classes`` (passed by a class-conditional FlowModel) adds a one-hot label context."""
    return _stack(
        MAFLayer,
        data_shape,
        num_layers,
        hidden,
        permutation,
        seed,
        context_dim=context_dim + (num_classes or 0),
        act=act,
        scale_bound=scale_bound,
        random_degrees=random_degrees,
    )


def iaf(
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
    max_dim: int | None = 256,
) -> Compose:
    """IAF (Kingma et al. 2016): ``num_layers`` IAF layers with permuted orders (``num_classes``
    as for ``maf``).

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
    return _stack(
        IAFLayer,
        data_shape,
        num_layers,
        hidden,
        permutation,
        seed,
        context_dim=context_dim + (num_classes or 0),
        act=act,
        scale_bound=scale_bound,
        random_degrees=random_degrees,
    )


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
