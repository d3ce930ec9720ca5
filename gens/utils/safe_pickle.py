"""Unpickling data files that are pickles by format (CIFAR-10's python batches) without letting
them run code: an ``Unpickler`` that resolves only an allow-list of globals (the "restricting
globals" recipe of the ``pickle`` documentation). Plain containers, strings, bytes and numbers
need no globals; numpy arrays need only their reconstructor, ``ndarray`` and ``dtype``.
"""

from __future__ import annotations

import io
import pickle
from typing import IO, Any

__all__ = ["NUMPY_GLOBALS", "restricted_load"]

NUMPY_GLOBALS = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),  # pickles written by numpy 1.x
        ("numpy._core.multiarray", "_reconstruct"),  # numpy 2.x
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        (
            "_codecs",
            "encode",
        ),  # how protocol-2 pickles store bytes (torch's safe loader allows it)
    }
)


class _Restricted(pickle.Unpickler):
    def __init__(self, f: IO[bytes], allowed: frozenset, **kwargs):
        super().__init__(f, **kwargs)
        self.allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.allowed:
            raise pickle.UnpicklingError(
                f"refused to unpickle global {module}.{name}: not allowed in a data file "
                "(loading it could run code)"
            )
        return super().find_class(module, name)


def restricted_load(f: IO[bytes] | bytes, allowed=NUMPY_GLOBALS, **kwargs) -> Any:
    """``pickle.load`` that raises ``UnpicklingError`` on any global outside ``allowed``."""
    if isinstance(f, bytes | bytearray):
        f = io.BytesIO(f)
    return _Restricted(f, frozenset(allowed), **kwargs).load()
