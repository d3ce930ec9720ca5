"""Linear probe: how linearly separable the classes are in a representation, the measure of
learned features in Donahue et al. 2017 (BiGAN) and Dumoulin et al. 2017 (ALI): a logistic
regression fitted on the training split's features, its accuracy on held-out features."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["linear_probe_accuracy"]


def linear_probe_accuracy(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    max_iter: int = 2000,
    c: float = 1.0,
) -> float:
    """Accuracy on ``(test_x, test_y)`` of an L2-regularized multinomial logistic regression
    (inverse strength ``c``) fitted on standardized ``(train_x, train_y)``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def flat(t: torch.Tensor) -> np.ndarray:
        return t.detach().reshape(len(t), -1).double().cpu().numpy()

    clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=max_iter))
    clf.fit(flat(train_x), train_y.cpu().numpy())
    return float(clf.score(flat(test_x), test_y.cpu().numpy()))
