"""Tiny fake image and tabular sets written in the real on-disk formats, for tests of the data
modules and of experiment configs that use them.

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
    "make_fake_tabular",
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


def _fake_power(root: Path, n: int) -> None:
    """8 columns like the archive's: gap, reactive power, voltage, intensity, 3 sub-meterings,
    time. Columns 1 and 3 are constant, so a loader that kept them would divide by a zero std;
    the time is an integer, which the loader adds no noise to."""
    rng = _rng()
    data = rng.normal(size=(n, 8))
    data[:, 1], data[:, 3] = 7.0, -3.0
    data[:, 7] = rng.integers(0, 1440, n)
    np.save(root / "power" / "data.npy", data)


def _fake_gas(root: Path, n: int) -> None:
    """A pandas DataFrame with Time, Meth, Eth and 16 sensors, each of the first 8 sensors
    correlated above 0.98 with one of the last 8 (so 8 columns survive the cleaning)."""
    import pandas as pd

    rng = _rng()
    base = rng.normal(size=(n, 8)) * rng.uniform(1, 10, 8) + rng.uniform(-5, 5, 8)
    copies = base + 0.01 * rng.normal(size=(n, 8))
    cols = {"Time": np.arange(n, dtype=float), "Meth": rng.random(n), "Eth": rng.random(n)}
    cols.update({f"R{i + 1}": base[:, i] for i in range(8)})
    cols.update({f"R{i + 9}": copies[:, i] for i in range(8)})
    pd.DataFrame(cols).to_pickle(root / "gas" / "ethylene_CO.pickle")


HEPMASS_HEADER = "# label," + ",".join(f"f{i}" for i in range(27))


def _fake_hepmass(root: Path, n: int) -> None:
    """``1000_{train,test}.csv``: a header, then the label (every other row signal) and 27
    features; the test file also has the mass (1000), as the UCI release does. Features 3, 7,
    11, 15, 19 and 23 are discrete (their smallest value repeats), so 21 remain."""
    rng = _rng()
    for split, m in (("train", n), ("test", n // 2)):
        label = (np.arange(m) % 2).astype(float)
        feats = rng.normal(size=(m, 27))
        for j in (3, 7, 11, 15, 19, 23):
            feats[:, j] = rng.integers(0, 3, m)
        feats[label == 0] = 100.0  # background rows, which the loader drops
        table, header = np.column_stack([label, feats]), HEPMASS_HEADER
        if split == "test":
            table, header = np.column_stack([table, np.full(m, 1000.0)]), header + ",mass"
        path = root / "hepmass" / f"1000_{split}.csv"
        np.savetxt(path, table, delimiter=",", header=header, comments="", fmt="%.6g")


def _fake_bsds300(root: Path, n: int) -> None:
    import h5py

    rng = _rng()
    with h5py.File(root / "BSDS300" / "BSDS300.hdf5", "w") as f:
        for key, m in (("train", n), ("validation", n // 5), ("test", n // 4)):
            f.create_dataset(key, data=rng.normal(size=(m, 63)))


def make_fake_tabular(name: str, root: str | Path, n: int = 400) -> Path:
    """The MAF archive's file(s) of one tabular set under ``root`` (``power/data.npy``, ...)."""
    from gens.data.maf_tabular import TABULAR_FILES

    root = Path(root)
    for rel in TABULAR_FILES[name]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
    if name == "power":
        _fake_power(root, n)
    elif name == "gas":
        _fake_gas(root, n)
    elif name == "hepmass":
        _fake_hepmass(root, n)
    elif name == "miniboone":
        np.save(root / "miniboone" / "data.npy", _rng().normal(size=(n, 43)))
    elif name == "bsds300":
        _fake_bsds300(root, n)
    else:
        raise ValueError(f"no fake writer for tabular set {name}")
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
    elif name in ("power", "gas", "hepmass", "miniboone", "bsds300"):
        make_fake_tabular(name, root)
        extra = ["data.batch_size=32"]
    else:
        raise ValueError(f"no fake writer for data={name}")
    return [f"data.root={root}", *extra]
