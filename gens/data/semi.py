"""The labelled subset and the batches of semi-supervised training (Salimans et al. 2016,
Improved Techniques for Training GANs, Sec. 5: a few labels per class, the rest unlabelled).

``labelled_subset`` picks ``per_class`` examples of every class from a fixed seed (the same
subset for every run of that data seed). ``SemiSupervisedLoader`` serves training batches
``(x, y, x_lab, y_lab, x_unl2)``: a batch of the whole training set whose labels are -1 outside
the subset, a batch of the labelled subset (cycled, reshuffled each epoch), and a second,
independently shuffled batch of the whole set for the generator's step, as in the paper's code.
"""

from __future__ import annotations

import torch

from gens.data.base import InMemoryLoader
from gens.utils.errors import DataError

__all__ = ["SemiSupervisedLoader", "labelled_subset", "LABEL_SEED"]

#: the subset depends on the data seed and this constant only, never on the training seed
LABEL_SEED = 7_919


def labelled_subset(y: torch.Tensor, per_class: int, seed: int) -> torch.Tensor:
    """Sorted indices of ``per_class`` examples of each class of ``y``, chosen by ``seed``."""
    g = torch.Generator().manual_seed(LABEL_SEED + int(seed))
    picked = []
    for c in torch.unique(y).tolist():
        idx = torch.nonzero(y == c).flatten()
        if len(idx) < per_class:
            raise DataError(
                f"data.labels_per_class={per_class} but class {c} has only {len(idx)} training "
                f"examples; use data.labels_per_class <= {len(idx)}"
            )
        picked.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    return torch.cat(picked).sort().values


class SemiSupervisedLoader(InMemoryLoader):
    """Training batches of semi-supervised GANs; see the module docstring."""

    def __init__(self, x, y, labelled: torch.Tensor, batch_size: int, seed: int = 0, **kw):
        masked = torch.full_like(y, -1)
        masked[labelled] = y[labelled]
        super().__init__((x, masked), batch_size, shuffle=True, drop_last=True, seed=seed, **kw)
        self.x_lab, self.y_lab = x[labelled], y[labelled]
        self.x_all = x

    def _stream(self, n: int, count: int, offset: int) -> torch.Tensor:
        """``count`` indices into ``n`` items: seeded permutations, one after another."""
        g = torch.Generator().manual_seed(self.sampler.seed + offset + 7 * self.sampler.epoch)
        reps = -(-count // n)
        return torch.cat([torch.randperm(n, generator=g) for _ in range(reps)])[:count]

    def __iter__(self):
        total = len(self) * self.batch_size
        rank = self.sampler.rank
        lab = self._stream(len(self.x_lab), total, 1_000 + rank)
        unl2 = self._stream(len(self.x_all), total, 2_000 + rank)
        for b, (x, y) in enumerate(super().__iter__()):
            sl = slice(b * self.batch_size, (b + 1) * self.batch_size)
            i, j = lab[sl], unl2[sl]
            yield x, y, self.x_lab[i], self.y_lab[i], self.x_all[j]
