"""What ``benchmarks.gpu`` measures with: fake images that live on the device, a step timer that
also counts host synchronizations, and an InceptionV3 of the standard architecture (Szegedy et
al. 2016, the FID/IS/KID network of torch-fidelity) with random weights, for timing only.

Nothing here downloads data or weights.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path
from unittest import mock

import pytorch_lightning as pl
import torch

from gens.data.base import GensDataModule
from gens.metrics.features import OUTPUTS, FeatureExtractor

__all__ = ["FakeImages", "StepTimer", "RandomInception", "TinyExtractor", "synchronize"]


def synchronize() -> None:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


class _Slices:
    """Batches sliced from one device tensor: no copies, no index tensors."""

    def __init__(self, x: torch.Tensor, batch_size: int):
        self.x, self.batch_size = x, batch_size
        self.batch_sampler = None
        self.y = torch.zeros(batch_size, dtype=torch.long, device=x.device)

    def __len__(self) -> int:
        return len(self.x) // self.batch_size

    def __iter__(self):
        for b in range(len(self)):
            yield self.x[b * self.batch_size : (b + 1) * self.batch_size], self.y


class FakeImages(GensDataModule):
    """Random 8-bit images in [-1, 1] of shape ``(channels, size, size)``, made on ``device``
    (``auto``: the GPU when there is one), so no host-to-device copy enters a timed step."""

    kind = "image"
    num_levels = 256

    def __init__(
        self,
        size: int = 64,
        channels: int = 3,
        n: int = 4096,
        batch_size: int = 128,
        device: str = "auto",
        seed: int = 0,
    ):
        super().__init__(batch_size=batch_size, seed=seed)
        self.shape = (int(channels), int(size), int(size))
        self.n = int(n)
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self._x: torch.Tensor | None = None

    def setup(self, stage: str | None = None) -> None:
        if self._x is None:
            g = torch.Generator().manual_seed(self.seed)
            levels = torch.randint(0, 256, (self.n, *self.shape), generator=g)
            self._x = (levels.float() / 127.5 - 1).to(self.device)

    def train_dataloader(self):
        self.setup()
        return _Slices(self._x, self.batch_size)

    def val_dataloader(self):
        self.setup()
        return _Slices(self._x, self.batch_size)

    test_dataloader = val_dataloader


class StepTimer(pl.Callback):
    """Times training batches ``warmup`` .. ``warmup + steps`` and writes ``{"images_per_s",
    "steps", "syncs", "sync_sites"}`` to ``out``. With ``count_syncs`` on a GPU, the timed
    batches run under ``torch.cuda.set_sync_debug_mode("warn")`` and every synchronizing call
    is counted with where it came from."""

    def __init__(self, out: str, warmup: int, steps: int, count_syncs: bool = False):
        self.out, self.warmup, self.steps = Path(out), int(warmup), int(steps)
        self.count_syncs = bool(count_syncs) and torch.cuda.is_available()
        self.seen = 0
        self.images = 0
        self._t0 = 0.0
        self._catch = None
        self._caught: list = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.seen != self.warmup:
            return
        synchronize()
        if self.count_syncs:
            self._catch = warnings.catch_warnings(record=True)
            self._caught = self._catch.__enter__()
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
        self._t0 = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.seen += 1
        if self.warmup < self.seen <= self.warmup + self.steps:
            self.images += len(batch[0])
        if self.seen != self.warmup + self.steps:
            return
        if self._catch is not None:
            torch.cuda.set_sync_debug_mode(0)
            self._catch.__exit__(None, None, None)
        synchronize()
        seconds = time.perf_counter() - self._t0
        syncs = [w for w in self._caught if "synchroniz" in str(w.message).lower()]
        sites: dict[str, int] = {}
        for w in syncs:
            site = f"{Path(w.filename).name}:{w.lineno}"
            sites[site] = sites.get(site, 0) + 1
        result = {
            "images_per_s": self.images / seconds,
            "steps": self.steps,
            "syncs": len(syncs) if self.count_syncs else None,
            "sync_sites": dict(sorted(sites.items(), key=lambda kv: -kv[1])[:8]),
        }
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.write_text(json.dumps(result))


class RandomInception(FeatureExtractor):
    """torch-fidelity's InceptionV3 (2048-d pool, 1008 logits) with random weights: the same
    cost per image as the real network, for timing FID/IS/KID; its scores mean nothing."""

    num_classes = 1008
    num_features = 2048
    digest = "random"

    def __init__(self, name: str = "gens-inception-random", features_list=OUTPUTS):
        from torch_fidelity import feature_extractor_inceptionv3 as tfi

        super().__init__(name, features_list)
        # the constructor insists on loading weights; hand it none to load
        with (
            mock.patch.object(tfi.torch, "load", return_value={}),
            mock.patch.object(tfi.FeatureExtractorInceptionV3, "load_state_dict"),
        ):
            self.net = tfi.FeatureExtractorInceptionV3(
                "inception-v3-random",
                ["2048", "logits_unbiased"],
                feature_extractor_weights_path="random-init",
            )
        self.requires_grad_(False)
        self.eval()

    def extract(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u8 = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return self.net(u8.to(next(self.net.parameters()).device))


class TinyExtractor(FeatureExtractor):
    """A small random conv net behind the same interface (64-d pool, 10 logits): what the dry
    run feeds FID/IS/KID, whose statistics on 2048-d features take minutes on a CPU."""

    num_classes = 10
    num_features = 64
    digest = "tiny-random"

    def __init__(self, name: str = "gens-tiny-random", features_list=OUTPUTS):
        super().__init__(name, features_list)
        self.body = torch.nn.Sequential(
            torch.nn.Conv2d(3, 64, 3, stride=2), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1)
        )
        self.fc = torch.nn.Linear(64, 10)
        self.requires_grad_(False)
        self.eval()

    def extract(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pool = self.body(x).flatten(1)
        return pool, self.fc(pool)
