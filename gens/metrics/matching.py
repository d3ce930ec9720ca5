"""Accuracy of unsupervised clusters against labels under the best one-to-one matching of
clusters to classes (the Hungarian algorithm, Kuhn 1955): how InfoGAN's categorical code is
scored against digit classes (Chen et al. 2016 report about 5 % error on MNIST)."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["matched_accuracy"]


def matched_accuracy(clusters: torch.Tensor, labels: torch.Tensor, k: int | None = None) -> float:
    """Fraction of examples whose cluster maps to their label, with clusters mapped to labels
    one-to-one so as to maximize that fraction (``scipy.optimize.linear_sum_assignment``)."""
    from scipy.optimize import linear_sum_assignment

    c = clusters.long().cpu().numpy()
    y = labels.long().cpu().numpy()
    k = int(k or max(c.max(), y.max()) + 1)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (c, y), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / len(c))
