"""Real-data features for FID / KID, computed once per (data set, split, extractor, size) and
cached on disk.

A cache file is named after its key, ``<data set>_<split>_<extractor>-<weights digest>_<n>_
<data config digest>.pt``, holds ``{"features": float32 (N, D), "key": {...}}`` and is read with
``weights_only=True``; a corrupt or mismatching file is recomputed and replaced (atomically).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from gens.utils.errors import ConfigError
from gens.utils.io import atomic_write_bytes
from gens.utils.logging import get_logger

__all__ = ["cached_features", "config_digest", "dataset_key", "real_batches"]

log = get_logger(__name__)

# data config entries that do not change which images a split holds
_IRRELEVANT = {"batch_size", "eval_batch_size", "num_workers", "pin_memory", "download"}


def dataset_key(dm) -> str:
    """Short name of a data module's set, e.g. ``digits`` or ``mnist``."""
    name = getattr(dm, "name", None)
    if not isinstance(name, str) or not name:
        name = type(dm).__name__.removesuffix("DataModule").lower()
    return name


def config_digest(cfg: dict[str, Any] | None) -> str:
    cfg = {k: v for k, v in (cfg or {}).items() if k not in _IRRELEVANT}
    return hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()[:8]


def real_batches(dm, split: str, n: int, batch_size: int = 500) -> Iterator[torch.Tensor]:
    """The first ``n`` images of a split, in batches (in-memory ``splits`` when the module has
    them, else its data loader)."""
    splits = getattr(dm, "splits", None)
    if isinstance(splits, dict) and split in splits:
        x = splits[split][0][:n]
        for i in range(0, len(x), batch_size):
            yield x[i : i + batch_size]
        return
    loaders = {"train": "train_dataloader", "val": "val_dataloader", "test": "test_dataloader"}
    if split not in loaders:
        raise ConfigError(f"real_split must be one of {', '.join(loaders)}, got {split!r}")
    seen = 0
    for batch in getattr(dm, loaders[split])():
        x = batch[0] if isinstance(batch, list | tuple) else batch
        x = x[: n - seen]
        seen += len(x)
        yield x
        if seen >= n:
            return


def cached_features(
    cache_dir: str | Path | None, key: dict[str, Any], compute: Callable[[], torch.Tensor]
) -> tuple[torch.Tensor, bool]:
    """``(features, hit)``: the cached features for ``key`` or ``compute()``'s, then stored."""
    if cache_dir is None:
        return compute().float(), False
    parts = [key["data"], key["split"], f"{key['extractor']}-{key['digest']}", str(key["n"])]
    path = Path(cache_dir) / ("_".join(parts + [key.get("config", "")]).strip("_") + ".pt")
    if path.is_file():
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
            if blob.get("key") == json.dumps(key, sort_keys=True):
                log.info(f"real features from cache {path}")
                return blob["features"], True
            log.warning(f"cache file {path} holds another key; recomputing it")
        except Exception as e:
            log.warning(f"unreadable cache file {path} ({type(e).__name__}); recomputing it")
    feats = compute().float()
    buf = io.BytesIO()
    torch.save({"features": feats, "key": json.dumps(key, sort_keys=True)}, buf)
    try:
        atomic_write_bytes(path, buf.getvalue())
        log.info(f"cached real features in {path}")
    except OSError as e:  # a read-only cache directory only costs recomputation
        log.warning(f"cannot write the feature cache {path}: {e}")
    return feats, False
