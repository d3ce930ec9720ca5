"""The MAF paper's tabular sets (gens.data.maf_tabular / gens.data.tabular) on tiny fake files in
the archive's formats: shapes, the reference's splits and standardization, determinism, and
one-line errors for missing files, missing packages and foreign files."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from gens.data import TabularDataModule
from gens.data.maf_tabular import TABULAR_DIMS, load_tabular
from gens.utils.errors import ConfigError, DataError
from tests.fakedata import make_fake_tabular

SETS = sorted(TABULAR_DIMS)
N = 400  # rows the fake writers put in each file


def _tail_sizes(n: int) -> tuple[int, int, int]:
    """train / val / test sizes of the reference's split of n rows."""
    n_test = int(0.1 * n)
    n_val = int(0.1 * (n - n_test))
    return n - n_test - n_val, n_val, n_test


@pytest.mark.parametrize("name", SETS)
def test_loader_shapes_dtypes_and_determinism(tmp_path, name):
    make_fake_tabular(name, tmp_path, n=N)
    a, b = load_tabular(name, tmp_path), load_tabular(name, tmp_path)
    for split in ("train", "val", "test"):
        assert a[split].dtype == np.float32 and a[split].shape[1] == TABULAR_DIMS[name]
        assert np.array_equal(a[split], b[split])


@pytest.mark.parametrize("name", ["power", "gas", "miniboone"])
def test_tail_split_sizes(tmp_path, name):
    make_fake_tabular(name, tmp_path, n=N)
    s = load_tabular(name, tmp_path)
    assert tuple(len(s[k]) for k in ("train", "val", "test")) == _tail_sizes(N)


@pytest.mark.parametrize("name", ["power", "miniboone"])
def test_standardized_with_train_and_validation_statistics(tmp_path, name):
    make_fake_tabular(name, tmp_path, n=N)
    s = load_tabular(name, tmp_path)
    both = np.vstack((s["train"], s["val"])).astype(np.float64)
    assert np.allclose(both.mean(0), 0, atol=1e-5) and np.allclose(both.std(0), 1, atol=1e-5)
    assert not np.allclose(s["test"].mean(0), 0, atol=1e-3)  # test statistics not used


def test_miniboone_keeps_row_order(tmp_path):
    """No shuffle: the test split is the file's last 10%, standardized with train + val."""
    make_fake_tabular("miniboone", tmp_path, n=N)
    raw = np.load(tmp_path / "miniboone" / "data.npy")
    n_train, n_val, _ = _tail_sizes(N)
    both = raw[: n_train + n_val]
    want = (raw[n_train + n_val :] - both.mean(0)) / both.std(0)
    assert np.allclose(load_tabular("miniboone", tmp_path)["test"], want, atol=1e-5)


def test_power_drops_two_columns_and_adds_no_noise_to_the_time(tmp_path):
    """Columns 1 and 3 of the fake file are constant (a kept one would be NaN once
    standardized); the last kept column, the time in minutes, stays integer."""
    make_fake_tabular("power", tmp_path, n=N)
    raw = np.load(tmp_path / "power" / "data.npy")
    s = load_tabular("power", tmp_path)
    time = np.concatenate([s[k][:, -1] for k in ("train", "val", "test")]).astype(np.float64)
    # undo the standardization with the raw time column's statistics over train + val
    rng = np.random.RandomState(42)
    shuffled = raw.copy()
    rng.shuffle(shuffled)
    n_train, n_val, _ = _tail_sizes(N)
    t = shuffled[: n_train + n_val, 7]
    minutes = time * t.std() + t.mean()
    assert np.allclose(minutes, np.round(minutes), atol=1e-2)
    assert np.allclose(np.sort(minutes), np.sort(raw[:, 7]), atol=1e-2)


def test_power_split_follows_the_seeded_shuffle(tmp_path):
    """RandomState(42) shuffles the rows before the split: the test rows are the shuffled
    file's last 10% (checked on the time column, which gets no noise)."""
    make_fake_tabular("power", tmp_path, n=N)
    raw = np.load(tmp_path / "power" / "data.npy")
    shuffled = raw.copy()
    np.random.RandomState(42).shuffle(shuffled)
    n_train, n_val, _ = _tail_sizes(N)
    t = shuffled[: n_train + n_val, 7]
    test_minutes = load_tabular("power", tmp_path)["test"][:, -1] * t.std() + t.mean()
    assert np.allclose(test_minutes, shuffled[n_train + n_val :, 7], atol=1e-2)


def test_gas_drops_correlated_columns_and_standardizes_all_rows(tmp_path):
    make_fake_tabular("gas", tmp_path, n=N)
    s = load_tabular("gas", tmp_path)
    every = np.vstack([s[k] for k in ("train", "val", "test")]).astype(np.float64)
    corr = np.corrcoef(every, rowvar=False)
    assert (np.abs(corr - np.eye(8)) < 0.98).all()
    # the reference standardizes over every row, with pandas' std (ddof=1)
    assert np.allclose(every.mean(0), 0, atol=1e-5)
    assert np.allclose(every.std(0, ddof=1), 1, atol=1e-5)


def test_hepmass_keeps_signal_rows_and_continuous_features(tmp_path):
    make_fake_tabular("hepmass", tmp_path, n=N)
    s = load_tabular("hepmass", tmp_path)
    n_signal_train, n_signal_test = N // 2, N // 4  # every other row is signal
    assert len(s["test"]) == n_signal_test
    assert len(s["val"]) == int(0.1 * n_signal_train)
    assert len(s["train"]) + len(s["val"]) == n_signal_train
    every = np.vstack([s["train"], s["val"]]).astype(np.float64)
    # standardized with the whole training file's statistics, before the validation split
    assert np.allclose(every.mean(0), 0, atol=1e-5)
    assert np.allclose(every.std(0, ddof=1), 1, atol=1e-5)
    assert np.abs(s["test"]).max() < 10  # background rows (all 100) are gone


def test_data_module_serves_vectors(tmp_path):
    make_fake_tabular("power", tmp_path, n=N)
    dm = TabularDataModule("power", str(tmp_path), batch_size=32)
    assert dm.kind == "vector" and dm.shape == (6,) and dm.num_levels is None
    dm.setup("fit")
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (32, 6) and (y == 0).all()
    assert len(dm.splits["test"][0]) == _tail_sizes(N)[2]


@pytest.mark.parametrize("name", SETS)
def test_missing_file_is_one_line_naming_path_and_archive(tmp_path, name):
    with pytest.raises(DataError) as err:
        TabularDataModule(name, str(tmp_path / "nowhere"))
    msg = str(err.value)
    assert "\n" not in msg and str(tmp_path / "nowhere") in msg
    assert "10.5281/zenodo.1161203" in msg


def test_missing_package_is_one_line(tmp_path, monkeypatch):
    import importlib.util

    make_fake_tabular("bsds300", tmp_path, n=N)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "h5py" else real(n, *a)
    )
    with pytest.raises(DataError, match=r"needs the h5py package: pip install h5py"):
        TabularDataModule("bsds300", str(tmp_path))


def test_unknown_set_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown tabular set 'cifar'"):
        TabularDataModule("cifar", str(tmp_path))


def test_gas_pickle_that_names_other_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("this must not run",))

    (tmp_path / "gas").mkdir()
    with open(tmp_path / "gas" / "ethylene_CO.pickle", "wb") as f:
        pickle.dump(Evil(), f)
    with pytest.raises(DataError, match="refusing to load builtins.print") as err:
        load_tabular("gas", tmp_path)
    assert "\n" not in str(err.value)


def test_gas_pickle_that_calls_pandas_eval_is_refused(tmp_path):
    """pandas itself has functions that run code: only a DataFrame's own classes load."""
    import pandas as pd

    class Evil:
        def __reduce__(self):
            return (pd.eval, ("1 + 1",))

    (tmp_path / "gas").mkdir()
    with open(tmp_path / "gas" / "ethylene_CO.pickle", "wb") as f:
        pickle.dump(Evil(), f)
    with pytest.raises(DataError, match="refusing to load pandas.eval"):
        load_tabular("gas", tmp_path)


def test_a_file_of_the_wrong_width_names_the_expected_shape(tmp_path):
    (tmp_path / "miniboone").mkdir()
    np.save(tmp_path / "miniboone" / "data.npy", np.random.default_rng(0).normal(size=(50, 10)))
    with pytest.raises(DataError, match=r"not \(N, 43\)"):
        load_tabular("miniboone", tmp_path)


def test_a_pickled_npy_is_refused(tmp_path):
    (tmp_path / "power").mkdir()
    np.save(tmp_path / "power" / "data.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataError, match="cannot read"):
        load_tabular("power", tmp_path)
