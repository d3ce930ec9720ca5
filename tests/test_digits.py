"""The embedded digits set: shapes, range, 17 discrete levels, labels, seeded disjoint splits."""

from __future__ import annotations

import pytest
import torch

from gens.data import DigitsDataModule
from gens.data.digits import load_digits_tensors
from gens.utils.errors import ConfigError


def test_digits_module_surface_and_splits():
    dm = DigitsDataModule(image_size=32, seed=3)
    assert (dm.kind, dm.shape, dm.num_classes, dm.num_levels) == ("image", (1, 32, 32), 10, 17)
    dm.setup()
    sizes = {k: len(v[0]) for k, v in dm.splits.items()}
    assert sizes == {"train": 1297, "val": 200, "test": 300}
    x, y = dm.splits["train"]
    assert x.dtype == torch.float32 and x.min() >= -1 and x.max() <= 1
    assert x.min() == -1 and x.max() == 1
    assert y.dtype == torch.long and set(y.tolist()) == set(range(10))
    # quantized back onto the 17 raw levels
    levels = (x + 1) / 2 * 16
    assert torch.allclose(levels, levels.round(), atol=1e-5)
    # the splits partition the 1,797 digits
    idx = torch.cat(list(dm.indices.values()))
    assert len(idx) == 1797 and len(idx.unique()) == 1797
    xb, yb = next(iter(dm.train_dataloader()))
    assert xb.shape == (64, 1, 32, 32) and yb.shape == (64,)


def test_digits_split_is_seeded():
    a, b, c = (DigitsDataModule(seed=s) for s in (0, 0, 1))
    for dm in (a, b, c):
        dm.setup()
    assert torch.equal(a.splits["test"][0], b.splits["test"][0])
    assert not torch.equal(a.splits["test"][0], c.splits["test"][0])


def test_digits_original_size_and_unquantized():
    x8, y = load_digits_tensors(image_size=8)
    assert x8.shape == (1797, 1, 8, 8) and len(y) == 1797
    assert len(torch.unique(x8)) == 17
    xs, _ = load_digits_tensors(image_size=32, quantize=False)
    assert len(torch.unique(xs)) > 17  # interpolation creates in-between values
    xn, _ = load_digits_tensors(image_size=16, interpolation="nearest", quantize=False)
    assert len(torch.unique(xn)) == 17


@pytest.mark.parametrize(
    "kwargs", [{"image_size": 2}, {"interpolation": "area"}, {"n_val": 1000, "n_test": 1000}]
)
def test_digits_bad_config(kwargs):
    with pytest.raises(ConfigError):
        DigitsDataModule(**kwargs)
