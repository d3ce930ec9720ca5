"""Stacks of coupling or autoregressive layers around an elementwise transformer, and the
presets that name a paper's transformer: NSF (Durkan et al. 2019, rational-quadratic splines),
cubic-spline flows (Durkan et al. 2019, monotone cubics),
NAF (Huang et al. 2018, deep sigmoidal), SOS (Jaini et al. 2019, sum-of-squares polynomials)
and UMNN (Wehenkel & Louppe 2019, integrated positive networks).

``form="coupling"`` alternates which features condition (RealNVP's masks); ``"autoregressive"``
gives each layer's MADE a reversed or seeded-random input order (MAF's permutations). Images are
flattened around the stack. ``num_classes`` (from a class-conditional FlowModel) adds a one-hot
label context.

Example::

    flow = nsf(data_shape=(2,), num_layers=3, hidden=(16,))
    z, logdet = flow(torch.randn(8, 2))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from math import prod

from gens.flows.architectures.autoregressive import layer_orders
from gens.flows.transforms.base import Compose, Transform
from gens.flows.transforms.cubic_spline import CubicSpline
from gens.flows.transforms.elementwise import TransformerAutoregressive, TransformerCoupling
from gens.flows.transforms.reshape import Flatten
from gens.flows.transforms.rq_spline import RQSpline
from gens.flows.transforms.sigmoidal import DeepSigmoid
from gens.flows.transforms.sos import SOSPolynomial
from gens.flows.transforms.transformer import Transformer
from gens.flows.transforms.umnn import UMNN
from gens.utils.errors import ConfigError

__all__ = ["elementwise_flow", "nsf", "cubic_spline_flow", "naf", "sos", "umnn"]

FORMS = ("coupling", "autoregressive")


def elementwise_flow(
    data_shape: Sequence[int],
    transformer: Callable[[], Transformer],
    form: str = "coupling",
    num_layers: int = 5,
    hidden: Sequence[int] = (64, 64),
    act: str = "relu",
    permutation: str = "reverse",
    num_classes: int | None = None,
    seed: int = 0,
) -> Transform:
    """``num_layers`` layers, each with a fresh ``transformer()``."""
    if form not in FORMS:
        raise ConfigError(f"unknown flow form '{form}'; choose one of {', '.join(FORMS)}")
    if int(num_layers) < 1:
        raise ConfigError(f"num_layers must be >= 1, got {num_layers}")
    shape = tuple(int(s) for s in data_shape)
    dim, ctx, hidden = prod(shape), num_classes or 0, tuple(int(h) for h in hidden)
    if form == "coupling":
        layers = [
            TransformerCoupling(dim, transformer(), hidden, k % 2, "alternate", ctx, act)
            for k in range(int(num_layers))
        ]
    else:
        orders = layer_orders(dim, int(num_layers), permutation, seed)
        layers = [
            TransformerAutoregressive(
                dim, transformer(), hidden, order=o, context_dim=ctx, act=act, seed=seed + k
            )
            for k, o in enumerate(orders)
        ]
    flow = Compose(layers)
    return flow if len(shape) == 1 else Flatten(shape, flow)


def nsf(
    data_shape: Sequence[int],
    num_classes: int | None = None,
    form: str = "coupling",
    num_layers: int = 5,
    bins: int = 8,
    bound: float = 5.0,
    hidden: Sequence[int] = (64, 64),
    act: str = "relu",
    permutation: str = "reverse",
    min_width: float = 1e-3,
    min_height: float = 1e-3,
    min_derivative: float = 1e-3,
    seed: int = 0,
) -> Transform:
    """Neural Spline Flow: rational-quadratic spline couplings (RQ-NSF (C)) or autoregressive
    layers (RQ-NSF (AR)) with ``bins`` bins on ``[-bound, bound]`` and identity tails."""
    make = partial(RQSpline, bins, bound, min_width, min_height, min_derivative)
    make()  # one now, so that bad settings fail before the stack's own checks
    return elementwise_flow(
        data_shape, make, form, num_layers, hidden, act, permutation, num_classes, seed
    )


def naf(
    data_shape: Sequence[int],
    num_classes: int | None = None,
    form: str = "autoregressive",
    num_layers: int = 5,
    sigmoids: int = 16,
    hidden: Sequence[int] = (64, 64),
    act: str = "relu",
    permutation: str = "reverse",
    seed: int = 0,
) -> Transform:
    """Neural Autoregressive Flow with deep sigmoidal transformers of ``sigmoids`` units."""
    make = partial(DeepSigmoid, sigmoids)
    make()
    return elementwise_flow(
        data_shape, make, form, num_layers, hidden, act, permutation, num_classes, seed
    )


def sos(
    data_shape: Sequence[int],
    num_classes: int | None = None,
    form: str = "autoregressive",
    num_layers: int = 5,
    polynomials: int = 4,
    degree: int = 3,
    hidden: Sequence[int] = (64, 64),
    act: str = "relu",
    permutation: str = "reverse",
    seed: int = 0,
) -> Transform:
    """SOS flow: ``polynomials`` squared polynomials of ``degree``, integrated exactly."""
    make = partial(SOSPolynomial, polynomials, degree)
    make()
    return elementwise_flow(
        data_shape, make, form, num_layers, hidden, act, permutation, num_classes, seed
    )


def umnn(
    data_shape: Sequence[int],
    num_classes: int | None = None,
    form: str = "autoregressive",
    num_layers: int = 5,
    embedding: int = 8,
    integrand: Sequence[int] = (32, 32),
    nodes: int = 40,
    hidden: Sequence[int] = (64, 64),
    act: str = "relu",
    permutation: str = "reverse",
    seed: int = 0,
) -> Transform:
    """UMNN-MAF: ``embedding`` conditioner features per variable, an ``integrand`` MLP and
    Clenshaw-Curtis quadrature on ``nodes + 1`` points."""
    make = partial(UMNN, embedding, integrand, nodes)
    make()
    return elementwise_flow(
        data_shape, make, form, num_layers, hidden, act, permutation, num_classes, seed
    )


def cubic_spline_flow(
    data_shape: Sequence[int],
    num_classes: int | None = None,
    form: str = "coupling",
    num_layers: int = 5,
    bins: int = 8,
    bound: float = 5.0,
    hidden: Sequence[int] = (64, 64),
    act: str = "relu",
    permutation: str = "reverse",
    min_width: float = 1e-3,
    min_height: float = 1e-3,
    seed: int = 0,
) -> Transform:
    """Cubic-spline flow: monotone cubic spline couplings (or autoregressive layers)."""
    make = partial(CubicSpline, bins, bound, min_width, min_height)
    make()
    return elementwise_flow(
        data_shape, make, form, num_layers, hidden, act, permutation, num_classes, seed
    )
