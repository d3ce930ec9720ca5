"""MNIST, Fashion-MNIST, CIFAR-10 and LSUN from their real on-disk formats.

- MNIST (LeCun et al. 1998) and Fashion-MNIST (Xiao et al. 2017): torchvision's readers of the
  raw idx files in ``<root>/MNIST/raw`` / ``<root>/FashionMNIST/raw`` (decompressed:
  ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
  ``t10k-labels-idx1-ubyte``). 28x28 grayscale, 10 classes.
- CIFAR-10 (Krizhevsky 2009): the python pickles in ``<root>/cifar-10-batches-py``
  (``data_batch_1..5``, ``test_batch``, ``batches.meta``), read here (torchvision's reader
  insists on the published MD5 sums); ``data.download=true`` fetches them with torchvision.
- LSUN (Yu et al. 2015): torchvision's reader of a category's LMDB database
  ``<root>/<category>_train_lmdb`` (and ``<category>_val_lmdb`` for validation / test); needs
  the ``lmdb`` package. The official download script (github.com/fyu/lsun) gets the files.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from gens.data.images import ImageDataModule, working_dir
from gens.utils.errors import ConfigError, DataError

__all__ = [
    "MNISTDataModule",
    "FashionMNISTDataModule",
    "CIFAR10DataModule",
    "LSUNDataModule",
    "ArrayDataset",
]

IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class ArrayDataset(Dataset):
    """In-memory uint8 images (N, H, W[, C]) with labels, transformed per item."""

    def __init__(self, images: np.ndarray, labels: Sequence[int], transform):
        self.images, self.labels, self.transform = images, np.asarray(labels), transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        img = self.images[i]
        if img.ndim == 2:
            img = img[:, :, None]
        return self.transform(img), int(self.labels[i])


class MNISTDataModule(ImageDataModule):
    """MNIST digits; ``image_size`` defaults to the native 28 (DCGAN stacks then start at 7x7)."""

    name = "MNIST"
    channels = 1
    num_classes = 10
    _tv_class = "MNIST"

    def __init__(self, root: str, image_size: int = 28, **kwargs):
        super().__init__(root, image_size=image_size, **kwargs)

    def expected_files(self) -> list[Path]:
        return [self.root / self._tv_class / "raw" / f for f in IDX_FILES]

    def how_to_get(self) -> str:
        return (
            "set data.download=true (needs network) or put the decompressed idx files in "
            f"{self.root / self._tv_class / 'raw'}"
        )

    def _tv(self):
        import torchvision.datasets as tvd

        return getattr(tvd, self._tv_class)

    def download_files(self) -> None:
        self._tv()(str(self.root), train=True, download=True)
        self._tv()(str(self.root), train=False, download=True)

    def build_datasets(self, transform):
        cls = self._tv()
        train = cls(str(self.root), train=True, transform=transform)
        test = cls(str(self.root), train=False, transform=transform)
        train, val = self.holdout(train)
        return {"train": train, "val": val, "test": test}


class FashionMNISTDataModule(MNISTDataModule):
    """Fashion-MNIST: Zalando's 28x28 clothing images in MNIST's format."""

    name = "Fashion-MNIST"
    _tv_class = "FashionMNIST"


CIFAR_DIR = "cifar-10-batches-py"
CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))


def read_cifar_batch(path: Path) -> tuple[np.ndarray, list[int]]:
    """One pickled CIFAR-10 batch -> uint8 ``(N, 32, 32, 3)`` images and labels."""
    try:
        with open(path, "rb") as f:
            entry = pickle.load(f, encoding="latin1")
        data = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = list(entry["labels"])
    except Exception as e:  # truncated file, wrong pickle, missing keys
        raise DataError(
            f"cannot read CIFAR-10 batch {path}: {type(e).__name__}: {e}; the file is corrupt "
            "or not from cifar-10-python.tar.gz, download it again"
        ) from e
    return data.transpose(0, 2, 3, 1), labels


class CIFAR10DataModule(ImageDataModule):
    """CIFAR-10: 50,000 training / 10,000 test 32x32 colour images, 10 classes."""

    name = "CIFAR-10"
    num_classes = 10

    def expected_files(self) -> list[Path]:
        base = self.root / CIFAR_DIR
        return [base / f for f in (*CIFAR_TRAIN, "test_batch", "batches.meta")]

    def how_to_get(self) -> str:
        return (
            "set data.download=true (needs network) or extract cifar-10-python.tar.gz into "
            f"{self.root}"
        )

    def download_files(self) -> None:
        from torchvision.datasets import CIFAR10

        CIFAR10(str(self.root), train=True, download=True)

    def build_datasets(self, transform):
        base = self.root / CIFAR_DIR
        parts = [read_cifar_batch(base / f) for f in CIFAR_TRAIN]
        x = np.concatenate([p[0] for p in parts])
        y = [label for p in parts for label in p[1]]
        x_test, y_test = read_cifar_batch(base / "test_batch")
        train, val = self.holdout(ArrayDataset(x, y, transform))
        return {"train": train, "val": val, "test": ArrayDataset(x_test, y_test, transform)}


class LSUNDataModule(ImageDataModule):
    """LSUN scene categories (e.g. ``bedroom``, ``church_outdoor``) at ``image_size`` (64).

    One category is unlabeled; a list of categories labels each image by its category. The
    small official validation split (300 images per category) serves as val and test.
    """

    name = "LSUN"

    def __init__(self, root: str, category: str | Sequence[str] = "bedroom", **kwargs):
        cats = [category] if isinstance(category, str) else [str(c) for c in category]
        if not cats:
            raise ConfigError("data.category needs at least one LSUN category, e.g. bedroom")
        self.categories = cats
        self.num_classes = len(cats) if len(cats) > 1 else None
        kwargs.setdefault("image_size", 64)
        super().__init__(root, **kwargs)

    def expected_files(self) -> list[Path]:
        return [
            self.root / f"{c}_{split}_lmdb" / "data.mdb"
            for c in self.categories
            for split in ("train", "val")
        ]

    def how_to_get(self) -> str:
        return (
            "download the categories with the LSUN script (github.com/fyu/lsun: "
            "download.py -c <category>) and unzip them there"
        )

    def _split(self, split: str, transform) -> Dataset:
        try:
            from torchvision.datasets import LSUN
        except ImportError as e:  # pragma: no cover
            raise DataError("LSUN needs torchvision") from e
        try:
            import lmdb  # noqa: F401
        except ImportError as e:
            raise DataError("LSUN needs the lmdb package: pip install lmdb") from e
        classes = [f"{c}_{split}" for c in self.categories]
        with working_dir(self.root):  # torchvision caches the LMDB keys in the cwd
            ds = LSUN(str(self.root.resolve()), classes=classes, transform=transform)
        if self.num_classes is None:
            return _Unlabeled(ds)
        return ds

    def build_datasets(self, transform):
        val = self._split("val", transform)
        return {"train": self._split("train", transform), "val": val, "test": val}


class _Unlabeled(Dataset):
    def __init__(self, ds: Dataset):
        self.ds = ds

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, i: int):
        return self.ds[i][0], 0
