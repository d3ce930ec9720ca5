"""The Hydra training task: data, model, callbacks, loggers, trainer; fit; test; metrics.json.

Run as ``python train.py [overrides]``. The shape follows ashleve's lightning-hydra-template:
the task returns the ``optimized_metric`` so Hydra sweepers (Optuna) can search over it.
"""

from __future__ import annotations

import os
import re
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
from lightning_fabric.utilities.exceptions import MisconfigurationException
from omegaconf import DictConfig, OmegaConf

from gens.callbacks.divergence import DivergenceGuard
from gens.callbacks.interrupt import GracefulInterrupt, TrainingInterrupted
from gens.utils.checkpoint import restore_weights
from gens.utils.divergence import DivergenceError
from gens.utils.errors import ConfigError, GensError
from gens.utils.hydra_ddp import ddp_job_scope
from gens.utils.io import write_json_atomic
from gens.utils.logging import get_logger
from gens.utils.quiet import silence_known_noise
from gens.utils.resume import check_resume
from gens.utils.run_dir import resolve_ckpt_path, restore_record, training_started
from gens.utils.secrets import redact
from gens.utils.summary import print_config, print_summary
from gens.utils.sweep import failure_value, objective
from gens.utils.sweep_report import job_done, job_failed
from gens.utils.validate import validate_config

log = get_logger(__name__)

__all__ = ["train", "main"]


def _instantiate_group(group: DictConfig | None, name: str) -> list[Any]:
    if not group:
        return []
    return [
        _instantiate(c, f"{name}.{key}")
        for key, c in group.items()
        if isinstance(c, DictConfig) and "_target_" in c
    ]


def data_info(dm) -> dict[str, Any]:
    return {
        "kind": dm.kind,
        "shape": list(dm.shape),
        "num_classes": dm.num_classes,
        "num_levels": dm.num_levels,
    }


def _instantiate(node: DictConfig, group: str, **kwargs):
    """``hydra.utils.instantiate`` whose user errors are one-line ``GensError``s: the error a
    gens class raised, or an option the class does not take."""
    try:
        return hydra.utils.instantiate(node, **kwargs)
    except InstantiationException as e:
        err = _unwrap(e)
        if isinstance(err, GensError):  # e.g. IncompatibleDataError: the caller can act on it
            raise err from None
        unknown = re.search(r"unexpected keyword argument '(\w+)'", str(err))
        if isinstance(err, TypeError) and unknown:
            key = unknown.group(1)
            hint = (
                "; regularizers are parts of model.regularizers, added with +reg=<name> "
                "(configs/reg/)"
                if group == "model" and re.search(r"r1|r2|gp|gamma|drift|ortho", key)
                else ""
            )
            raise ConfigError(
                f"{group}.{key} is not an option of {node.get('_target_')} (or of a network "
                f"it builds); remove it or check its spelling{hint}"
            ) from None
        # Lightning's Trainer rejects some values with TypeError (``devices=many``)
        rejected = isinstance(err, ValueError | MisconfigurationException) or (
            group == "trainer" and isinstance(err, TypeError)
        )
        if rejected:
            # a value the class rejects (Lightning's precision, an int('abc'), no GPU, ...);
            # the traceback stays in train.log for whoever debugs the class itself
            log.debug(f"instantiating {group} failed", exc_info=err)
            raise ConfigError(_bad_value(node, group, err)) from None
        raise


def _bad_value(node: DictConfig, group: str, err: BaseException) -> str:
    """One line for a value that a class rejected: the key that holds it where it can be
    found from the message, else the group."""
    text = " ".join(str(err).split()) or type(err).__name__
    quoted = set(re.findall(r"'([^']*)'", text))
    named = set(re.findall(r"`(\w+)`", text))
    plain = {k: v for k, v in node.items() if not OmegaConf.is_config(v) and v is not None}
    keys = [k for k, v in plain.items() if str(v) in quoted] or [k for k in plain if k in named]
    where = f"{group}.{keys[0]}={node[keys[0]]}" if keys else group
    return f"{where}: {text}"


def build(cfg: DictConfig):
    """Instantiate data module and model (the model sizes itself from the data)."""
    dm = _instantiate(cfg.data, "data")
    model = _instantiate(
        cfg.model,
        "model",
        data_shape=tuple(dm.shape),
        num_classes=dm.num_classes,
        num_levels=dm.num_levels,
    )
    model.check_data(dm)
    model.gens_meta = redact(
        {
            "model": OmegaConf.to_container(cfg.model, resolve=True),
            "data": OmegaConf.to_container(cfg.data, resolve=True),
            "data_info": data_info(dm),
        }
    )
    return dm, model


def train(cfg: DictConfig) -> dict[str, float]:
    """Train and test one configuration; return the final metrics (also in metrics.json)."""
    if cfg.get("ckpt_path"):
        cfg.ckpt_path = resolve_ckpt_path(cfg.ckpt_path)
    validate_config(cfg)
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True, verbose=False)
    if cfg.get("matmul_precision"):
        torch.set_float32_matmul_precision(cfg.matmul_precision)

    dm, model = build(cfg)
    ckpt_path = cfg.get("ckpt_path")
    if ckpt_path:
        check_resume(ckpt_path, model, cfg.data)
    callbacks = _instantiate_group(cfg.get("callbacks"), "callbacks")
    interrupt = GracefulInterrupt()
    callbacks += [DivergenceGuard(**cfg.get("divergence", {})), interrupt]
    loggers = _instantiate_group(cfg.get("logger"), "logger")
    trainer: pl.Trainer = _instantiate(cfg.trainer, "trainer", callbacks=callbacks, logger=loggers)

    hparams = redact(OmegaConf.to_container(cfg, resolve=True))
    hparams["model/params/total"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    for lg in trainer.loggers:
        lg.log_hyperparams(hparams)

    training_started(Path(cfg.paths.output_dir))
    if cfg.get("train", True):
        trainer.fit(model, datamodule=dm, ckpt_path=ckpt_path, weights_only=True)
        interrupt.raise_if_interrupted()
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}

    if cfg.get("test", True):
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        if best and cfg.get("train", True):
            restore_weights(model, best)
        else:
            log.info("testing the final weights (no best checkpoint)")
        if model.sampler_fit_needed():  # e.g. rejection sampling, fitted to the tested weights
            dm.setup("fit")
            # a fast_dev_run is one batch of everything, the sampler's fit included
            model.fit_sampler(dm.train_dataloader(), steps=1 if trainer.fast_dev_run else None)
        trainer.test(model, datamodule=dm)
        metrics.update(
            {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
        )

    final = {k: v for k, v in metrics.items() if k.startswith("test/")}
    if not final:
        final = {k: v for k, v in metrics.items() if k.startswith("val/")}
    if trainer.is_global_zero:
        write_json_atomic(Path(cfg.paths.output_dir) / "metrics.json", final)
    return {**metrics, **final}


def finish_wandb() -> None:
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

    def setup_only(p: Path) -> bool:  # what Hydra and the loggers write before the first step
        if p.name in keep:
            return True
        return p.is_dir() and all(f.name == "hparams.yaml" for f in p.rglob("*") if f.is_file())

    if all(setup_only(p) for p in output_dir.iterdir()):
        shutil.rmtree(output_dir, ignore_errors=True)


CONFIG_DIR = str(Path(__file__).resolve().parents[1] / "configs")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="train.yaml")
def main(cfg: DictConfig) -> float | None:
    silence_known_noise()
    if cfg.get("extras", {}).get("print_config"):
        print_config(cfg)
    output_dir = Path(cfg.paths.output_dir)
    try:
        with ddp_job_scope():  # DDP workers rerun this job only, and leave no state behind
            metrics = train(cfg)
            value = objective(cfg, metrics)  # the optimized_metric for sweepers, or None
    except TrainingInterrupted as e:
        print(f"gens: {e}", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        if not (output_dir / "checkpoints").exists():
            _remove_if_empty_run(output_dir)
        print("gens: interrupted before training started; nothing saved", file=sys.stderr)
        sys.exit(130)
    except Exception as e:
        err = _unwrap(e)
        if _is_multirun():
            # one line for the failed job, and the sweep goes on (gens.utils.sweep_report); a
            # trial of a search reports the worst value so the sampler moves away from it. The
            # job keeps its directory (its overrides and log) so the sweep's numbering is whole.
            worst = failure_value(cfg) if cfg.get("optimized_metric") else None
            job_failed(err, isinstance(err, GensError), output_dir, worst)
            return worst
        if isinstance(err, MisconfigurationException):  # a trainer setting Lightning rejects
            err = ConfigError(f"trainer: {' '.join(str(err).split())}")
        if not isinstance(err, GensError):
            raise
        # a run that diverged trained: its log says how far, so its directory stays
        if not isinstance(err, DivergenceError) and not (output_dir / "checkpoints").exists():
            _remove_if_empty_run(output_dir)
        restore_record(output_dir)
        print(f"gens: error: {err}", file=sys.stderr)
        sys.exit(2)
    finally:
        finish_wandb()
    if int(os.environ.get("LOCAL_RANK", "0")) == 0:
        print_summary(metrics, output_dir)
    if _is_multirun() and int(os.environ.get("LOCAL_RANK", "0")) == 0:
        job_done(cfg, metrics, value)
    return value


if __name__ == "__main__":
    main()
