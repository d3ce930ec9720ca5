"""The tabular density-estimation sets of MAF (Papamakarios, Pavlakou & Murray 2017, Masked
Autoregressive Flow for Density Estimation), read from the files of the paper's data archive
(Zenodo record 10.5281/zenodo.1161203) and preprocessed as the paper's code does (gpapamak/maf
``datasets/*.py``, kept unchanged by Neural Spline Flows, Durkan et al. 2019, bayesiains/nsf
``data/*.py``). Splits are fixed, so every paper's test NLL is on the same examples.

- POWER (6 dims): ``power/data.npy``, 8 columns. Rows shuffled by ``RandomState(42)``; columns 3
  (global intensity) and 1 (global reactive power) deleted; uniform noise added from the same
  generator (width 0.001, 0.01, 1, 1, 1 on the five kept measurements; none on the time). Test:
  the last 10%; validation: the last 10% of the rest; standardized with the mean and std of
  train + validation.
- GAS (8 dims): ``gas/ethylene_CO.pickle``, a pandas DataFrame. Columns Meth, Eth and Time
  dropped; while a column has Pearson correlation > 0.98 with another, the first such column
  is dropped; every column standardized over all rows (pandas' std, ddof=1); test the last
  10%, validation the last 10% of the rest.
- HEPMASS (21 dims): ``hepmass/1000_train.csv`` and ``1000_test.csv`` (a header, then the
  label and 27 features; the test file also has the mass, its last column). Signal rows only
  (label 1), label dropped, the last column of the test file dropped; standardized with the
  training file's mean and std (ddof=1); features whose smallest value occurs more than 5
  times in training dropped (the reference's test); validation the last 10% of training.
- MINIBOONE (43 dims): ``miniboone/data.npy``. Test the last 10%, validation the last 10% of
  the rest, standardized with the mean and std of train + validation.
- BSDS300 (63 dims): ``BSDS300/BSDS300.hdf5`` with datasets ``train``, ``validation``,
  ``test`` of already preprocessed 8x8 patches (the last pixel dropped); needs ``h5py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from gens.utils.errors import DataError

__all__ = ["TABULAR_DIMS", "TABULAR_FILES", "ZENODO", "load_tabular", "read_gas_sensors"]

ZENODO = "https://zenodo.org/record/1161203 (doi 10.5281/zenodo.1161203)"
TABULAR_DIMS = {"power": 6, "gas": 8, "hepmass": 21, "miniboone": 43, "bsds300": 63}
TABULAR_FILES = {
    "power": ("power/data.npy",),
    "gas": ("gas/ethylene_CO.pickle",),
    "hepmass": ("hepmass/1000_train.csv", "hepmass/1000_test.csv"),
    "miniboone": ("miniboone/data.npy",),
    "bsds300": ("BSDS300/BSDS300.hdf5",),
}
# the Python package a set's file format needs beyond numpy
TABULAR_PACKAGES = {"gas": "pandas", "bsds300": "h5py"}

Splits = dict[str, np.ndarray]


def _tail_split(data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference's split: test the last 10%, validation the last 10% of the rest."""
    n_test = int(0.1 * data.shape[0])
    test, rest = data[-n_test:], data[:-n_test]
    n_val = int(0.1 * rest.shape[0])
    return rest[:-n_val], rest[-n_val:], test


def _standardized(train, val, test) -> Splits:
    """Standardized with the mean and (population) std of train + validation."""
    both = np.vstack((train, val))
    mu, s = both.mean(axis=0), both.std(axis=0)
    return {"train": (train - mu) / s, "val": (val - mu) / s, "test": (test - mu) / s}


def _npy(path: Path) -> np.ndarray:
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as e:  # truncated file, a pickle in disguise
        raise DataError(
            f"cannot read {path}: {type(e).__name__}: {e}; get the file again from {ZENODO}"
        ) from e
    if data.ndim != 2:
        raise DataError(f"{path} holds an array of shape {data.shape}, not a table (N, D)")
    return data


def load_power(root: Path) -> Splits:
    rng = np.random.RandomState(42)
    data = _npy(root / "power" / "data.npy")
    rng.shuffle(data)
    n = data.shape[0]
    data = np.delete(data, 3, axis=1)
    data = np.delete(data, 1, axis=1)
    # the reference draws the noise in this order from the generator that shuffled the rows
    voltage_noise = 0.01 * rng.rand(n, 1)
    gap_noise = 0.001 * rng.rand(n, 1)
    sm_noise = rng.rand(n, 3)
    time_noise = np.zeros((n, 1))
    data += np.hstack((gap_noise, voltage_noise, sm_noise, time_noise))
    return _standardized(*_tail_split(data))


def load_miniboone(root: Path) -> Splits:
    return _standardized(*_tail_split(_npy(root / "miniboone" / "data.npy")))


def _drop_correlated(data: np.ndarray, threshold: float = 0.98) -> np.ndarray:
    """Drop the first column correlated above ``threshold`` with another, until none is."""
    while True:
        with np.errstate(invalid="ignore", divide="ignore"):
            many = (np.corrcoef(data, rowvar=False) > threshold).sum(axis=1)
        if not np.any(many > 1):
            return data
        data = np.delete(data, np.where(many > 1)[0][0], axis=1)


# What a pickled DataFrame names: pandas' frame, index, block and array classes and their
# rebuilders (older pandas put some under other paths), numpy's arrays, and a few builtins.
# Nothing else in pandas (pandas.eval can run code) or numpy.
PANDAS_MODULES = (
    "pandas.core.frame",
    "pandas.core.series",
    "pandas.core.internals",
    "pandas.core.indexes",
    "pandas.core.index",
    "pandas.core.arrays",
    "pandas.core.dtypes",
    "pandas.indexes",
    "pandas.arrays",
    "pandas._libs",
)
PANDAS_CLASSES = (
    "DataFrame Series Index RangeIndex MultiIndex CategoricalIndex DatetimeIndex "
    "TimedeltaIndex Categorical CategoricalDtype StringDtype Int64Dtype Float64Dtype "
    "BooleanDtype DatetimeTZDtype Timestamp Timedelta"
).split()
SAFE_NAMES = {
    *(("pandas", name) for name in PANDAS_CLASSES),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),  # protocol-5 pickles
    ("numpy._core.numeric", "_frombuffer"),
    ("builtins", "slice"),
    ("builtins", "object"),
    ("__builtin__", "slice"),  # Python 2 pickles
    ("__builtin__", "object"),
    ("copyreg", "_reconstructor"),
    ("copy_reg", "_reconstructor"),
    ("_codecs", "encode"),
    ("collections", "OrderedDict"),
}


def _allowed(module: str, name: str) -> bool:
    if (module, name) in SAFE_NAMES:
        return True
    return any(module == m or module.startswith(m + ".") for m in PANDAS_MODULES)


def read_gas_sensors(path: Path):
    """The sensor columns of ``ethylene_CO.pickle`` (Meth, Eth and Time dropped), unpickled
    by pandas' compatibility unpickler restricted to the names a DataFrame needs, so a file
    naming anything else (which could run code) is refused."""
    import pickle

    from pandas.compat.pickle_compat import Unpickler

    class _FrameUnpickler(Unpickler):
        def find_class(self, module: str, name: str):
            if _allowed(module, name):
                return super().find_class(module, name)
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file")

    try:
        with open(path, "rb") as f:
            frame = _FrameUnpickler(f, encoding="latin1").load()
        return frame.drop(columns=["Meth", "Eth", "Time"])
    except Exception as e:  # a foreign pickle, or one without the reference's columns
        raise DataError(
            f"cannot read GAS DataFrame {path}: {type(e).__name__}: {e}; the file is corrupt, "
            f"not from {ZENODO}, or from a pandas too old for this one to read"
        ) from e


def load_gas(root: Path) -> Splits:
    data = read_gas_sensors(root / "gas" / "ethylene_CO.pickle").to_numpy(dtype=np.float64)
    data = _drop_correlated(data)
    data = (data - data.mean(axis=0)) / data.std(axis=0, ddof=1)
    train, val, test = _tail_split(data)
    return {"train": train, "val": val, "test": test}


def _csv(path: Path) -> tuple[list[str], np.ndarray]:
    try:
        with open(path) as f:
            names = [c.strip() for c in f.readline().split(",")]
        data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2, dtype=np.float64)
    except Exception as e:
        raise DataError(
            f"cannot read HEPMASS file {path}: {type(e).__name__}: {e}; get it again from {ZENODO}"
        ) from e
    if data.shape[1] != len(names):
        raise DataError(
            f"{path} has {len(names)} header names but {data.shape[1]} columns of values"
        )
    return names, data


def _smallest_value_repeats(column: np.ndarray, times: int = 5) -> bool:
    """The reference's test for a discrete feature: its smallest value occurs > ``times``
    times (it sorts the value counts by value and takes the first)."""
    return int(np.count_nonzero(column == column.min())) > times


def load_hepmass(root: Path) -> Splits:
    names_train, train = _csv(root / "hepmass" / "1000_train.csv")
    names_test, test = _csv(root / "hepmass" / "1000_test.csv")
    train, names_train = train[train[:, 0] == 1][:, 1:], names_train[1:]
    test, names_test = test[test[:, 0] == 1][:, 1:-1], names_test[1:-1]
    # the reference's pandas arithmetic pairs test columns with training ones by name
    where = {name: i for i, name in enumerate(names_test)}
    test = np.stack(
        [test[:, where[n]] if n in where else np.full(len(test), np.nan) for n in names_train], 1
    )
    # counted on the raw values: the same ranks as the standardized ones the reference counts
    # on, and a constant column (NaN once standardized) is dropped too
    keep = [j for j in range(train.shape[1]) if not _smallest_value_repeats(train[:, j])]
    train, test = train[:, keep], test[:, keep]
    mu, s = train.mean(axis=0), train.std(axis=0, ddof=1)
    train, test = (train - mu) / s, (test - mu) / s
    n_val = int(0.1 * train.shape[0])
    return {"train": train[:-n_val], "val": train[-n_val:], "test": test}


SPLIT_KEYS = {"train": "train", "val": "validation", "test": "test"}


def load_bsds300(root: Path) -> Splits:
    import h5py

    path = root / "BSDS300" / "BSDS300.hdf5"
    try:
        with h5py.File(path, "r") as f:
            return {k: np.asarray(f[key]) for k, key in SPLIT_KEYS.items()}
    except Exception as e:  # not HDF5, or a missing split
        raise DataError(
            f"cannot read BSDS300 file {path}: {type(e).__name__}: {e}; get it again from {ZENODO}"
        ) from e


LOADERS: dict[str, Callable[[Path], Splits]] = {
    "power": load_power,
    "gas": load_gas,
    "hepmass": load_hepmass,
    "miniboone": load_miniboone,
    "bsds300": load_bsds300,
}


def load_tabular(name: str, root: str | Path) -> dict[str, np.ndarray]:
    """The ``train`` / ``val`` / ``test`` arrays (float32, ``(N, D)``) of one set."""
    splits = LOADERS[name](Path(root).expanduser())
    dim = TABULAR_DIMS[name]
    for split, x in splits.items():
        if x.ndim != 2 or x.shape[1] != dim:
            raise DataError(
                f"{name.upper()} preprocessing gave {split} data of shape {x.shape}, not "
                f"(N, {dim}); are the files under {root} the ones from {ZENODO}?"
            )
        if not np.isfinite(x).all():
            raise DataError(
                f"{name.upper()} {split} data has NaN or infinite values after preprocessing; "
                f"are the files under {root} the ones from {ZENODO}?"
            )
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in splits.items()}
