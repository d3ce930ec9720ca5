"""Crash-safe checkpoint files: a Lightning ``CheckpointIO`` that never leaves a partial file.

A checkpoint is serialized into a temporary file next to its target, flushed and fsynced, then
renamed over the target with ``os.replace`` (atomic on POSIX), and the directory is fsynced so
the rename survives a power cut. Killing the process at any moment therefore leaves either the
previous ``last.ckpt`` or the complete new one. A failed write (a full disk, a quota, a revoked
mount) removes the temporary file, keeps the previous checkpoint and raises a one-line
``CheckpointError``. A checkpoint whose weights hold NaN is refused, so ``last.ckpt`` always
holds the last good weights. Loading goes through ``gens.utils.checkpoint.read_checkpoint``
(``weights_only=True``; corrupt, truncated or pickled-code files are clear errors).

The trainer config wires it in by default (``configs/trainer/default.yaml``: ``plugins``).
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import IO, Any

import torch
from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO

from gens.utils.checkpoint import read_checkpoint
from gens.utils.errors import CheckpointError

__all__ = ["AtomicCheckpointIO", "atomic_torch_save", "nan_tensors"]


def nan_tensors(state: dict[str, Any], limit: int = 3) -> list[str]:
    """Names of (up to ``limit``) floating tensors in a state dict that contain NaN."""
    bad = []
    for k, v in state.items():
        if torch.is_tensor(v) and v.is_floating_point() and bool(torch.isnan(v).any()):
            bad.append(k)
            if len(bad) >= limit:
                break
    return bad


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms cannot open directories; the rename itself is atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _dump(obj: Any, f: IO[bytes]) -> None:
    torch.save(obj, f)


def atomic_torch_save(obj: Any, path: str | Path, dump=_dump) -> None:
    """``torch.save(obj, path)`` through a fsynced temp file and an atomic rename.

    On any failure the temp file is removed, ``path`` is untouched and a ``CheckpointError``
    names the file and the cause (``OSError``s such as ENOSPC keep their errno in ``__cause__``).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise _write_error(path, e) from e
    try:
        with os.fdopen(fd, "wb") as f:
            dump(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:  # KeyboardInterrupt too: never leave the temp file behind
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError | RuntimeError):
            raise _write_error(path, e) from e
        raise
    _fsync_dir(path.parent)


def _write_error(path: Path, e: BaseException) -> CheckpointError:
    # torch.save wraps I/O failures of its zip writer in RuntimeError; look for the errno too
    code = getattr(e, "errno", None)
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    if code in (errno.ENOSPC, errno.EDQUOT) or "No space left" in text:
        return CheckpointError(
            f"disk full while writing checkpoint {path}; the previous checkpoint there is kept. "
            "Free space (or point paths.log_dir at a larger disk) and resume with "
            f"ckpt_path={path.parent / 'last.ckpt'}"
        )
    return CheckpointError(
        f"cannot write checkpoint {path}: {type(e).__name__}: {text}; the previous checkpoint "
        "there is kept"
    )


class AtomicCheckpointIO(TorchCheckpointIO):
    """``TorchCheckpointIO`` with atomic, fsynced writes, NaN refusal and safe, clear loading."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        bad = nan_tensors(checkpoint.get("state_dict", {}))
        if bad:
            raise CheckpointError(
                f"refusing to write {path}: weights {', '.join(bad)} hold NaN (training "
                "diverged); the previous checkpoint is kept"
            )
        atomic_torch_save(checkpoint, path, dump=self.dump)

    def dump(self, checkpoint: dict[str, Any], f: IO[bytes]) -> None:
        """Serialize into the open temp file (a hook for tests that slow or break the write)."""
        _dump(checkpoint, f)

    def load_checkpoint(self, path, map_location: Any | None = None, weights_only=None):
        if weights_only is False:
            raise CheckpointError(
                "gens loads checkpoints with weights_only=True only (no code execution)"
            )
        return read_checkpoint(path, map_location=map_location or "cpu")
