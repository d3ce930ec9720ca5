"""What a resume checks before it trains: the checkpoint is gens', of the model class this
config builds, with the same parameter shapes, trained on the same data."""

from __future__ import annotations

import torch
from omegaconf import DictConfig, OmegaConf

from gens.utils.checkpoint import read_checkpoint
from gens.utils.errors import CheckpointError

__all__ = ["check_resume"]


# Data config keys that say which data a model was trained on (others, such as the batch size,
# the loader options or where the files are, may change on resume).
DATA_IDENTITY = ("_target_", "name", "energy", "category", "image_size", "attributes")


def _check_resume_data(path: str, stored: dict | None, data_cfg: DictConfig) -> None:
    if not stored:
        return
    mine = OmegaConf.to_container(data_cfg, resolve=True)
    diff = [
        f"data.{k}: {stored.get(k)} in the checkpoint, {mine.get(k)} here"
        for k in DATA_IDENTITY
        if (k in stored or k in mine) and stored.get(k) != mine.get(k)
    ]
    if diff:
        raise CheckpointError(
            f"{path} was trained on other data ({'; '.join(diff)}); resume with the data= of "
            "that run, or start a new run (ckpt_path=null)"
        )


def check_resume(path: str, model, data_cfg: DictConfig) -> None:
    ckpt = read_checkpoint(path)
    stored = ckpt.get("gens", {}).get("class")
    mine = f"{type(model).__module__}.{type(model).__qualname__}"
    if stored is None:
        raise CheckpointError(f"{path} was not written by gens; cannot resume from it")
    if stored != mine:
        raise CheckpointError(
            f"{path} holds a {stored.rsplit('.', 1)[-1]} but model= builds a "
            f"{type(model).__name__}; pick the model= of that run or another checkpoint"
        )
    _check_resume_data(path, ckpt["gens"].get("meta", {}).get("data"), data_cfg)
    mine_sd = model.state_dict()
    for key, value in ckpt["state_dict"].items():
        want = mine_sd.get(key)
        if want is None or not torch.is_tensor(value) or want.shape == value.shape:
            continue
        raise CheckpointError(
            f"{path}: {key} has shape {tuple(value.shape)} but this config builds "
            f"{tuple(want.shape)}; resume with the model= and data= of that run"
        )
