"""Divergence guard: no optimizer step ever applies a NaN/Inf gradient.

Runs in ``on_before_optimizer_step`` (after backward, before ``optimizer.step``), which Lightning
calls for automatic and manual optimization alike, so it covers every model without model code.
Policy ``stop`` raises ``DivergenceError`` naming step, parameter and likely cause; ``skip``
drops that step (every gradient set to ``None``, so Adam/SGD leave parameters and moments
untouched) with a warning, and stops once one optimizer skipped ``max_skips`` steps in a row.
A NaN loss found by ``GensModule.check_finite`` (the model's public ``nonfinite_loss``) is
handled the same way. Under DDP the decision
is OR-reduced across ranks, so all ranks stop or skip together. Under fp16 mixed precision the
GradScaler owns inf gradients (it skips those steps and lowers the scale), so only
losses are checked there.

``gens.train`` always adds it, from the ``divergence`` config key.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch

from gens.utils.divergence import DivergenceError, divergence_message
from gens.utils.errors import ConfigError
from gens.utils.logging import get_logger

__all__ = ["DivergenceGuard"]

log = get_logger(__name__)


class DivergenceGuard(pl.Callback):
    def __init__(self, policy: str = "stop", max_skips: int = 100, check_grads: bool = True):
        if policy not in ("stop", "skip"):
            raise ConfigError(f"divergence.policy must be 'stop' or 'skip', got {policy!r}")
        if int(max_skips) < 1:
            raise ConfigError(f"divergence.max_skips must be >= 1, got {max_skips}")
        self.policy, self.max_skips, self.check_grads = policy, int(max_skips), bool(check_grads)
        self.in_a_row: dict[int, int] = {}  # optimizer index -> skipped steps in a row
        self.skipped = 0
        self._names: dict[int, str] = {}

    def setup(self, trainer, pl_module, stage: str) -> None:
        self._names = {id(p): n for n, p in pl_module.named_parameters()}

    def _bad_param(self, trainer, optimizer) -> str | None:
        if not self.check_grads or getattr(trainer.precision_plugin, "scaler", None) is not None:
            return None
        params = [p for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        if not params:
            return None
        # Fast path, taken on every step: one fused norm over all gradients (no per-tensor
        # boolean masks; see docs/benchmarks/speed.md) is finite iff every entry is.
        if bool(torch.isfinite(torch.nn.utils.get_total_norm([p.grad for p in params]))):
            return None
        ok = torch.stack([torch.isfinite(p.grad).all() for p in params])
        if bool(ok.all()):  # only the norm overflowed: huge but finite gradients
            return None
        first = params[int((~ok).nonzero()[0])]
        return self._names.get(id(first), "a parameter")

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        flagged = str(getattr(pl_module, "nonfinite_loss", "") or "")
        bad = None if flagged else self._bad_param(trainer, optimizer)
        index = next(
            (
                i
                for i, o in enumerate(trainer.optimizers)
                if o is optimizer or o is getattr(optimizer, "optimizer", None)
            ),
            0,
        )
        failed = bool(flagged) or bad is not None
        if trainer.world_size > 1:  # every rank takes the same decision
            failed = trainer.strategy.reduce_boolean_decision(failed, all=False)
        if not failed:
            self.in_a_row[index] = 0
            return
        what = flagged or (
            f"non-finite gradient of {bad}" if bad else "a non-finite loss on another rank"
        )
        if self.policy == "stop":
            raise DivergenceError(divergence_message(pl_module, what))
        self.in_a_row[index] = self.in_a_row.get(index, 0) + 1
        self.skipped += 1
        if self.in_a_row[index] >= self.max_skips:
            raise DivergenceError(
                divergence_message(
                    pl_module, f"{what}, {self.in_a_row[index]} skipped steps in a row"
                )
            )
        for group in optimizer.param_groups:
            for p in group["params"]:
                p.grad = None
        log.warning(
            f"skipped optimizer step at global step {trainer.global_step}: {what} "
            f"({self.skipped} skipped so far)"
        )

    def state_dict(self) -> dict:
        return {"skipped": self.skipped, "in_a_row": [[k, v] for k, v in self.in_a_row.items()]}

    def load_state_dict(self, state_dict: dict) -> None:
        self.skipped = int(state_dict.get("skipped", 0))
        self.in_a_row = {int(k): int(v) for k, v in state_dict.get("in_a_row", [])}
