"""How many scales a multi-scale flow (Dinh et al. 2017, RealNVP Sec. 3.6; Kingma & Dhariwal
2018, Glow) gets on ``h x w`` images: every squeeze halves both sides exactly."""

from __future__ import annotations

from gens.flows.transforms.reshape import max_squeezes
from gens.utils.errors import IncompatibleDataError
from gens.utils.logging import get_logger

__all__ = ["multiscale_levels"]

log = get_logger(__name__)


def multiscale_levels(name: str, h: int, w: int, levels: int, unsqueezed: int, fit: bool) -> int:
    """``levels`` scales of which the last ``unsqueezed`` do not squeeze; with ``fit`` lowered
    (with a warning) to what the resolution allows. Raises when H and W do not divide."""
    allowed = max_squeezes(h, w) + unsqueezed
    if levels > allowed and fit:
        log.warning(
            "%s: %dx%d images allow %d levels, not %d; using %d",
            name,
            h,
            w,
            allowed,
            levels,
            allowed,
        )
        levels = allowed
    factor = 2 ** (levels - unsqueezed)
    if h % factor or w % factor:
        raise IncompatibleDataError(
            f"{name} with levels={levels} needs H and W divisible by {factor}, got {h}x{w}; "
            "set model.transform.levels lower or resize the data"
        )
    return levels
