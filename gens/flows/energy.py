"""Fitting a flow to an unnormalized density by reverse KL (Rezende & Mohamed 2015, Sec. 6.1).

With ``x = f(z)``, ``z ~ N(0, I)`` and ``log q(x) = log N(z) - log|det df/dz|``, the loss is
``E_q[log q(x) + beta_t U(x)] = KL(q || p) - log Z`` at ``beta_t = 1``: data-free, every step
draws its own batch. ``beta_t = min(1, 0.01 + t / anneal_steps)`` is the paper's annealing
(``anneal_steps = 0`` switches it off). Evaluation on ``n`` fresh samples reports
``elbo = E_q[-U - log q]`` (a lower bound on ``log Z``), the importance-sampling estimate
``logz = log mean exp(-U - log q)``, the true ``logz_true`` by quadrature and the reverse
``kl = logz_true - elbo`` (in nats).

Any ``Transform`` works; its ``inverse`` is the sampling direction, so VI flows (planar, radial,
Sylvester) and IAF are cheap here, MAF costs D passes per step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from gens.data.energy import ENERGIES, energy_u, log_partition
from gens.flows.base import FlowModule
from gens.utils.errors import ConfigError, IncompatibleDataError

__all__ = ["EnergyFlow"]


class EnergyFlow(FlowModule):
    """A flow ``q`` fitted to ``exp(-U)`` for one of the energies in ``gens.data.energy``.

    Args:
        energy: the target's name (the config takes it from ``data.energy``); ``None`` means the
            data set is not an energy, which is refused.
        bound: soft-wall half-width of the target (from ``data.bound``).
        transform: factory ``transform(data_shape=...) -> Transform``.
        optimizer: factory ``(params) -> Optimizer``; ``kwargs`` go to ``FlowModule``
            (``scheduler``, ``scheduler_interval``, ``max_grad_norm``, ``num_classes``,
            ``num_levels``).
    """

    data_kinds = ("energy",)

    def __init__(
        self,
        data_shape: Sequence[int],
        transform: Callable,
        optimizer: Callable,
        energy: str | None = None,
        bound: float | None = 4.0,
        anneal_steps: int = 0,
        **kwargs: Any,
    ):
        super().__init__(data_shape, optimizer, **kwargs)
        if energy is None:
            raise IncompatibleDataError(
                "this model is trained by reverse KL against an energy, not on samples; "
                "use data=energy_u1 .. energy_u4"
            )
        if energy not in ENERGIES:
            raise ConfigError(f"unknown energy '{energy}'; choose one of {', '.join(ENERGIES)}")
        if int(anneal_steps) < 0:
            raise ConfigError(f"model.anneal_steps must be >= 0, got {anneal_steps}")
        self.energy, self.bound, self.anneal_steps = energy, bound, int(anneal_steps)
        self.flow = transform(data_shape=self.data_shape)

    # --- densities ---------------------------------------------------------------------------
    def log_target(self, x: torch.Tensor) -> torch.Tensor:
        """Unnormalized target ``-U(x)``."""
        return -energy_u(self.energy, x, self.bound)

    def sample_with_log_prob(self, n: int, generator=None, temperature: float = 1.0):
        """Samples with ``log q(x)``; the base is ``N(0, T^2 I)`` at temperature ``T``."""
        z = self.base_sample(n, temperature, generator)
        x, logdet = self.flow.inverse(z)
        return x, self.base_log_prob(z, temperature) - logdet

    @torch.no_grad()
    def sample(self, n: int, y=None, generator=None, temperature: float = 1.0, **kwargs):
        return self.sample_with_log_prob(n, generator, temperature)[0]

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log q(x)`` in nats, through the layers' (numerical) inverses."""
        z, logdet = self.flow(x)
        return self.base_log_prob(z) + logdet

    # --- training ----------------------------------------------------------------------------
    def beta(self) -> float:
        if not self.anneal_steps:
            return 1.0
        return min(1.0, 0.01 + self.global_step / self.anneal_steps)

    def training_step(self, batch, batch_idx):
        n = len(batch[0])  # placeholders: only the Monte-Carlo batch size matters
        x, log_q = self.sample_with_log_prob(n)
        log_p = self.log_target(x)
        loss = (log_q - self.beta() * log_p).mean()
        self.check_finite({"train/loss": loss})
        self.log_dict(
            {"train/loss": loss, "train/beta": self.beta(), "train/elbo": (log_p - log_q).mean()},
            prog_bar=True,
        )
        return loss

    @torch.no_grad()
    def evaluate(self, n: int, generator=None) -> dict[str, torch.Tensor]:
        x, log_q = self.sample_with_log_prob(n, generator)
        log_w = self.log_target(x) - log_q
        logz_true = log_partition(self.energy, self.bound)
        elbo = log_w.mean()
        w = torch.softmax(log_w, 0)
        return {
            "elbo": elbo,
            "logz": torch.logsumexp(log_w, 0) - math.log(n),
            "logz_true": torch.tensor(logz_true),
            "kl": logz_true - elbo,
            "ess": 1.0 / w.square().sum() / n,  # effective sample size fraction
        }

    def _eval_step(self, batch, prefix: str, seed: int):
        g = torch.Generator(device=self.device).manual_seed(seed)
        metrics = self.evaluate(len(batch[0]), g)
        self.log_dict({f"{prefix}/{k}": v for k, v in metrics.items()})

    def validation_step(self, batch, batch_idx):
        self._eval_step(batch, "val", 1234)

    def test_step(self, batch, batch_idx):
        self._eval_step(batch, "test", 4321)
