"""Run by tests/test_ddp_strategy.py: one short fit on 2 gloo CPU ranks with PerOptimizerDDP.

``python -m tests.ddp_exactness_worker OUT_DIR {gan,auto}`` from the repository root.
Lightning's popen launcher reruns this module for rank 1. Each rank builds its model from its
own seed (the strategy must broadcast rank 0's), records its batches and noise, and saves its
initial and final state to ``OUT_DIR/rank{r}.pt``; the test replays the same steps on
unwrapped copies and compares.

- ``gan``: gens' GAN (manual optimization) with BatchNorm in G and D and an R1 penalty (double
  backward), SGD so each update is the averaged gradient itself.
- ``auto``: an automatic-optimization module (the path of the flows) with BatchNorm, a
  parameter no rank uses and one only rank 1 uses.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch import nn

from gens.gan import GAN
from gens.gan.regularizers import R1

LR = 0.1
BATCH = 8
STEPS = 2  # batches per rank


class TinyG(nn.Module):
    def __init__(self, latent_dim, data_shape, num_classes=None):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent_dim, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, data_shape[0])
        )

    def forward(self, z, y=None):
        return self.net(z)


class TinyD(nn.Module):
    def __init__(self, data_shape, num_classes=None):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(data_shape[0], 16), nn.BatchNorm1d(16), nn.Softplus(), nn.Linear(16, 1)
        )

    def forward(self, x, y=None):
        return self.net(x).squeeze(-1)


class ReplayGAN(GAN):
    """A GAN whose noise is recorded (training) or replayed (reference)."""

    def __init__(self, rank: int):
        torch.manual_seed(rank)
        sgd = functools.partial(torch.optim.SGD, lr=LR)
        super().__init__(
            TinyG, TinyD, sgd, sgd, data_shape=(2,), latent_dim=3, regularizers={"r1": R1(1.0)}
        )
        self.rank = rank
        self.noise_log: list[torch.Tensor] = []
        self.replay: list[torch.Tensor] | None = None

    def noise(self, n, generator=None):
        if self.replay is not None:
            return self.replay.pop(0)
        z = torch.randn(n, self.latent_dim, generator=generator)
        self.noise_log.append(z.clone())
        return z


class AutoModule(pl.LightningModule):
    """Automatic optimization: training_step returns the loss, Lightning's closure backprops."""

    def __init__(self, rank: int):
        super().__init__()
        torch.manual_seed(rank)
        self.net = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 2))
        self.unused = nn.Linear(2, 2)  # in the optimizer, in no loss
        self.rank_one_only = nn.Parameter(torch.ones(3))  # in rank 1's loss only

    def loss(self, x, rank):
        loss = (self.net(x) - x.flip(-1)).pow(2).mean()
        if rank == 1:
            loss = loss + (self.rank_one_only * x[:3, 0]).sum()
        return loss

    def training_step(self, batch, batch_idx):
        return self.loss(batch[0], self.global_rank)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=LR)


class Recorder(pl.Callback):
    def __init__(self):
        self.batches, self.init = [], None

    def on_train_start(self, trainer, pl_module):
        self.init = {k: v.clone() for k, v in pl_module.state_dict().items()}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.batches.append(batch[0].clone())


def data(n: int = 64) -> torch.utils.data.DataLoader:
    x = torch.randn(n, 2, generator=torch.Generator().manual_seed(7)) * 2
    ds = torch.utils.data.TensorDataset(x, torch.zeros(n, dtype=torch.long))
    return torch.utils.data.DataLoader(ds, batch_size=BATCH)


def main(out: str, mode: str) -> None:
    from gens.strategies import PerOptimizerDDP

    torch.set_num_threads(1)
    rank = int(os.environ.get("LOCAL_RANK", "0"))
    model = ReplayGAN(rank) if mode == "gan" else AutoModule(rank)
    recorder = Recorder()
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=2,
        strategy=PerOptimizerDDP(start_method="popen"),
        max_epochs=1,
        limit_train_batches=STEPS,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[recorder],
    )
    trainer.fit(model, train_dataloaders=data())
    record = {
        "init": recorder.init,
        "final": {k: v.clone() for k, v in model.state_dict().items()},
        "batches": recorder.batches,
        "noise": getattr(model, "noise_log", []),
    }
    torch.save(record, Path(out) / f"rank{trainer.global_rank}.pt")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
