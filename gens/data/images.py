"""Base of the on-disk image data modules: transforms to [-1, 1], split helpers, DataLoaders.

Subclasses name the files they need (``expected_files``) so a missing or incomplete set is one
error naming the path and the files; they build one ``Dataset`` per split that yields
``(image, label)`` with images already transformed. Images are 8-bit, so ``num_levels`` is 256
(resizing happens on 8-bit images, which stay on 256 levels).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset, Subset

from gens.data.base import GensDataModule
from gens.utils.errors import ConfigError, DataError, GensError
from gens.utils.logging import get_logger

__all__ = ["ImageDataModule", "image_transform", "split_indices", "working_dir"]

log = get_logger(__name__)


def image_transform(image_size: int | Sequence[int], channels: int, crop: int | None = None):
    """PIL / HWC-array / CHW-uint8 image -> float CHW tensor in [-1, 1] of ``image_size``.

    ``crop`` first takes a central square of that side (CelebA's 178 px face crop); then the
    shorter side is resized to ``image_size`` and the centre cropped to a square.
    """
    from torchvision.transforms import v2

    steps: list = [v2.ToImage()]
    if crop:
        steps.append(v2.CenterCrop(int(crop)))
    steps += [v2.Resize(image_size, antialias=True), v2.CenterCrop(image_size)]
    if channels == 1:
        steps.append(v2.Grayscale(1))
    steps += [
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize([0.5] * channels, [0.5] * channels),
    ]
    return v2.Compose(steps)


def split_indices(n: int, n_holdout: int, seed: int) -> tuple[list[int], list[int]]:
    """Seeded split of ``range(n)`` into (kept, held out) with ``n_holdout`` held out."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    return sorted(perm[n_holdout:]), sorted(perm[:n_holdout])


@contextmanager
def working_dir(path: str | Path):
    """Temporarily change the working directory (torchvision's LSUN writes its key cache to
    the current directory; we keep it next to the data)."""
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


class ImageDataModule(GensDataModule):
    """Common options of the on-disk image sets.

    Args:
        root: folder holding the set (defaults to ``${paths.data_dir}/<name>`` in the configs).
        image_size: side of the square images the models see.
        download: let torchvision download the set into ``root`` where it can (needs network).
        n_val: examples held out of the training files for validation (sets without a
            validation split); seeded by ``seed``.
        num_workers, pin_memory, persistent_workers: DataLoader options. CPU defaults: 0 workers
            (decoding in the main process), no pinning; on GPUs use 4-8 workers and pinning.
        Other arguments as ``GensDataModule``.
    """

    kind = "image"
    partial_labels = False
    num_levels = 256
    name = "images"
    channels = 3

    def __init__(
        self,
        root: str,
        image_size: int = 32,
        batch_size: int = 64,
        download: bool = False,
        n_val: int = 5000,
        **options,
    ):
        super().__init__(batch_size=batch_size, **options)
        if root is None or str(root) == "":
            raise ConfigError(f"data.root is not set; point it at the {self.name} files")
        if int(image_size) < 4:
            raise ConfigError(f"data.image_size must be >= 4, got {image_size}")
        if int(n_val) < 0:
            raise ConfigError(f"data.n_val must be >= 0, got {n_val}")
        self.root = Path(str(root)).expanduser()
        self.image_size = int(image_size)
        self.download = bool(download)
        self.n_val = int(n_val)
        self.shape = (self.channels, self.image_size, self.image_size)
        self.datasets: dict[str, Dataset] = {}
        if not self.download:
            self.check_files()

    # --- what subclasses provide ---------------------------------------------------------
    def expected_files(self) -> list[Path]:
        """Files / folders that must exist under ``root``."""
        return []

    def how_to_get(self) -> str:
        return "set data.download=true (needs network) or copy the files there"

    def build_datasets(self, transform: Callable) -> dict[str, Dataset]:
        """``{"train": ..., "val": ..., "test": ...}`` datasets yielding ``(image, label)``."""
        raise NotImplementedError

    def download_files(self) -> None:
        raise DataError(f"{self.name} cannot be downloaded automatically; {self.how_to_get()}")

    # --- shared machinery ----------------------------------------------------------------
    def check_files(self) -> None:
        missing = [p for p in self.expected_files() if not p.exists()]
        if missing:
            shown = ", ".join(str(p.relative_to(self.root)) for p in missing[:6])
            more = f" (+{len(missing) - 6} more)" if len(missing) > 6 else ""
            raise DataError(
                f"{self.name} not found or incomplete in {self.root}: missing {shown}{more}; "
                f"{self.how_to_get()}, or point data.root at the folder that holds them"
            )

    def transform(self) -> Callable:
        return image_transform(self.image_size, self.channels)

    def prepare_data(self) -> None:
        if not self.download:
            return
        made = [p for p in (self.root, *self.root.parents) if not p.exists()]
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            self.download_files()
        except GensError:
            raise
        except Exception as e:  # offline (URLError), a server error, a bad archive, ...
            for folder in made:  # leave no empty data folder that looks like a data set
                if any(folder.iterdir()):
                    break
                folder.rmdir()
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise DataError(
                f"downloading {self.name} into {self.root} failed ({reason}); check the "
                f"network, or copy the files there by hand and set data.download=false"
            ) from None

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        self.check_files()
        self.datasets = self.build_datasets(self.transform())
        n_train = len(self.datasets["train"])
        if n_train == 0:
            raise DataError(f"{self.name} in {self.root} has no training images")
        log.info(
            "%s: %s",
            self.name,
            ", ".join(f"{k} {len(v)}" for k, v in self.datasets.items()),
        )

    def holdout(self, dataset: Dataset) -> tuple[Dataset, Dataset]:
        """Split ``n_val`` examples off a training set (seeded)."""
        n = len(dataset)
        if self.n_val >= n:
            raise ConfigError(
                f"data.n_val={self.n_val} leaves no training images of the {n} in {self.root}; "
                "lower data.n_val"
            )
        keep, held = split_indices(n, self.n_val, self.seed)
        return Subset(dataset, keep), Subset(dataset, held)

    def split_loader(self, split: str, train: bool) -> DataLoader:
        ds = self.datasets[split]
        bs = self.batch_size if train else self.eval_batch_size
        if train and bs > len(ds):
            raise ConfigError(
                f"data.batch_size={bs} exceeds the {len(ds)} training images; "
                "lower data.batch_size"
            )
        return DataLoader(
            ds,
            batch_size=bs,
            shuffle=train,
            drop_last=train,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.persistent_workers,
            generator=torch.Generator().manual_seed(self.seed) if train else None,
        )
