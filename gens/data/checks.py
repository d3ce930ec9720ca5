"""Checks every on-disk data module runs in ``__init__``, before anything is trained or written.

A missing or empty folder is a one-line ``DataError`` that names the path looked in and how to
get the data, so ``python train.py data=<set>`` fails before a run directory fills up.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from gens.utils.errors import DataError

__all__ = ["require_dir", "require_files"]


def require_dir(path: str | Path, name: str, how_to_get: str) -> Path:
    """``path`` as a ``Path`` if it is a folder holding at least one non-hidden entry."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{name} not found: {path} does not exist; {how_to_get}")
    if not path.is_dir():
        raise DataError(f"{name}: {path} is not a folder; {how_to_get}")
    if not any(not p.name.startswith(".") for p in path.iterdir()):
        raise DataError(f"{name}: folder {path} is empty; {how_to_get}")
    return path


def require_files(
    root: str | Path, patterns: Iterable[str], name: str, how_to_get: str
) -> list[Path]:
    """Files under ``root`` matching any glob pattern (recursively); a ``DataError`` if none."""
    root = require_dir(root, name, how_to_get)
    patterns = list(patterns)
    files = sorted({p for pat in patterns for p in root.rglob(pat) if p.is_file()})
    if not files:
        raise DataError(f"{name}: no {' / '.join(patterns)} files under {root}; {how_to_get}")
    return files
