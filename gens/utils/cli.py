"""Shared pieces of the ``scripts/`` entry points: one-line errors and exit code 2, like
``train.py``."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

from hydra.errors import InstantiationException

from gens.utils.errors import GensError

__all__ = ["gens_errors", "split_tensors"]


def gens_errors(fn: Callable) -> Callable:
    """Run ``fn``; a ``GensError`` (also inside a Hydra instantiation error) becomes
    ``gens: error: ...`` on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (GensError, InstantiationException) as e:
            err = e
            while isinstance(err, InstantiationException) and err.__cause__ is not None:
                err = err.__cause__
            if not isinstance(err, GensError):
                raise
            print(f"gens: error: {err}", file=sys.stderr)
            sys.exit(2)

    return wrapper


def split_tensors(dm, split: str):
    """``(x, y)`` of a whole split of a set-up data module (in-memory ``splits`` when the module
    has them, else concatenated from its data loader)."""
    import torch

    splits = getattr(dm, "splits", None)
    if isinstance(splits, dict) and split in splits:
        return splits[split][0], splits[split][1]
    loader = getattr(dm, f"{split}_dataloader")()
    xs, ys = zip(*((b[0], b[1]) for b in loader))
    return torch.cat(xs), torch.cat(ys)
