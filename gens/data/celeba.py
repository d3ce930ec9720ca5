"""CelebA: Liu et al. 2015, Deep Learning Face Attributes in the Wild. 202,599 aligned faces.

On disk (as distributed, and as torchvision downloads it into ``<root>/celeba``):
``img_align_celeba/000001.jpg ...`` (178x218 JPEGs), ``list_eval_partition.txt`` (``name split``
with 0 = train, 1 = val, 2 = test) and, for attribute labels, ``list_attr_celeba.txt`` (count,
the 40 attribute names, then ``name`` and 40 values of +-1). ``root`` may hold these files or a
``celeba/`` folder with them.

Images are centre-cropped to 178x178 and resized to 64 (the DCGAN / BEGAN face set-ups).
``attributes: [Male, Smiling]`` labels each image by those attributes: class = sum over i of
bit_i 2^i, so 2^k classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gens.data.imagefolder import FileImageDataModule
from gens.data.images import image_transform
from gens.utils.errors import ConfigError, DataError

__all__ = ["CelebADataModule", "read_partition", "read_attributes"]

SPLITS = {"train": 0, "val": 1, "test": 2}


def read_partition(path: Path) -> dict[str, int]:
    out = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
            raise DataError(f"{path}:{n}: expected '<image> <0|1|2>', got {line!r}")
        out[parts[0]] = int(parts[1])
    return out


def read_attributes(path: Path) -> tuple[list[str], dict[str, list[int]]]:
    """Attribute names and, per image, its +-1 values."""
    lines = path.read_text().splitlines()
    if len(lines) < 2:
        raise DataError(f"{path} is not a CelebA attribute list (too short)")
    names = lines[1].split()
    values = {}
    for n, line in enumerate(lines[2:], 3):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != len(names) + 1:
            raise DataError(f"{path}:{n}: expected an image name and {len(names)} values")
        values[parts[0]] = [int(v) for v in parts[1:]]
    return names, values


class CelebADataModule(FileImageDataModule):
    """CelebA aligned faces with the official train / val / test partition.

    Args:
        attributes: attribute names used as labels (``null``: unlabeled).
        crop: side of the central square cropped before resizing (178 keeps the whole width).
        Other arguments as ``FileImageDataModule``.
    """

    name = "CelebA"

    def __init__(
        self,
        root: str,
        image_size: int = 64,
        crop: int | None = 178,
        attributes: Sequence[str] | None = None,
        **kwargs,
    ):
        self.attributes = [str(a) for a in (attributes or [])]
        if len(self.attributes) > 10:
            raise ConfigError("data.attributes: at most 10 attributes (2^k classes)")
        self.num_classes = 2 ** len(self.attributes) if self.attributes else None
        self.crop = int(crop) if crop else None
        kwargs.pop("n_val", None)  # CelebA has its own validation split
        super().__init__(root, image_size=image_size, **kwargs)

    @property
    def base(self) -> Path:
        nested = self.root / "celeba"
        return nested if (nested / "img_align_celeba").is_dir() else self.root

    def expected_files(self) -> list[Path]:
        files = [self.base / "img_align_celeba", self.base / "list_eval_partition.txt"]
        if self.attributes:
            files.append(self.base / "list_attr_celeba.txt")
        return files

    def how_to_get(self) -> str:
        return (
            "set data.download=true (torchvision, from Google Drive) or unzip "
            "img_align_celeba.zip and the list_*.txt files there"
        )

    def download_files(self) -> None:
        from torchvision.datasets import CelebA

        CelebA(str(self.root), split="all", target_type="attr", download=True)

    def transform(self):
        return image_transform(self.image_size, self.channels, crop=self.crop)

    def build_datasets(self, transform):
        base = self.base
        partition = read_partition(base / "list_eval_partition.txt")
        labels = {name: 0 for name in partition}
        if self.attributes:
            names, values = read_attributes(base / "list_attr_celeba.txt")
            unknown = [a for a in self.attributes if a not in names]
            if unknown:
                raise ConfigError(
                    f"unknown CelebA attribute(s) {unknown}; choose from {', '.join(names)}"
                )
            cols = [names.index(a) for a in self.attributes]
            for name in partition:
                if name not in values:
                    raise DataError(f"{name} has no row in {base / 'list_attr_celeba.txt'}")
                v = values[name]
                labels[name] = sum((v[c] > 0) << i for i, c in enumerate(cols))
        img_dir = base / "img_align_celeba"
        out = {}
        for split, code in SPLITS.items():
            names = sorted(n for n, s in partition.items() if s == code)
            missing = [n for n in names[:1000] if not (img_dir / n).is_file()]
            if missing:
                raise DataError(
                    f"CelebA images listed in list_eval_partition.txt are missing from {img_dir} "
                    f"(e.g. {', '.join(missing[:3])}); unzip img_align_celeba.zip completely"
                )
            out[split] = self.file_dataset(
                [img_dir / n for n in names], [labels[n] for n in names], transform
            )
        return out
