"""Unnormalized 2-D target densities: the four test energies of Rezende & Mohamed (2015, Table 1).

``p(z) = exp(-U(z)) / Z`` with, writing ``w1 = sin(2 pi z1 / 4)``,
``w2 = 3 exp(-((z1 - 1) / 0.6)^2 / 2)``, ``w3 = 3 sigmoid((z1 - 1) / 0.3)``:

- ``u1``: ``((|z| - 2) / 0.4)^2 / 2
  - log(exp(-((z1 - 2) / 0.6)^2 / 2) + exp(-((z1 + 2) / 0.6)^2 / 2))``
- ``u2``: ``((z2 - w1) / 0.4)^2 / 2``
- ``u3``: ``-log(exp(-((z2 - w1) / 0.35)^2 / 2) + exp(-((z2 - w1 + w2) / 0.35)^2 / 2))``
- ``u4``: ``-log(exp(-((z2 - w1) / 0.4)^2 / 2) + exp(-((z2 - w1 + w3) / 0.35)^2 / 2))``

How an energy is a "data set" here: there are no samples, only ``log_density(z) = -U(z)``.
``EnergyDataModule`` has ``kind = "energy"`` and ``shape = (2,)``; its loaders yield
placeholder batches ``(zeros[batch_size, 2], zeros)`` whose only job is to set the number of
steps per epoch (``steps_per_epoch``) and the Monte-Carlo batch size: a model trained by
reverse KL (``gens.flows.energy.EnergyFlow``) draws its own samples. The config's ``energy``
key names the target, and models read it (``${oc.select:data.energy,null}``) to refuse data
sets that are not energies. ``log_partition()`` gives the true ``log Z`` by quadrature on a
fine grid, so the reverse KL itself (not just the ELBO) can be reported.

U2, U3 and U4 are not normalizable over the whole plane (they are flat or periodic along
``z1``). As in the paper's figures they are restricted to the box ``[-bound, bound]^2``
(``bound = 4``), by a soft wall rather than a hard one so that samples a flow puts outside still
have finite energy and a gradient: ``U_b(z) = U(z) + sum_i max(|z_i| - bound, 0)^2 / (2 * 0.1^2)``
(a Gaussian fall-off of std 0.1 beyond the box). The same ``U_b`` is used for ``u1``, where it
changes ``log Z`` by less than 1e-6.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch

from gens.data.base import GensDataModule
from gens.utils.errors import ConfigError

__all__ = ["ENERGIES", "energy_u", "log_partition", "EnergyDataModule"]

ENERGIES = ("u1", "u2", "u3", "u4")


def _w1(z1):
    return torch.sin(2 * math.pi * z1 / 4)


WALL_STD = 0.1


def energy_u(name: str, z: torch.Tensor, bound: float | None = 4.0) -> torch.Tensor:
    """``U(z)`` for ``z [N, 2]``, plus the soft wall beyond ``[-bound, bound]^2`` if ``bound``."""
    z1, z2 = z[:, 0], z[:, 1]
    if name == "u1":
        ring = 0.5 * ((z.norm(dim=1) - 2) / 0.4) ** 2
        a = -0.5 * ((z1 - 2) / 0.6) ** 2
        b = -0.5 * ((z1 + 2) / 0.6) ** 2
        u = ring - torch.logaddexp(a, b)
    elif name == "u2":
        u = 0.5 * ((z2 - _w1(z1)) / 0.4) ** 2
    elif name == "u3":
        w2 = 3 * torch.exp(-0.5 * ((z1 - 1) / 0.6) ** 2)
        a = -0.5 * ((z2 - _w1(z1)) / 0.35) ** 2
        b = -0.5 * ((z2 - _w1(z1) + w2) / 0.35) ** 2
        u = -torch.logaddexp(a, b)
    elif name == "u4":
        w3 = 3 * torch.sigmoid((z1 - 1) / 0.3)
        a = -0.5 * ((z2 - _w1(z1)) / 0.4) ** 2
        b = -0.5 * ((z2 - _w1(z1) + w3) / 0.35) ** 2
        u = -torch.logaddexp(a, b)
    else:
        raise ConfigError(f"unknown energy '{name}'; choose one of {', '.join(ENERGIES)}")
    if bound is not None:
        u = u + 0.5 * ((z.abs() - bound).clamp_min(0) / WALL_STD).square().sum(1)
    return u


@lru_cache(maxsize=16)
def log_partition(name: str, bound: float | None = 4.0, n: int = 1601) -> float:
    """``log Z = log integral exp(-U)`` by the trapezoid rule on an ``n x n`` grid (float64).

    The grid covers the box plus 10 wall standard deviations (unbounded ``u1``: ``[-8, 8]^2``),
    where all but a negligible mass lies.
    """
    half = bound + 10 * WALL_STD if bound is not None else 8.0
    g = torch.linspace(-half, half, n, dtype=torch.float64)
    z = torch.stack(torch.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    log_p = -energy_u(name, z, bound).view(n, n)
    w = torch.ones(n, dtype=torch.float64)
    w[0] = w[-1] = 0.5
    h = float(g[1] - g[0])
    log_w = torch.log(w[:, None] * w[None, :] * h * h)
    return float(torch.logsumexp(log_p + log_w, dim=(0, 1)))


class _Placeholders:
    """``steps`` batches of ``(zeros[batch, 2], zeros[batch])``: a step count, not data."""

    def __init__(self, steps: int, batch: int):
        self.steps, self.batch = steps, batch
        self.batch_sampler = None  # DataLoader's surface, which Lightning inspects

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        for _ in range(self.steps):
            yield torch.zeros(self.batch, 2), torch.zeros(self.batch, dtype=torch.long)


class EnergyDataModule(GensDataModule):
    """A target energy in place of a data set (see the module docstring).

    Args:
        energy: ``u1`` .. ``u4``.
        batch_size: Monte-Carlo samples per training step.
        steps_per_epoch: placeholder batches per training epoch (the iteration budget is
            ``trainer.max_epochs * steps_per_epoch`` or ``trainer.max_steps``).
        eval_batch_size: samples drawn by the model for each validation / test evaluation.
        bound: half-width of the box the energies are restricted to (``null``: none; only
            ``u1`` is normalizable without it).
        Other arguments as ``GensDataModule``.
    """

    kind = "energy"
    partial_labels = False

    def __init__(
        self,
        energy: str = "u1",
        batch_size: int = 100,
        steps_per_epoch: int = 1000,
        eval_batch_size: int = 20_000,
        bound: float | None = 4.0,
        **options,
    ):
        super().__init__(batch_size=batch_size, eval_batch_size=eval_batch_size, **options)
        if energy not in ENERGIES:
            raise ConfigError(f"unknown energy '{energy}'; choose one of {', '.join(ENERGIES)}")
        if int(steps_per_epoch) < 1:
            raise ConfigError(f"data.steps_per_epoch must be >= 1, got {steps_per_epoch}")
        if bound is None and energy != "u1":
            raise ConfigError(f"energy {energy} is not normalizable on the plane; set data.bound")
        self.energy, self.bound = energy, None if bound is None else float(bound)
        self.steps_per_epoch = int(steps_per_epoch)
        self.shape = (2,)

    def log_density(self, z: torch.Tensor) -> torch.Tensor:
        """Unnormalized ``log p(z) = -U(z)``."""
        return -energy_u(self.energy, z, self.bound)

    def log_partition(self) -> float:
        return log_partition(self.energy, self.bound)

    def split_loader(self, split: str, train: bool):
        if train:
            return _Placeholders(self.steps_per_epoch, self.batch_size)
        return _Placeholders(1, self.eval_batch_size)
