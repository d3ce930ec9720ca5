"""Base data module and an in-memory batch loader for sets that fit in memory.

Small sets (toy 2-D data, digits) are served straight from tensors: a DataLoader with
collation costs more per step than the MLP GANs trained on them.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch

from gens.utils.errors import ConfigError

__all__ = ["GensDataModule", "InMemoryLoader", "EpochSampler"]


class EpochSampler:
    """Seeded permutation of ``n`` indices, reshuffled by ``set_epoch`` (Lightning calls it).

    Under DDP each rank takes every ``world_size``-th index of the same permutation, padded so
    that all ranks see the same number of batches.
    """

    def __init__(self, n: int, shuffle: bool, seed: int, rank: int = 0, world_size: int = 1):
        self.n, self.shuffle, self.seed = n, shuffle, seed
        self.rank, self.world_size = rank, world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def indices(self) -> torch.Tensor:
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + 1_000_003 * self.epoch)
            idx = torch.randperm(self.n, generator=g)
        else:
            idx = torch.arange(self.n)
        if self.world_size > 1:
            per_rank = -(-self.n // self.world_size)
            pad = per_rank * self.world_size - self.n
            idx = torch.cat([idx, idx[:pad]])[self.rank :: self.world_size]
        return idx

    def __len__(self) -> int:
        return -(-self.n // self.world_size)


class InMemoryLoader:
    """Iterates ``(x, y)`` batches sliced from in-memory tensors: no workers, no collation."""

    def __init__(
        self,
        tensors: tuple[torch.Tensor, ...],
        batch_size: int,
        shuffle: bool = True,
        drop_last: bool = True,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        pin_memory: bool = False,
    ):
        self.tensors = tensors
        # page-locked batches only help (and only work) with a GPU to copy them to
        self.pin_memory = bool(pin_memory) and torch.cuda.is_available()
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = EpochSampler(len(tensors[0]), shuffle, seed, rank, world_size)
        self.batch_sampler = None  # DataLoader's surface, which Lightning inspects

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        idx = self.sampler.indices()
        for b in range(len(self)):
            sel = idx[b * self.batch_size : (b + 1) * self.batch_size]
            yield self.pinned(tuple(t[sel] for t in self.tensors))

    def pinned(self, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        return tuple(t.pin_memory() for t in batch) if self.pin_memory else batch


class GensDataModule(pl.LightningDataModule):
    """Common surface of gens data modules.

    Attributes set by subclasses in ``__init__`` (before ``setup``):
      ``kind``: ``"vector"`` or ``"image"``;
      ``shape``: ``(D,)`` or ``(C, H, W)``;
      ``num_classes``: number of labels, or ``None`` for unlabeled sets;
      ``num_levels``: number of discrete values per dimension (256 for 8-bit images), or ``None``
      for continuous data; flows use it to dequantize.

    ``labels_per_class`` (in-memory labelled sets; the others set ``partial_labels = False``):
    keep the labels of only that many training examples per class, picked by a fixed seed, for
    semi-supervised training (``gens.data.semi``); training batches are then
    ``(x, y, x_lab, y_lab, x_unl2)``.

    ``monitor`` (from the data config) names the validation metric that measures a model's
    samples on this data (``val/rkl`` on mixtures, ``val/fid`` on images): the metric a best
    checkpoint tracks unless the model config declares its own.

    ``num_workers``, ``pin_memory`` and ``persistent_workers`` are the DataLoader options of
    every data module. In-memory sets slice their batches from tensors in the main process,
    where worker processes would only add cost; they pin those batches with ``pin_memory``.
    """

    kind: str = "vector"
    shape: tuple[int, ...] = ()
    num_classes: int | None = None
    num_levels: int | None = None
    partial_labels: bool = True

    def __init__(
        self,
        batch_size: int = 128,
        eval_batch_size: int | None = None,
        seed: int = 0,
        monitor: str | None = None,
        labels_per_class: int | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        persistent_workers: bool = False,
    ):
        super().__init__()
        self.monitor = monitor
        if labels_per_class is not None and not self.partial_labels:
            raise ConfigError(
                f"{type(self).__name__} has no labels to keep: drop data.labels_per_class "
                "(it takes a labelled set such as data=digits)"
            )
        if labels_per_class is not None and int(labels_per_class) < 1:
            raise ConfigError(f"data.labels_per_class must be >= 1, got {labels_per_class}")
        self.labels_per_class = None if labels_per_class is None else int(labels_per_class)
        if int(batch_size) < 1:
            raise ConfigError(f"data.batch_size must be >= 1, got {batch_size}")
        if int(num_workers) < 0:
            raise ConfigError(f"data.num_workers must be >= 0, got {num_workers}")
        self.num_workers = int(num_workers)
        self.pin_memory = bool(pin_memory)
        self.persistent_workers = bool(persistent_workers) and self.num_workers > 0
        self.batch_size = int(batch_size)
        self.eval_batch_size = int(eval_batch_size or max(batch_size, 500))
        self.seed = int(seed)

    @property
    def dim(self) -> int:
        """Number of scalar dimensions of one example."""
        d = 1
        for s in self.shape:
            d *= s
        return d

    def _rank_world(self) -> tuple[int, int]:
        trainer = self.trainer
        if trainer is None:
            return 0, 1
        return trainer.global_rank, trainer.world_size

    def loader_options(self, n: int, train: bool, what: str = "examples") -> dict:
        """The ``InMemoryLoader`` keywords of a split of ``n`` ``what``: training shuffles,
        drops the last partial batch and must fill one batch on every device."""
        rank, world = self._rank_world()
        if train and self.batch_size * world > n:
            raise ConfigError(
                f"data.batch_size={self.batch_size} x {world} device(s) exceeds the "
                f"{n} training {what}; lower data.batch_size"
            )
        return {
            "batch_size": self.batch_size if train else self.eval_batch_size,
            "shuffle": train,
            "drop_last": train,
            "seed": self.seed,
            "rank": rank,
            "world_size": world,
            "pin_memory": self.pin_memory,
        }

    def _loader(self, tensors, train: bool) -> InMemoryLoader:
        return InMemoryLoader(tensors, **self.loader_options(len(tensors[0]), train))

    def split_loader(self, split: str, train: bool):
        """The loader of one split (``train`` shuffles and drops the last partial batch);
        in-memory sets serve ``self.splits[split]``."""
        if train and self.labels_per_class is not None:
            return self._semi_supervised_loader(*self.splits[split][:2])
        return self._loader(self.splits[split], train)

    def labelled_indices(self) -> torch.Tensor:
        """Positions in the training split of the examples whose labels are kept."""
        from gens.data.semi import labelled_subset

        if not self.num_classes:
            raise ConfigError(
                f"data.labels_per_class needs a labelled data set; {type(self).__name__} "
                "has no labels"
            )
        return labelled_subset(self.splits["train"][1], self.labels_per_class, self.seed)

    def _semi_supervised_loader(self, x, y):
        from gens.data.semi import SemiSupervisedLoader

        rank, world = self._rank_world()
        return SemiSupervisedLoader(
            x, y, self.labelled_indices(), self.batch_size, self.seed, rank=rank, world_size=world
        )

    def train_dataloader(self):
        return self.split_loader("train", True)

    def val_dataloader(self):
        return self.split_loader("val", False)

    def test_dataloader(self):
        return self.split_loader("test", False)
