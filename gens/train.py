"""The Hydra training task: data, model, callbacks, loggers, trainer; fit; test; metrics.json.

Run as ``python train.py [overrides]``. The shape follows ashleve's lightning-hydra-template:
the task returns the ``optimized_metric`` so Hydra sweepers (Optuna) can search over it.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import hydra
import pytorch_lightning as pl
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from gens.utils.checkpoint import read_checkpoint
from gens.utils.errors import CheckpointError, GensError
from gens.utils.io import write_json_atomic
from gens.utils.logging import get_logger
from gens.utils.summary import print_config, print_summary
from gens.utils.validate import validate_config

log = get_logger(__name__)

__all__ = ["train", "main"]


def _instantiate_group(group: DictConfig | None) -> list[Any]:
    if not group:
        return []
    return [
        hydra.utils.instantiate(c)
        for c in group.values()
        if isinstance(c, DictConfig) and "_target_" in c
    ]


def data_info(dm) -> dict[str, Any]:
    return {
        "kind": dm.kind,
        "shape": list(dm.shape),
        "num_classes": dm.num_classes,
        "num_levels": dm.num_levels,
    }


def build(cfg: DictConfig):
    """Instantiate data module and model (the model sizes itself from the data)."""
    try:
        dm = hydra.utils.instantiate(cfg.data)
        model = hydra.utils.instantiate(
            cfg.model,
            data_shape=tuple(dm.shape),
            num_classes=dm.num_classes,
            num_levels=dm.num_levels,
        )
    except InstantiationException as e:
        err = _unwrap(e)
        if isinstance(err, GensError):  # e.g. IncompatibleDataError: the caller can act on it
            raise err from None
        raise
    model.gens_meta = {
        "model": OmegaConf.to_container(cfg.model, resolve=True),
        "data": OmegaConf.to_container(cfg.data, resolve=True),
        "data_info": data_info(dm),
    }
    return dm, model


def _check_resume(path: str, model) -> None:
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


def train(cfg: DictConfig) -> dict[str, float]:
    """Train and test one configuration; return the final metrics (also in metrics.json)."""
    validate_config(cfg)
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True, verbose=False)
    if cfg.get("matmul_precision"):
        torch.set_float32_matmul_precision(cfg.matmul_precision)

    dm, model = build(cfg)
    ckpt_path = cfg.get("ckpt_path")
    if ckpt_path:
        _check_resume(ckpt_path, model)
    callbacks = _instantiate_group(cfg.get("callbacks"))
    loggers = _instantiate_group(cfg.get("logger"))
    trainer: pl.Trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers)

    hparams = OmegaConf.to_container(cfg, resolve=True)
    hparams["model/params/total"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    for lg in trainer.loggers:
        lg.log_hyperparams(hparams)

    if cfg.get("train", True):
        trainer.fit(model, datamodule=dm, ckpt_path=ckpt_path, weights_only=True)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}

    if cfg.get("test", True):
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        test_ckpt = best if (best and cfg.get("train", True)) else None
        if test_ckpt is None:
            log.info("testing the final weights (no best checkpoint)")
        trainer.test(model, datamodule=dm, ckpt_path=test_ckpt, weights_only=True)
        metrics.update(
            {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
        )

    final = {k: v for k, v in metrics.items() if k.startswith("test/")}
    if not final:
        final = {k: v for k, v in metrics.items() if k.startswith("val/")}
    if trainer.is_global_zero:
        write_json_atomic(Path(cfg.paths.output_dir) / "metrics.json", final)
    return {**metrics, **final}


def _finish_wandb() -> None:
    if "wandb" in sys.modules:
        import wandb

        if wandb.run is not None:
            wandb.finish()


def _is_multirun() -> bool:
    try:
        return HydraConfig.get().mode == RunMode.MULTIRUN
    except ValueError:
        return False


def _unwrap(err: BaseException) -> BaseException:
    while isinstance(err, InstantiationException) and err.__cause__ is not None:
        err = err.__cause__
    return err


def _remove_if_empty_run(output_dir: Path) -> None:
    """A run that failed before training leaves no directory that could pass for a result."""
    if not output_dir.is_dir():
        return
    keep = {".hydra", "train.log"}
    if all(p.name in keep for p in output_dir.iterdir()):
        shutil.rmtree(output_dir, ignore_errors=True)


CONFIG_DIR = str(Path(__file__).resolve().parents[1] / "configs")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="train.yaml")
def main(cfg: DictConfig) -> float | None:
    if cfg.get("extras", {}).get("print_config"):
        print_config(cfg)
    output_dir = Path(cfg.paths.output_dir)
    try:
        metrics = train(cfg)
    except (GensError, InstantiationException) as e:
        err = _unwrap(e)
        if not isinstance(err, GensError) or _is_multirun():
            raise
        if not (output_dir / "checkpoints").exists():
            _remove_if_empty_run(output_dir)
        print(f"gens: error: {err}", file=sys.stderr)
        sys.exit(2)
    finally:
        _finish_wandb()
    if int(os.environ.get("LOCAL_RANK", "0")) == 0:
        print_summary(metrics, output_dir)
    name = cfg.get("optimized_metric")
    if name:
        if name not in metrics:
            raise GensError(f"optimized_metric '{name}' was not logged; logged: {sorted(metrics)}")
        return metrics[name]
    return None


if __name__ == "__main__":
    main()
