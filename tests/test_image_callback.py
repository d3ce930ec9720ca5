"""The ImageMetrics callback in real training runs: DCGAN on digits logs val/test FID, IS and
KID, checkpoints on val/fid, caches real features; vector data is left alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import gens.callbacks.image_metrics as image_metrics
from gens.train import train

SMALL_DCGAN = [
    "model=dcgan",
    "data=digits",
    "model.generator.width=8",
    "model.discriminator.width=8",
    "model.latent_dim=16",
    "callbacks.image_metrics.n=200",
    "callbacks.image_metrics.n_real=400",
]


def test_dcgan_digits_logs_fid_is_kid_and_reuses_cache(cfg_factory, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cfg = cfg_factory([*SMALL_DCGAN, f"callbacks.image_metrics.cache_dir={cache}"])
    metrics = train(cfg)
    out = Path(cfg.paths.output_dir)
    saved = json.loads((out / "metrics.json").read_text())
    for k in ("fid", "is", "kid"):
        assert saved[f"test/{k}"] == pytest.approx(metrics[f"test/{k}"])
        assert f"val/{k}" in metrics
    assert metrics["test/fid"] > 0 and 1.0 <= metrics["test/is"] <= 10.0
    # the model picks val/fid as the checkpoint monitor and best.ckpt follows it
    assert (out / "checkpoints" / "best.ckpt").is_file()
    (entry,) = cache.glob("digits_train_digits-*_400_*.pt")

    # a second run reads the cached real features instead of extracting them again
    def no_extraction(*a, **k):
        raise AssertionError("real features were recomputed")

    monkeypatch.setattr(image_metrics, "extract_features", no_extraction)
    # (another data seed would be another split, hence another cache entry)
    cfg2 = cfg_factory(
        [*SMALL_DCGAN, f"callbacks.image_metrics.cache_dir={cache}", "model.latent_dim=8"],
        sub="run2",
    )
    metrics2 = train(cfg2)
    assert "test/fid" in metrics2 and list(cache.glob("*.pt")) == [entry]


def test_evaluation_is_seeded(cfg_factory):
    from gens.callbacks import ImageMetrics

    cb = ImageMetrics(n=100, n_real=200, cache_dir=None)
    cfg = cfg_factory(SMALL_DCGAN[:5])
    from gens.train import build

    dm, model = build(cfg)
    dm.setup("fit")

    class _Trainer:  # the attributes the callback reads
        datamodule = dm

    cb.setup(_Trainer, model, "fit")
    assert cb.choice is not None
    a = cb.evaluate(_Trainer, model, seed=0)
    b = cb.evaluate(_Trainer, model, seed=0)
    c = cb.evaluate(_Trainer, model, seed=1)
    assert a == b and a["fid"] != c["fid"]


def test_vector_data_is_left_alone(cfg_factory):
    cfg = cfg_factory(["model=gan", "data=ring8", "data.n_train=2000"])
    metrics = train(cfg)
    assert not any(k.endswith(("/fid", "/is", "/kid")) for k in metrics)
    assert "test/rkl" in metrics


@pytest.mark.parametrize("every,expected", [(1000, 2), (1, 3)])
def test_evaluation_schedule(cfg_factory, every, expected):
    """First and last validation always evaluate; in between every ``every`` steps."""
    import pytorch_lightning as pl

    from gens.callbacks import ImageMetrics
    from gens.train import build

    dm, model = build(cfg_factory(SMALL_DCGAN[:5]))
    cb = ImageMetrics(n=32, n_real=64, every_n_steps=every)
    trainer = pl.Trainer(
        max_epochs=3,
        limit_train_batches=2,
        limit_val_batches=1,
        callbacks=[cb],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, datamodule=dm)
    assert cb.n_evals == expected and "val/fid" in trainer.callback_metrics
