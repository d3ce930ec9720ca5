"""Tiny fake image sets written in the real on-disk formats, for tests of the data modules and
of experiment configs that use them.

``make_fake(name, root)`` writes the set that ``configs/data/<name>.yaml`` reads and returns
the Hydra overrides that point the config at it (``data.root=...`` plus smaller held-out
splits), e.g.::

    overrides = make_fake("cifar10", tmp_path / "cifar10")
    cfg = cfg_factory(["experiment=wgan_gp_cifar10", *overrides])
"""

from __future__ import annotations

import io
import pickle
import struct
from pathlib import Path

import numpy as np

__all__ = [
    "make_fake",
    "make_fake_mnist",
    "make_fake_fashion_mnist",
    "make_fake_cifar10",
    "make_fake_celeba",
    "make_fake_lsun",
    "make_fake_imagefolder",
    "CELEBA_ATTRIBUTES",
]

CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose "
    "Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses "
    "Goatee Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open Mustache "
    "Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose Receding_Hairline Rosy_Cheeks "
    "Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick "
    "Wearing_Necklace Wearing_Necktie Young"
).split()


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _write_idx(path: Path, array: np.ndarray) -> None:
    """The idx format of MNIST: magic (0, 0, dtype 0x08 = ubyte, ndim), big-endian dims, data."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(">" + "I" * array.ndim, *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def make_fake_mnist(
    root: str | Path, n_train: int = 96, n_test: int = 32, folder: str = "MNIST"
) -> Path:
    """``<root>/<folder>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``, 28x28."""
    raw = Path(root) / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = _rng()
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)
    return Path(root)


def make_fake_fashion_mnist(root: str | Path, **kwargs) -> Path:
    return make_fake_mnist(root, folder="FashionMNIST", **kwargs)


def make_fake_cifar10(root: str | Path, per_batch: int = 20, n_test: int = 20) -> Path:
    """``<root>/cifar-10-batches-py/`` with pickled ``data_batch_1..5``, ``test_batch`` and
    ``batches.meta`` laid out like the real ones (rows of 3072 bytes, R then G then B planes)."""
    base = Path(root) / "cifar-10-batches-py"
    base.mkdir(parents=True, exist_ok=True)
    rng = _rng()
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        n = n_test if name == "test_batch" else per_batch
        entry = {
            "batch_label": f"fake {name}",
            "labels": [int(v) for v in rng.integers(0, 10, n)],
            "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            "filenames": [f"img_{i}.png" for i in range(n)],
        }
        with open(base / name, "wb") as f:
            pickle.dump(entry, f, protocol=2)
    meta = {
        "num_cases_per_batch": per_batch,
        "label_names": "airplane automobile bird cat deer dog frog horse ship truck".split(),
        "num_vis": 3072,
    }
    with open(base / "batches.meta", "wb") as f:
        pickle.dump(meta, f, protocol=2)
    return Path(root)


def _jpeg(rng: np.random.Generator, h: int, w: int, fmt: str = "JPEG") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(buf, format=fmt)
    return buf.getvalue()


def make_fake_celeba(root: str | Path, n: int = 30) -> Path:
    """``img_align_celeba/000001.jpg ...`` (178x218), ``list_eval_partition.txt`` (the first
    60% train, then 20% val, 20% test) and ``list_attr_celeba.txt`` with the 40 attributes."""
    root = Path(root)
    img_dir = root / "img_align_celeba"
    img_dir.mkdir(parents=True, exist_ok=True)
    rng = _rng()
    names = [f"{i:06d}.jpg" for i in range(1, n + 1)]
    for name in names:
        (img_dir / name).write_bytes(_jpeg(rng, 218, 178))
    splits = [0 if i < 0.6 * n else 1 if i < 0.8 * n else 2 for i in range(n)]
    (root / "list_eval_partition.txt").write_text(
        "".join(f"{name} {s}\n" for name, s in zip(names, splits))
    )
    rows = [str(n), " ".join(CELEBA_ATTRIBUTES) + " "]
    for name in names:
        vals = rng.choice([-1, 1], len(CELEBA_ATTRIBUTES))
        rows.append(name + " " + " ".join(f"{v:2d}" for v in vals))
    (root / "list_attr_celeba.txt").write_text("\n".join(rows) + "\n")
    return root


def make_fake_lsun(
    root: str | Path, category: str = "bedroom", n_train: int = 24, n_val: int = 8
) -> Path:
    """``<root>/<category>_{train,val}_lmdb``: LMDB databases of WebP-encoded images keyed by
    hex ids, as the LSUN release ships them."""
    import lmdb

    rng = _rng()
    for split, n in (("train", n_train), ("val", n_val)):
        path = Path(root) / f"{category}_{split}_lmdb"
        path.mkdir(parents=True, exist_ok=True)
        env = lmdb.open(str(path), map_size=64 * 2**20)
        with env.begin(write=True) as txn:
            for i in range(n):
                key = f"{rng.integers(2**62):016x}{i:024x}".encode()
                txn.put(key, _jpeg(rng, 64 + i % 3, 80, fmt="WEBP"))
        env.close()
    return Path(root)


def make_fake_imagefolder(
    root: str | Path,
    classes: tuple[str, ...] = ("cats", "dogs"),
    per_class: int = 12,
    corrupt: bool = False,
) -> Path:
    """``<root>/<class>/*.png`` (or flat when ``classes`` is empty); ``corrupt`` adds a file
    with an image extension that is not an image."""
    from PIL import Image

    root = Path(root)
    rng = _rng()
    folders = [root / c for c in classes] or [root]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            arr = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
            Image.fromarray(arr).save(folder / f"img_{i:03d}.png")
    if corrupt:
        (folders[0] / "img_999_corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is not a png")
    return root


def make_fake(name: str, root: str | Path) -> list[str]:
    """Write the fake set for ``configs/data/<name>.yaml`` under ``root``; return the overrides
    (``data.root=...`` and held-out sizes that fit the tiny set)."""
    root = Path(root)
    if name == "mnist":
        make_fake_mnist(root)
        extra = ["data.n_val=16"]
    elif name == "fashion_mnist":
        make_fake_fashion_mnist(root)
        extra = ["data.n_val=16"]
    elif name == "cifar10":
        make_fake_cifar10(root)
        extra = ["data.n_val=20"]
    elif name == "celeba":
        make_fake_celeba(root)
        extra = []
    elif name == "lsun":
        make_fake_lsun(root)
        extra = []
    elif name == "imagefolder":
        make_fake_imagefolder(root)
        extra = ["data.n_val=4", "data.n_test=4"]
    else:
        raise ValueError(f"no fake writer for data={name}")
    return [f"data.root={root}", *extra]
