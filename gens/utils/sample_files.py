"""Reading samples written by any generator: a ``.npz`` (``x`` float NCHW in [-1, 1] as
``gens-sample`` writes, or uint8 images NHWC/NCHW, e.g. ``arr_0``) or a folder of image
files (PNG, JPEG, ...)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gens.utils.errors import DataError

__all__ = ["load_samples", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


def _from_array(a: np.ndarray, path: Path, shape) -> torch.Tensor:
    if a.dtype == np.uint8:
        if a.ndim == 3:
            a = a[:, None]
        if a.ndim == 4 and a.shape[-1] in (1, 3) and a.shape[1] not in (1, 3):
            a = a.transpose(0, 3, 1, 2)  # NHWC -> NCHW
        return torch.from_numpy(np.ascontiguousarray(a)).float() / 127.5 - 1.0
    if not np.issubdtype(a.dtype, np.floating):
        raise DataError(f"{path}: samples must be float in [-1, 1] or uint8, got {a.dtype}")
    x = torch.from_numpy(a.astype(np.float32))
    if len(shape) == 3 and x.dim() == 3 and shape[0] == 1:
        x = x[:, None]
    return x


def _from_folder(path: Path, shape) -> torch.Tensor:
    from PIL import Image, UnidentifiedImageError

    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) under {path}")
    c, h, w = shape
    out = []
    for f in files:
        try:
            img = Image.open(f).convert("L" if c == 1 else "RGB")
        except (OSError, UnidentifiedImageError) as e:
            raise DataError(f"cannot read image {f}: {e}") from None
        if img.size != (w, h):
            img = img.resize((w, h), Image.BILINEAR)
        a = np.asarray(img, dtype=np.uint8)
        out.append(a[None] if a.ndim == 2 else a.transpose(2, 0, 1))
    return torch.from_numpy(np.stack(out)).float() / 127.5 - 1.0


def load_samples(path: str | Path, shape) -> torch.Tensor:
    """Samples as a float tensor in data space, checked against the data ``shape``."""
    path = Path(path)
    if path.is_dir():
        x = _from_folder(path, shape)
    elif path.is_file():
        try:
            with np.load(path, allow_pickle=False) as f:
                key = "x" if "x" in f.files else ("arr_0" if "arr_0" in f.files else None)
                if key is None:
                    raise DataError(f"{path} holds no 'x' (or 'arr_0') array: {f.files}")
                x = _from_array(f[key], path, shape)
        except DataError:
            raise
        except Exception as e:
            raise DataError(
                f"cannot read samples {path}: {type(e).__name__}: {e} (expected a .npz)"
            ) from None
    else:
        raise DataError(f"samples not found: {path}; pass samples=<file.npz or image folder>")
    if tuple(x.shape[1:]) != tuple(shape) and not (len(shape) == 3 and x.dim() == 4):
        raise DataError(
            f"{path}: samples of shape {tuple(x.shape[1:])} do not match the data's {tuple(shape)}"
        )
    if len(x) < 2:
        raise DataError(f"{path}: need at least 2 samples, got {len(x)}")
    return x
