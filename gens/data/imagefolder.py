"""Any folder of images: class sub-folders (``root/<class>/*.png``, torchvision's ImageFolder
layout, labels from the sorted folder names) or a flat folder of images (unlabeled).

A file that cannot be decoded stops training with an error naming it
(``data.on_corrupt=error``), or is skipped with a warning (``data.on_corrupt=skip``): the next
readable image takes its place in the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from torch.utils.data import Dataset

from gens.data.images import ImageDataModule, split_indices
from gens.utils.errors import ConfigError, DataError
from gens.utils.logging import get_logger

__all__ = [
    "ImageFolderDataModule",
    "FileImageDataModule",
    "FileImageDataset",
    "IMAGE_EXTENSIONS",
    "load_image",
]

log = get_logger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def load_image(path: Path, channels: int):
    """Decode an image file as a PIL image in ``L`` (1 channel) or ``RGB`` (3 channels)."""
    from PIL import Image

    with Image.open(path) as img:
        return img.convert("L" if channels == 1 else "RGB")


class FileImageDataset(Dataset):
    """Image files with labels; decoding failures follow ``on_corrupt`` (error / skip)."""

    def __init__(
        self,
        files: Sequence[Path],
        labels: Sequence[int],
        transform: Callable,
        channels: int = 3,
        on_corrupt: str = "error",
    ):
        self.files, self.labels = list(files), list(labels)
        self.transform, self.channels, self.on_corrupt = transform, channels, on_corrupt
        self._warned: set[Path] = set()

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int):
        for attempt in range(min(len(self.files), 100)):
            j = (i + attempt) % len(self.files)
            try:
                img = load_image(self.files[j], self.channels)
            except Exception as e:  # PIL.UnidentifiedImageError, truncated files, OSError
                if self.on_corrupt != "skip":
                    raise DataError(
                        f"cannot read image {self.files[j]}: {type(e).__name__}: {e}; remove or "
                        "replace the file, or set data.on_corrupt=skip to skip unreadable images"
                    ) from e
                if self.files[j] not in self._warned:
                    self._warned.add(self.files[j])
                    log.warning("skipping unreadable image %s (%s)", self.files[j], e)
                continue
            return self.transform(img), int(self.labels[j])
        raise DataError(f"no readable image near index {i}; the folder looks corrupt")


def list_images(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
    )


class FileImageDataModule(ImageDataModule):
    """An image data module that decodes image files itself: ``on_corrupt`` (``error`` or
    ``skip``) decides what an undecodable file does. Other arguments as ``ImageDataModule``."""

    def __init__(self, root: str, on_corrupt: str = "error", **kwargs):
        if on_corrupt not in ("error", "skip"):
            raise ConfigError(f"data.on_corrupt must be error or skip, got {on_corrupt}")
        self.on_corrupt = on_corrupt
        super().__init__(root, **kwargs)

    def file_dataset(
        self, files: Sequence[Path], labels: Sequence[int], transform: Callable
    ) -> FileImageDataset:
        return FileImageDataset(files, labels, transform, self.channels, self.on_corrupt)


class ImageFolderDataModule(FileImageDataModule):
    """Images under ``root``, with a seeded hold-out for validation and test.

    Args:
        channels: 3 (RGB) or 1 (grayscale); every image is converted.
        labels: ``auto`` (class folders if ``root`` has sub-folders, else none), or ``none``.
        n_val, n_test: images held out for validation and for test (the rest trains); with
            ``n_test=0`` the test uses the validation images.
        Other arguments as ``FileImageDataModule``.
    """

    name = "image folder"

    def __init__(
        self,
        root: str,
        channels: int = 3,
        labels: str = "auto",
        n_val: int = 500,
        n_test: int = 500,
        **kwargs,
    ):
        if int(channels) not in (1, 3):
            raise ConfigError(f"data.channels must be 1 or 3, got {channels}")
        if labels not in ("auto", "none"):
            raise ConfigError(f"data.labels must be auto or none, got {labels}")
        if int(n_test) < 0:
            raise ConfigError(f"data.n_test must be >= 0, got {n_test}")
        self.channels = int(channels)
        self.n_test = int(n_test)
        root_path = Path(str(root)).expanduser()
        if not root_path.is_dir():
            raise DataError(
                f"image folder not found: {root_path}; point data.root at a folder of images "
                "(flat, or one sub-folder per class)"
            )
        subdirs = sorted(p.name for p in root_path.iterdir() if p.is_dir())
        self.classes = subdirs if (labels == "auto" and subdirs) else []
        self.num_classes = len(self.classes) or None
        kwargs.setdefault("image_size", 64)
        super().__init__(str(root_path), n_val=n_val, **kwargs)

    def build_datasets(self, transform):
        if self.classes:
            files, labels = [], []
            for k, c in enumerate(self.classes):
                found = list_images(self.root / c)
                files += found
                labels += [k] * len(found)
        else:
            files = list_images(self.root)
            labels = [0] * len(files)
        if not files:
            raise DataError(
                f"no images ({', '.join(IMAGE_EXTENSIONS)}) found under {self.root}; "
                "point data.root at a folder of images"
            )
        n_hold = self.n_val + self.n_test
        if n_hold >= len(files):
            raise ConfigError(
                f"data.n_val + data.n_test = {n_hold} leaves none of the {len(files)} images in "
                f"{self.root} for training; lower them"
            )
        keep, held = split_indices(len(files), n_hold, self.seed)

        def make(idx):
            return self.file_dataset([files[i] for i in idx], [labels[i] for i in idx], transform)

        return {
            "train": make(keep),
            "val": make(held[: self.n_val]),
            "test": make(held[self.n_val :] or held[: self.n_val]),
        }
