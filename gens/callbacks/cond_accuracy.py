"""How often a conditional generator draws the class it is asked for (``test/cond_acc``): the
data set's own classifier (digits ships one) labels samples drawn for balanced requested
labels, the measure of class fidelity used for CGAN and AC-GAN (Odena et al. 2017 score
ImageNet samples with an Inception classifier the same way).

Acts on image data with a classifier for the set whose classes match the model's, and on
conditional models only. Samples come from a fixed seed (``seed + 1`` at test), so evaluation
does not change training.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gens.callbacks.sample_scores import SampleScores
from gens.metrics.extractors import choose_extractor, load_extractor
from gens.metrics.real_stats import dataset_key

__all__ = ["ConditionalAccuracy", "conditional_accuracy"]


@torch.no_grad()
def conditional_accuracy(model, classifier, n: int, seed: int, batch_size: int = 500) -> float:
    """Fraction of ``n`` samples (labels 0..K-1 in turn) that ``classifier`` puts in the
    requested class; ``classifier(x)`` returns ``(features, logits)``."""
    g = torch.Generator(device=model.device).manual_seed(int(seed))
    y = torch.arange(n, device=model.device) % model.num_classes
    hits = 0
    for i in range(0, n, batch_size):
        yb = y[i : i + batch_size]
        x = model.sample(len(yb), y=yb, generator=g).clamp(-1, 1)
        hits += int((classifier(x)[1].argmax(1).to(yb.device) == yb).sum())
    return hits / n


class ConditionalAccuracy(SampleScores):
    """Args:
    n_val: samples after each validation (0: off); n_test: at test.
    classifier_dir: extra directory searched for ``<data set>_classifier.pt``.
    Other arguments as ``SampleScores`` (``seed``, ``batch_size``).
    """

    def __init__(
        self, n_val: int = 0, n_test: int = 1000, classifier_dir: str | None = None, **kwargs
    ):
        super().__init__(n_val, n_test, **kwargs)
        self.classifier_dir = classifier_dir
        self.classifier = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        self.classifier = None
        dm = trainer.datamodule
        if getattr(dm, "kind", None) != "image" or not getattr(pl_module, "conditional", False):
            return
        dirs = [Path(self.classifier_dir)] if self.classifier_dir else []
        choice, _ = choose_extractor("auto", dataset_key(dm), dirs)
        if choice is None or choice.kind != "classifier":
            return
        classifier = load_extractor(choice)
        if classifier.num_classes == pl_module.num_classes:
            self.classifier = classifier

    def applies(self, trainer, pl_module) -> bool:
        return self.classifier is not None

    def score(self, pl_module, n: int, seed: int) -> dict[str, float]:
        ex = self.classifier.to(pl_module.device)
        return {"cond_acc": conditional_accuracy(pl_module, ex, n, seed, self.batch_size)}
