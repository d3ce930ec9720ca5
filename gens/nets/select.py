"""Pick a network factory by the kind of data, so one ``model=`` config serves 2-D points and
images (e.g. WGAN-GP: an MLP critic on toy sets, a BatchNorm-free conv critic on images).

In a config::

    generator:
      _target_: gens.nets.by_data_kind
      _partial_: true
      vector: {_target_: gens.nets.MLPGenerator, _partial_: true, hidden: [512, 512]}
      image: {_target_: gens.nets.DCGANGenerator, _partial_: true}
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from gens.utils.errors import IncompatibleDataError

__all__ = ["by_data_kind"]


def by_data_kind(
    vector: Callable[..., nn.Module] | None = None,
    image: Callable[..., nn.Module] | None = None,
    **kwargs,
) -> nn.Module:
    """Build ``image(**kwargs)`` for ``(C, H, W)`` data and ``vector(**kwargs)`` otherwise."""
    shape = tuple(kwargs.get("data_shape", ()))
    kind = "image" if len(shape) == 3 else "vector"
    factory = image if kind == "image" else vector
    if factory is None:
        raise IncompatibleDataError(
            f"this model has no network for {kind} data (shape {shape}); "
            f"pick a data= of the other kind or set the model's '{kind}' network"
        )
    return factory(**kwargs)
