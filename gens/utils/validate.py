"""Checks of a composed config that must fail before anything trains, with one-line errors.

Models and data modules check their own arguments in ``__init__``; this module checks what
only appears once everything is composed (optimizer settings, trainer budget, checkpoints).
"""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import DictConfig, ListConfig

from gens.utils.errors import ConfigError

__all__ = ["validate_config", "walk"]


def walk(node, path: str = ""):
    """Yield ``(dotted_path, DictConfig)`` for every mapping in the config tree."""
    if isinstance(node, DictConfig):
        yield path, node
        for k in node.keys():
            child = node._get_node(k)
            if isinstance(child, DictConfig | ListConfig):
                yield from walk(node[k], f"{path}.{k}" if path else str(k))
    elif isinstance(node, ListConfig):
        for i, v in enumerate(node):
            yield from walk(v, f"{path}[{i}]")


def _number(path: str, value, key: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{path}.{key} must be a number, got {value!r}") from None


def _check_seed_and_devices(cfg: DictConfig) -> None:
    seed = cfg.get("seed")
    if seed is not None and (isinstance(seed, bool) or not str(seed).lstrip("-").isdigit()):
        raise ConfigError(f"seed must be an integer (or null for a random one), got {seed!r}")
    accelerator = str(cfg.get("trainer", {}).get("accelerator", ""))
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"trainer.accelerator={accelerator} needs a CUDA GPU and PyTorch sees none; drop "
            "trainer=gpu (or set trainer.accelerator=cpu) to train on the CPU"
        )


def validate_config(cfg: DictConfig) -> None:
    _check_seed_and_devices(cfg)
    for path, node in walk(cfg.get("model")):
        target = str(node.get("_target_", ""))
        if target.startswith("torch.optim.") and "lr_scheduler" not in target and "lr" in node:
            lr = _number(f"model.{path}", node.lr, "lr")
            if not lr > 0:
                raise ConfigError(f"model.{path}.lr must be > 0, got {node.lr}")
    trainer = cfg.get("trainer", {})
    for key in ("max_epochs", "max_steps"):
        val = trainer.get(key)
        if val is not None and (isinstance(val, bool) or not str(val).lstrip("-").isdigit()):
            raise ConfigError(f"trainer.{key} must be an integer (-1: no limit), got {val!r}")
        if val is not None and int(val) == 0:
            raise ConfigError(f"trainer.{key}=0 trains nothing; set it to a positive number or -1")
    if trainer.get("sync_batchnorm") and trainer.get("accelerator") == "cpu":
        raise ConfigError(
            "trainer.sync_batchnorm=true needs GPUs (PyTorch's DDP rejects SyncBatchNorm on "
            "CPU); set trainer.sync_batchnorm=false for CPU runs such as trainer=ddp_sim"
        )
    ckpt = cfg.get("ckpt_path")
    if ckpt and not Path(str(ckpt)).is_file():
        raise ConfigError(
            f"ckpt_path={ckpt} does not exist; point it at a .ckpt file or a run directory"
        )
