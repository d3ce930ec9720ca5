"""FID, IS and KID of generated images during training and at test time.

Every ``every_n_steps`` global steps (checked at the end of each validation epoch, and always at
the first and last validation of a fit) the callback
draws ``n`` samples from a fixed seed -- from the EMA generator when the model keeps one, which
``GAN.sample`` does by default -- and logs ``val/fid``, ``val/is`` and ``val/kid`` against the
features of ``n_real`` real images of ``real_split`` (cached on disk per data set, split,
extractor and size). Between two evaluations the last values are logged again, so checkpoint
monitors on ``val/fid`` always find them (a stale value never counts as an improvement). At
test time it logs ``test/fid``, ``test/is`` and ``test/kid`` from another fixed seed.

The feature extractor comes from ``extractor`` (see ``gens.metrics.extractors``): ``auto``
takes the data set's own classifier (digits ships one), else InceptionV3 when its weights are
on disk, else skips the metrics with a warning. The callback does nothing on vector data.
Sampling uses its own ``torch.Generator``, so evaluation does not change training.
"""

from __future__ import annotations

import time

import pytorch_lightning as pl
import torch

from gens.metrics.extractors import ExtractorChoice, choose_extractor, load_extractor
from gens.metrics.fidelity import FidelityMetrics, extract_features
from gens.metrics.real_stats import cached_features, config_digest, dataset_key, real_batches
from gens.utils.errors import ConfigError
from gens.utils.logging import get_logger

__all__ = ["ImageMetrics", "sample_batches"]

log = get_logger(__name__)

LOGGED = ("fid", "is", "kid")


def sample_batches(model, n: int, seed: int, batch_size: int):
    """``n`` samples of ``model`` from a seeded generator, in batches, clamped to [-1, 1]."""
    g = torch.Generator(device=model.device).manual_seed(seed)
    for i in range(0, n, batch_size):
        yield model.sample(min(batch_size, n - i), generator=g).clamp(-1, 1)


def _last_validation(trainer) -> bool:
    """Whether this validation ends training (max_epochs / max_steps reached or a stop
    requested), so "best" checkpoints are judged on a fresh value at the end."""
    if trainer.should_stop:
        return True
    if trainer.max_steps is not None and trainer.max_steps > 0:
        if trainer.global_step >= trainer.max_steps:
            return True
    max_epochs = trainer.max_epochs
    if max_epochs is not None and max_epochs > 0 and trainer.current_epoch + 1 >= max_epochs:
        # the validation after the epoch's last training batch
        progress = trainer.fit_loop.epoch_loop.batch_progress
        return bool(getattr(progress, "is_last_batch", True))
    return False


class ImageMetrics(pl.Callback):
    """Args:
    extractor: ``auto`` | ``digits`` | ``inception`` | ``none`` | path to a classifier ``.pt``.
    every_n_steps: evaluate at the first validation end at least this many global steps after
        the previous evaluation; the first and the last validation of a fit always evaluate.
    n: generated samples per evaluation during training; n_test: at test time (default
        ``n``); n_real: real images (first ``n_real`` of the split).
    real_split: split the generated images are compared with (``train``, ``val``, ``test``).
    seed: sampling seed for ``val/``; ``test/`` uses ``seed + 1``.
    cache_dir: where real features are cached (``null``: no cache).
    classifier_dir: extra directory searched for ``<data set>_classifier.pt`` by ``auto``.
    inception_weights: InceptionV3 weights file (default: the torch hub cache).
    """

    def __init__(
        self,
        extractor: str | None = "auto",
        every_n_steps: int = 1000,
        n: int = 1000,
        n_test: int | None = 5000,
        n_real: int = 10000,
        real_split: str = "train",
        seed: int = 0,
        batch_size: int = 500,
        kid_subsets: int = 10,
        kid_subset_size: int = 1000,
        is_splits: int = 10,
        cache_dir: str | None = None,
        classifier_dir: str | None = None,
        inception_weights: str | None = None,
        download: bool = True,
    ):
        if int(n) < 2 or int(n_real) < 2:
            raise ConfigError(f"image_metrics needs n >= 2 and n_real >= 2, got {n}, {n_real}")
        if real_split not in ("train", "val", "test"):
            raise ConfigError(f"image_metrics.real_split must be train/val/test, got {real_split}")
        self.spec = extractor
        self.every_n_steps = max(1, int(every_n_steps))
        self.n, self.n_real, self.real_split = int(n), int(n_real), real_split
        self.n_test = self.n if n_test is None else int(n_test)
        if self.n_test < 2:
            raise ConfigError(f"image_metrics needs n_test >= 2, got {n_test}")
        self.seed, self.batch_size = int(seed), max(1, int(batch_size))
        self.kid = (int(kid_subsets), int(kid_subset_size))
        self.is_splits = int(is_splits)
        self.cache_dir = cache_dir
        self.classifier_dir = classifier_dir
        self.inception_weights = inception_weights
        self.download = bool(download)
        self.choice: ExtractorChoice | None = None
        self.metrics: FidelityMetrics | None = None
        self._real_key: dict | None = None
        self._last: dict[str, float] | None = None
        self._last_step = 0
        self.eval_seconds = 0.0  # wall time spent evaluating during fit (overhead)
        self.eval_cpu_seconds = 0.0  # the same in CPU time of this process
        self.n_evals = 0

    # --- set-up --------------------------------------------------------------------------
    def setup(self, trainer, pl_module, stage: str) -> None:
        dm = trainer.datamodule
        self.choice = None
        if getattr(dm, "kind", None) != "image" or not hasattr(pl_module, "sample"):
            return
        dirs = [self.classifier_dir] if self.classifier_dir else []
        self.choice, reason = choose_extractor(
            self.spec, dataset_key(dm), dirs, self.inception_weights
        )
        if self.choice is None and self.spec != "none":
            log.warning(reason)

    def _metrics(self, pl_module) -> FidelityMetrics:
        if self.metrics is None:
            extractor = load_extractor(self.choice, download=self.download)
            self.metrics = FidelityMetrics(extractor, *self.kid, is_splits=self.is_splits)
        return self.metrics.to(pl_module.device)

    def _set_real(self, trainer, pl_module, metrics: FidelityMetrics) -> None:
        dm = trainer.datamodule
        ex = metrics.extractor
        data_cfg = getattr(pl_module, "gens_meta", {}).get("data")
        key = {
            "data": dataset_key(dm),
            "shape": "x".join(str(s) for s in dm.shape),
            "split": self.real_split,
            "extractor": self.choice.name,
            "digest": ex.digest,
            "n": self.n_real,
            "config": config_digest(data_cfg) if data_cfg else "",
        }
        if key == self._real_key:
            return

        def compute():
            batches = real_batches(dm, self.real_split, self.n_real, self.batch_size)
            return extract_features(ex, batches, pl_module.device)

        feats, _ = cached_features(self.cache_dir, key, compute)
        metrics.set_real(feats.double())
        self._real_key = key

    # --- evaluation ----------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, trainer, pl_module, seed: int, n: int | None = None) -> dict[str, float]:
        metrics = self._metrics(pl_module)
        self._set_real(trainer, pl_module, metrics)
        metrics.reset()
        for x in sample_batches(pl_module, n or self.n, seed, self.batch_size):
            metrics.update(x)
        out = metrics.compute(seed)
        metrics.reset()
        return out

    def on_validation_epoch_end(self, trainer, pl_module):
        if trainer.sanity_checking or self.choice is None:
            return
        step = trainer.global_step
        due = self._last is None or step - self._last_step >= self.every_n_steps
        if due or (_last_validation(trainer) and step != self._last_step):
            t0, c0 = time.perf_counter(), time.process_time()
            self._last = self.evaluate(trainer, pl_module, self.seed)
            self.eval_seconds += time.perf_counter() - t0
            self.eval_cpu_seconds += time.process_time() - c0
            self.n_evals += 1
            self._last_step = step
        pl_module.log_dict({f"val/{k}": self._last[k] for k in LOGGED}, prog_bar=False)

    def on_test_epoch_end(self, trainer, pl_module):
        if self.choice is None:
            return
        m = self.evaluate(trainer, pl_module, self.seed + 1, self.n_test)
        pl_module.log_dict({f"test/{k}": m[k] for k in LOGGED}, prog_bar=False)

    # --- resume: the schedule of evaluations continues ----------------------------------
    def state_dict(self):
        return {"last_step": self._last_step, "last": self._last}

    def load_state_dict(self, state):
        self._last_step = int(state.get("last_step", 0))
        self._last = state.get("last")
