"""Rebuild any gens model from its checkpoint alone, without executing code from the file.

Checkpoints written by gens carry ``checkpoint["gens"]["meta"]``: the resolved model config and
the data description. Loading uses ``torch.load(weights_only=True)``, which refuses pickled
objects that would run code.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate

from gens.utils.errors import CheckpointError

__all__ = ["safe_load", "read_checkpoint", "load_model", "restore_weights", "fit_sampler"]


def safe_load(
    path: str | Path, map_location: str | torch.device = "cpu", what: str = "checkpoint"
) -> Any:
    """``torch.load(weights_only=True)`` for any gens file (checkpoints, cached statistics):
    never runs code from the file; every failure is a ``CheckpointError`` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"{what} not found: {path}; pass ckpt_path=<run dir>/checkpoints/last.ckpt"
            if what == "checkpoint"
            else f"{what} not found: {path}"
        )
    if path.stat().st_size == 0 or not zipfile.is_zipfile(path):
        raise CheckpointError(
            f"cannot read {what} {path}: not a PyTorch zip archive (corrupt, truncated, "
            "or a legacy/foreign pickle, which gens does not load)"
        )
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"refused to load {path}: it holds pickled objects that are not plain tensors or "
            f"containers{_culprit(e)}; loading it could run code. gens loads with "
            f"weights_only=True only; use {what} files you trust, written by gens"
        ) from e
    except Exception as e:  # truncated zip, not a torch file at all, ...
        raise CheckpointError(
            f"cannot read {what} {path}: {type(e).__name__}: {_first_line(e)} "
            "(corrupt, truncated or not a PyTorch file)"
        ) from e


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint dict safely; every failure is a ``CheckpointError`` naming the file."""
    ckpt = safe_load(path, map_location, "checkpoint")
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise CheckpointError(f"{path} is not a Lightning checkpoint (no 'state_dict')")
    return ckpt


def _culprit(e: BaseException) -> str:
    m = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(e))
    return f" (it references {m.group(1)})" if m else ""


def _first_line(e: BaseException) -> str:
    text = str(e)
    return text.splitlines()[0] if text else ""


def load_model(
    path: str | Path,
    map_location: str | torch.device = "cpu",
    expect: type | None = None,
    overrides: dict[str, Any] | None = None,
    strict: bool = True,
):
    """Instantiate the model stored in a gens checkpoint and load its weights (eval mode).

    ``overrides`` replace top-level entries of the stored model config (e.g. a sampling
    option); ``expect`` is the class the caller wants (a subclass is fine)."""
    ckpt = read_checkpoint(path, map_location)
    meta = ckpt.get("gens", {}).get("meta")
    if not meta:
        raise CheckpointError(f"{path} was not written by gens (no model config inside)")
    data = meta["data_info"]
    model = instantiate(
        {**meta["model"], **(overrides or {})},
        data_shape=tuple(data["shape"]),
        num_classes=data.get("num_classes"),
        num_levels=data.get("num_levels"),
    )
    if expect is not None and not isinstance(model, expect):
        raise CheckpointError(
            f"{path} holds a {type(model).__name__}, expected a {expect.__name__}"
        )
    model.load_state_dict(ckpt["state_dict"], strict=strict)
    model.gens_meta = meta
    model.load_extra_state(ckpt.get("gens", {}).get("extra", {}))
    return model.to(map_location).eval()


def restore_weights(model, path: str | Path) -> None:
    """Load a gens checkpoint's weights and model state into ``model`` (as Lightning's
    restore does: ``on_load_checkpoint``, then the state dict)."""
    ckpt = read_checkpoint(path, model.device)
    model.on_load_checkpoint(ckpt)
    model.load_state_dict(ckpt["state_dict"])


def fit_sampler(model, data_cfg: dict | None = None) -> bool:
    """Fit the fitted part of a loaded model's sampling (a GAN's rejection sampler) on the
    training data of its run (or of ``data_cfg``) when it is not fitted to these weights.
    Returns whether it fitted."""
    if not model.sampler_fit_needed():
        return False
    dm = instantiate(data_cfg or model.gens_meta["data"])
    dm.setup("fit")
    model.fit_sampler(dm.train_dataloader())
    return True
