"""Evaluate a generator.

``gens-evaluate ckpt_path=...`` rebuilds the model from its checkpoint (weights only), reruns
Lightning's test stage with the configured metric callbacks (FID / IS / KID, modes and MMD,
``test/cond_acc`` of conditional models, the linear probe of models with an encoder) and writes
the ``test/*`` metrics as JSON (what the training run wrote to ``metrics.json``). The test
stage draws ``callbacks.image_metrics.n_test`` samples for FID / IS / KID (``n`` is the
validation-time count, which this tool does not use: overriding it alone is an error that names
``n_test``).

``gens-evaluate samples=<npz | folder> data=<set>`` scores samples of any generator against a
data set: FID / IS / KID for images, mode coverage and MMD^2 for vectors.
"""

from __future__ import annotations

import json
from pathlib import Path

import hydra
import pytorch_lightning as pl
import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from gens.callbacks.cond_accuracy import ConditionalAccuracy
from gens.callbacks.image_metrics import ImageMetrics
from gens.callbacks.linear_probe import LinearProbe
from gens.callbacks.vector_metrics import VectorMetrics
from gens.cli.common import app, integer, split_tensors
from gens.metrics.extractors import choose_extractor, load_extractor
from gens.metrics.fidelity import FidelityMetrics, extract_features
from gens.metrics.mmd import mmd2
from gens.metrics.modes import mode_metrics
from gens.metrics.real_stats import cached_features, config_digest, dataset_key, real_batches
from gens.utils.checkpoint import fit_sampler, load_model
from gens.utils.errors import ConfigError
from gens.utils.io import write_json_atomic
from gens.utils.sample_files import load_samples

__all__ = ["evaluate", "evaluate_checkpoint", "evaluate_samples", "main"]

METRIC_CALLBACKS = (ImageMetrics, VectorMetrics, ConditionalAccuracy, LinearProbe)
# Keys that do nothing in a test stage, and the key that does what they mean there.
TEST_STAGE_KEYS = {"callbacks.image_metrics.n": "callbacks.image_metrics.n_test"}


def overridden(key: str) -> bool:
    """Whether the command line set ``key`` (``key=``, ``+key=`` or ``++key=``)."""
    try:
        task = HydraConfig.get().overrides.task
    except ValueError:  # called outside a Hydra app
        return False
    return any(o.split("=", 1)[0].lstrip("+~") == key for o in task)


def check(cfg: DictConfig) -> None:
    """The options, before anything is loaded or written."""
    if bool(cfg.ckpt_path) == bool(cfg.samples):
        raise ConfigError(
            "give exactly one of ckpt_path=<checkpoint> or samples=<npz|folder> (with data=<set>)"
        )
    integer(cfg, "seed")
    if cfg.ckpt_path:
        for key, instead in TEST_STAGE_KEYS.items():
            if overridden(key) and not overridden(instead):
                raise ConfigError(
                    f"{key} is the sample count of validation during training, which evaluate "
                    f"does not run; its test stage draws {instead}: pass {instead}=<n> instead"
                )
        return
    for key in ("n_real", "kid_subsets", "kid_subset_size", "is_splits"):
        integer(cfg, key, 1)


def evaluate_checkpoint(cfg: DictConfig) -> tuple[dict[str, float], Path]:
    ckpt = Path(cfg.ckpt_path)
    model = load_model(ckpt)
    data_cfg = cfg.data if cfg.get("data") else OmegaConf.create(model.gens_meta["data"])
    dm = hydra.utils.instantiate(data_cfg)
    if tuple(dm.shape) != tuple(model.data_shape):
        raise ConfigError(
            f"data={dataset_key(dm)} has shape {tuple(dm.shape)} but the model makes "
            f"{tuple(model.data_shape)}; pick a data set of that shape"
        )
    fit_sampler(model, OmegaConf.to_container(data_cfg, resolve=True))
    callbacks = [
        hydra.utils.instantiate(c)
        for c in (cfg.get("callbacks") or {}).values()
        if isinstance(c, DictConfig) and "_target_" in c
    ]
    callbacks = [c for c in callbacks if isinstance(c, METRIC_CALLBACKS)]
    trainer = pl.Trainer(
        accelerator="cpu" if not torch.cuda.is_available() else "auto",
        devices=1,
        logger=False,
        callbacks=callbacks,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    pl.seed_everything(int(cfg.seed), verbose=False)
    trainer.test(model, datamodule=dm, verbose=False, weights_only=True)
    metrics = {
        k: float(v)
        for k, v in trainer.callback_metrics.items()
        if k.startswith("test/") and v.numel() == 1
    }
    out = Path(cfg.out) if cfg.out else ckpt.with_name(f"{ckpt.stem}.metrics.json")
    return metrics, out


def _image_scores(cfg: DictConfig, dm, x: torch.Tensor) -> dict[str, float]:
    choice, reason = choose_extractor(
        cfg.extractor, dataset_key(dm), [Path(cfg.paths.data_dir) / "classifiers"]
    )
    if choice is None:
        raise ConfigError(reason)
    ex = load_extractor(choice)
    metrics = FidelityMetrics(ex, cfg.kid_subsets, cfg.kid_subset_size, cfg.is_splits)
    key = {
        "data": dataset_key(dm),
        "shape": "x".join(str(s) for s in dm.shape),
        "split": cfg.real_split,
        "extractor": choice.name,
        "digest": ex.digest,
        "n": int(cfg.n_real),
        "config": config_digest(OmegaConf.to_container(cfg.data, resolve=True)),
    }
    feats, _ = cached_features(
        Path(cfg.paths.data_dir) / "feature_cache",
        key,
        lambda: extract_features(ex, real_batches(dm, cfg.real_split, int(cfg.n_real))),
    )
    metrics.set_real(feats.double())
    for i in range(0, len(x), 500):
        metrics.update(x[i : i + 500].clamp(-1, 1))
    return {**metrics.compute(int(cfg.seed)), "n": len(x), "n_real": len(feats)}


def evaluate_samples(cfg: DictConfig) -> tuple[dict[str, float], Path]:
    if not cfg.get("data"):
        raise ConfigError("samples= needs data=<set> to compare with, e.g. data=digits")
    dm = hydra.utils.instantiate(cfg.data)
    dm.setup("fit")
    dm.setup("test")
    x = load_samples(cfg.samples, dm.shape)
    if dm.kind == "image":
        result = _image_scores(cfg, dm, x)
    else:
        x = x.reshape(len(x), -1)
        result = {"n": len(x)}
        if getattr(dm, "modes", None) is not None:
            result.update(mode_metrics(x, dm.modes, dm.mode_std))
        held_out = split_tensors(dm, cfg.vector_split)[0]
        result["mmd"] = mmd2(x[:1000], held_out[:1000])
    samples = Path(cfg.samples)
    out = Path(cfg.out) if cfg.out else samples.with_name(f"{samples.name}.metrics.json")
    return result, out


def evaluate(cfg: DictConfig) -> dict[str, float]:
    check(cfg)
    metrics, out = evaluate_checkpoint(cfg) if cfg.ckpt_path else evaluate_samples(cfg)
    if not metrics:
        raise ConfigError("no metric applies to this model and data (nothing was logged)")
    write_json_atomic(out, metrics)
    print(json.dumps(metrics, indent=2, sort_keys=True))
    print(f"wrote {out}")
    return metrics


main = app("evaluate.yaml", evaluate)

if __name__ == "__main__":
    main()
