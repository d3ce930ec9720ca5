"""Stacks of coupling or autoregressive layers around an elementwise transformer.

The transformer names the paper; its own options live with its class, and a config gives it as a
nested partial (``model.transform.transformer``):

- NSF (Durkan et al. 2019, rational-quadratic splines): ``RQSpline``
- cubic-spline flows (Durkan et al. 2019, monotone cubics): ``CubicSpline``
- NAF (Huang et al. 2018, deep sigmoidal): ``DeepSigmoid``
- SOS (Jaini et al. 2019, sum-of-squares polynomials): ``SOSPolynomial``
- UMNN (Wehenkel & Louppe 2019, integrated positive networks): ``UMNN``

``form="coupling"`` alternates which features condition (RealNVP's masks); ``"autoregressive"``
gives each layer's MADE a reversed or seeded-random input order (MAF's permutations). Images are
flattened around the stack. ``num_classes`` (from a class-conditional FlowModel) adds a one-hot
label context.

Example::

    flow = elementwise_flow((2,), partial(RQSpline, bins=8), num_layers=3, hidden=(16,))
    z, logdet = flow(torch.randn(8, 2))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import prod

from gens.flows.architectures.autoregressive import layer_orders
from gens.flows.transforms.base import Compose, Transform
from gens.flows.transforms.elementwise import TransformerAutoregressive, TransformerCoupling
from gens.flows.transforms.reshape import Flatten
from gens.flows.transforms.transformer import Transformer
from gens.utils.errors import ConfigError

__all__ = ["elementwise_flow"]

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
    """``num_layers`` layers, each with a fresh ``transformer()`` (a class or partial)."""
    transformer()  # one now, so that the transformer's bad settings fail before the stack's
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
