"""On-disk image data modules on tiny fake sets in the real formats: shapes, range, labels,
splits, DataLoader options, and one clear error for missing, incomplete or corrupt data."""

from __future__ import annotations

import pytest
import torch
from hydra.utils import instantiate

from gens.data import (
    CelebADataModule,
    CIFAR10DataModule,
    ImageFolderDataModule,
    LSUNDataModule,
    MNISTDataModule,
)
from gens.utils.errors import ConfigError, DataError
from tests.fakedata import (
    make_fake,
    make_fake_celeba,
    make_fake_cifar10,
    make_fake_imagefolder,
    make_fake_lsun,
    make_fake_mnist,
)

EXPECT = {
    "mnist": ((1, 28, 28), 10, {"train": 80, "val": 16, "test": 32}),
    "fashion_mnist": ((1, 28, 28), 10, {"train": 80, "val": 16, "test": 32}),
    "cifar10": ((3, 32, 32), 10, {"train": 80, "val": 20, "test": 20}),
    "celeba": ((3, 64, 64), None, {"train": 18, "val": 6, "test": 6}),
    "lsun": ((3, 64, 64), None, {"train": 24, "val": 8, "test": 8}),
    "imagefolder": ((3, 64, 64), 2, {"train": 16, "val": 4, "test": 4}),
}


@pytest.mark.parametrize("name", list(EXPECT))
def test_data_config_on_fake_set(cfg_factory, tmp_path, name):
    if name == "lsun":
        pytest.importorskip("lmdb")
    overrides = make_fake(name, tmp_path / name)
    cfg = cfg_factory([f"data={name}", *overrides, "data.batch_size=8"])
    dm = instantiate(cfg.data)
    shape, classes, sizes = EXPECT[name]
    assert (dm.kind, dm.shape, dm.num_classes, dm.num_levels) == ("image", shape, classes, 256)
    dm.setup("fit")
    assert {k: len(v) for k, v in dm.datasets.items()} == sizes
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (8, *shape) and x.dtype == torch.float32 and y.dtype == torch.long
    assert -1.0 <= x.min() and x.max() <= 1.0 and x.std() > 0.05
    xv, _ = next(iter(dm.val_dataloader()))
    assert xv.shape[1:] == shape


def test_default_root_is_under_data_dir(cfg_factory):
    for name in ("mnist", "cifar10", "celeba", "lsun"):
        cfg = cfg_factory([f"data={name}"], sub=name)
        assert cfg.data.root.endswith(f"/data/{name}") and cfg.data.download is False


@pytest.mark.parametrize(
    "cls,kw,needle",
    [
        (MNISTDataModule, {}, "train-images-idx3-ubyte"),
        (CIFAR10DataModule, {}, "cifar-10-batches-py/data_batch_1"),
        (CelebADataModule, {}, "img_align_celeba"),
        (LSUNDataModule, {"category": "church_outdoor"}, "church_outdoor_train_lmdb"),
    ],
)
def test_missing_set_names_path_and_files(tmp_path, cls, kw, needle):
    with pytest.raises(DataError) as e:
        cls(root=str(tmp_path / "nowhere"), **kw)
    msg = str(e.value)
    assert str(tmp_path / "nowhere") in msg and needle in msg and "\n" not in msg


def test_incomplete_sets(tmp_path):
    make_fake_cifar10(tmp_path / "c")
    (tmp_path / "c" / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(DataError, match="data_batch_3"):
        CIFAR10DataModule(root=str(tmp_path / "c"))
    make_fake_mnist(tmp_path / "m")
    (tmp_path / "m" / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):
        MNISTDataModule(root=str(tmp_path / "m"))
    make_fake_celeba(tmp_path / "f")
    (tmp_path / "f" / "list_attr_celeba.txt").unlink()
    CelebADataModule(root=str(tmp_path / "f"))  # attributes not asked for: fine
    with pytest.raises(DataError, match="list_attr_celeba.txt"):
        CelebADataModule(root=str(tmp_path / "f"), attributes=["Male"])
    make_fake_celeba(tmp_path / "g")
    (tmp_path / "g" / "img_align_celeba" / "000002.jpg").unlink()
    dm = CelebADataModule(root=str(tmp_path / "g"))
    with pytest.raises(DataError, match="000002.jpg"):
        dm.setup()


def test_corrupt_cifar_batch(tmp_path):
    make_fake_cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(b"not a pickle")
    dm = CIFAR10DataModule(root=str(tmp_path), n_val=20)
    with pytest.raises(DataError, match="test_batch"):
        dm.setup()


def test_celeba_attribute_labels_and_nested_layout(tmp_path):
    make_fake_celeba(tmp_path / "celeba")  # torchvision's layout: <root>/celeba/...
    dm = CelebADataModule(root=str(tmp_path), attributes=["Male", "Smiling"], batch_size=4)
    assert dm.num_classes == 4
    dm.setup()
    lines = (tmp_path / "celeba" / "list_attr_celeba.txt").read_text().splitlines()
    names = lines[1].split()
    first = dict(zip(names, map(int, lines[2].split()[1:])))
    expect = int(first["Male"] > 0) + 2 * int(first["Smiling"] > 0)
    assert dm.datasets["train"][0][1] == expect
    with pytest.raises(ConfigError, match="Moustache"):
        CelebADataModule(root=str(tmp_path), attributes=["Moustache"]).setup()


def test_lsun_categories_as_labels(tmp_path):
    pytest.importorskip("lmdb")
    make_fake_lsun(tmp_path, "bedroom")
    make_fake_lsun(tmp_path, "kitchen", n_train=10)
    dm = LSUNDataModule(root=str(tmp_path), category=["bedroom", "kitchen"], batch_size=4)
    assert dm.num_classes == 2
    dm.setup()
    assert len(dm.datasets["train"]) == 34
    assert {dm.datasets["train"][i][1] for i in (0, 33)} == {0, 1}
    assert not list(tmp_path.parent.glob("_cache_*"))  # torchvision's key cache stays in root


def test_imagefolder_corrupt_file_error_and_skip(tmp_path):
    make_fake_imagefolder(tmp_path, classes=(), per_class=10, corrupt=True)
    dm = ImageFolderDataModule(root=str(tmp_path), n_val=3, n_test=3, batch_size=2, image_size=16)
    assert dm.num_classes is None
    dm.setup()
    ds, i = next(
        (d, k) for d in dm.datasets.values() for k, f in enumerate(d.files) if "corrupt" in f.name
    )
    with pytest.raises(DataError, match="img_999_corrupt.png"):
        ds[i]
    ds.on_corrupt = "skip"
    x, y = ds[i]  # the next readable image
    assert x.shape == (3, 16, 16) and y == 0


def test_imagefolder_grayscale_and_errors(tmp_path):
    make_fake_imagefolder(tmp_path / "a")
    dm = ImageFolderDataModule(
        root=str(tmp_path / "a"), channels=1, n_val=2, n_test=2, image_size=16, batch_size=4
    )
    dm.setup()
    assert dm.shape == (1, 16, 16) and dm.datasets["train"][0][0].shape == (1, 16, 16)
    with pytest.raises(DataError, match="not found"):
        ImageFolderDataModule(root=str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images"):
        ImageFolderDataModule(root=str(tmp_path / "empty")).setup()
    with pytest.raises(ConfigError, match="n_val"):
        ImageFolderDataModule(root=str(tmp_path / "a"), n_val=20, n_test=20).setup()


def test_loader_options_and_batch_size_errors(tmp_path):
    make_fake_mnist(tmp_path)
    dm = MNISTDataModule(
        root=str(tmp_path),
        n_val=16,
        batch_size=8,
        num_workers=1,
        persistent_workers=True,
        pin_memory=False,
        image_size=32,
    )
    dm.setup()
    dl = dm.train_dataloader()
    assert dl.num_workers == 1 and dl.persistent_workers and dl.drop_last
    x, _ = next(iter(dl))
    assert x.shape == (8, 1, 32, 32)
    big = MNISTDataModule(root=str(tmp_path), n_val=16, batch_size=500)
    big.setup()
    with pytest.raises(ConfigError, match="batch_size"):
        big.train_dataloader()
    with pytest.raises(ConfigError, match="n_val"):
        MNISTDataModule(root=str(tmp_path), n_val=1000).setup()


def test_download_without_network_support_is_a_clear_error(tmp_path):
    dm = LSUNDataModule(root=str(tmp_path), download=True)
    with pytest.raises(DataError, match="LSUN script"):
        dm.prepare_data()
