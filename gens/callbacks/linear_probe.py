"""Linear probe of an encoder after testing (BiGAN / ALI, Donahue et al. 2017): logistic
regression on ``model.encode(x)`` of the training split, accuracy on the test split
(``test/probe_acc``), beside the same probe on raw pixels (``test/probe_acc_pixels``). Acts on
models with ``encode`` (``gens.gan.BiGAN``) and labelled data; a no-op otherwise."""

from __future__ import annotations

import pytorch_lightning as pl
import torch

from gens.metrics.probe import linear_probe_accuracy

__all__ = ["LinearProbe"]


class LinearProbe(pl.Callback):
    """Args: ``n_train`` training examples the probe fits on (all when ``None``),
    ``batch_size`` for encoding, ``c`` the inverse L2 strength of the regression."""

    def __init__(self, n_train: int | None = None, batch_size: int = 500, c: float = 1.0):
        self.n_train = None if n_train is None else int(n_train)
        self.batch_size, self.c = max(1, int(batch_size)), float(c)

    @torch.no_grad()
    def _encode(self, model, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [model.encode(x[i : i + self.batch_size]) for i in range(0, len(x), self.batch_size)]
        )

    def on_test_epoch_end(self, trainer, pl_module) -> None:
        dm = trainer.datamodule
        if not hasattr(pl_module, "encode") or not getattr(dm, "num_classes", None):
            return
        from gens.cli.common import split_tensors

        dm.setup("fit")
        (xtr, ytr), (xte, yte) = split_tensors(dm, "train"), split_tensors(dm, "test")
        if self.n_train is not None:
            xtr, ytr = xtr[: self.n_train], ytr[: self.n_train]
        dev = pl_module.device
        ftr, fte = self._encode(pl_module, xtr.to(dev)), self._encode(pl_module, xte.to(dev))
        acc = linear_probe_accuracy(ftr, ytr, fte, yte, c=self.c)
        pixels = linear_probe_accuracy(xtr, ytr, xte, yte, c=self.c)
        pl_module.log_dict({"test/probe_acc": acc, "test/probe_acc_pixels": pixels})
