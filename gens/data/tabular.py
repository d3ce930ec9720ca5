"""The MAF paper's tabular sets (POWER, GAS, HEPMASS, MINIBOONE, BSDS300; Papamakarios et al.
2017, as used by Neural Spline Flows, Durkan et al. 2019) as a data module of flat vectors.

The files come from the MAF paper's data archive (Zenodo record 10.5281/zenodo.1161203):
extract ``data.tar.gz`` so that ``<root>/power/data.npy``, ``<root>/gas/ethylene_CO.pickle``,
``<root>/hepmass/1000_{train,test}.csv``, ``<root>/miniboone/data.npy`` and
``<root>/BSDS300/BSDS300.hdf5`` exist. Preprocessing and splits: ``gens.data.maf_tabular``.
The data are continuous (no dequantization) and unlabeled; batches are ``(x, zeros)``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from gens.data.base import GensDataModule
from gens.data.maf_tabular import (
    TABULAR_DIMS,
    TABULAR_FILES,
    TABULAR_PACKAGES,
    ZENODO,
    load_tabular,
)
from gens.utils.errors import ConfigError, DataError

__all__ = ["TabularDataModule"]


class TabularDataModule(GensDataModule):
    """One of the MAF tabular sets, served from memory.

    Args:
        name: ``power`` | ``gas`` | ``hepmass`` | ``miniboone`` | ``bsds300``.
        root: the folder the MAF data archive was extracted into (it holds ``power/``, ...).
        Other arguments as ``GensDataModule``.
    """

    kind = "vector"
    partial_labels = False  # the tabular sets carry no labels

    def __init__(
        self,
        name: str,
        root: str,
        batch_size: int = 512,
        **options,
    ):
        super().__init__(batch_size=batch_size, **options)
        if name not in TABULAR_DIMS:
            raise ConfigError(
                f"unknown tabular set '{name}'; choose one of {', '.join(TABULAR_DIMS)}"
            )
        self.name, self.root = name, Path(root).expanduser()
        self.shape = (TABULAR_DIMS[name],)
        package = TABULAR_PACKAGES.get(name)
        if package and importlib.util.find_spec(package) is None:
            raise DataError(
                f"{name.upper()}'s file {TABULAR_FILES[name][0]} needs the {package} package: "
                f"pip install {package} (or pip install 'gens[tabular]')"
            )
        for rel in TABULAR_FILES[name]:
            path = self.root / rel
            if not path.is_file():
                raise DataError(
                    f"{name.upper()} not found: {path} does not exist; extract data.tar.gz "
                    f"of the MAF paper's data ({ZENODO}) into {self.root}"
                )
        self.splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        arrays = load_tabular(self.name, self.root)
        if len(arrays["train"]) < 1 or len(arrays["val"]) < 1 or len(arrays["test"]) < 1:
            raise DataError(
                f"{self.name.upper()} under {self.root} is too small to split into train, "
                "validation and test; use the files from the MAF data archive"
            )
        self.splits = {
            k: (torch.from_numpy(x), torch.zeros(len(x), dtype=torch.long))
            for k, x in arrays.items()
        }
