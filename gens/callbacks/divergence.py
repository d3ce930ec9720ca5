"""Divergence guard: no optimizer step ever applies a NaN/Inf loss or gradient.

Runs in ``on_before_optimizer_step`` (after backward, before the update), which Lightning calls
for automatic and manual optimization alike, so it covers every model without model code. Per
step it builds one row on the device: the losses the model recorded
(``GensModule.check_finite``) and one value per gradient that is finite iff all its entries
are. Under DDP the row is max-reduced across ranks, so every rank takes the same decisions.

Two ways to act on the row (``divergence.mode``; ``auto`` picks by the model's device):

- ``host`` (CPU): the host reads the row before the step (free on a CPU) and raises or skips
  that step by dropping its gradients.
- ``device`` (GPU): the host never waits. The step is skipped on the device
  (``gens.optim.StepSkip``: the ``found_inf`` flag of fused optimizers, the mechanism of
  mixed-precision loss scaling, Micikevicius et al. 2018), and the host reads the row ``lag``
  optimizer steps later (``gens.utils.late_read.LateRead``). Under ``stop`` every update after
  the bad step is skipped as well, so the weights stay the last good ones until the error is
  raised; rows are read completely before every checkpoint and at every epoch's end.

Policy ``stop`` raises ``DivergenceError`` naming step, loss or parameter and likely cause;
``skip`` drops that step with a warning and stops once one optimizer skipped ``max_skips``
steps in a row. A loss that explodes while staying finite (``|loss| > max_loss`` at
``patience`` of its checks in a row) stops training under either policy. Under fp16 mixed precision
the GradScaler owns inf gradients (it skips those steps), so only losses are checked there.

``gens.train`` always adds it, from the ``divergence`` config key.
"""

from __future__ import annotations

import math

import pytorch_lightning as pl
import torch
import torch.distributed as dist

from gens.optim.step_skip import StepSkip
from gens.utils.divergence import DivergenceError, divergence_message
from gens.utils.errors import ConfigError
from gens.utils.late_read import LateRead
from gens.utils.logging import get_logger

__all__ = ["DivergenceGuard"]

log = get_logger(__name__)


def _probe(grads: list[torch.Tensor]) -> torch.Tensor:
    """One value per gradient, finite iff all its entries are: the max-norm on a GPU (one
    fused kernel for all of them, and it cannot overflow), the sum on a CPU (the cheapest
    reduction there; it overflows only past 3e38)."""
    if grads[0].is_cuda:
        values = torch._foreach_norm(grads, ord=math.inf)
    else:
        values = [g.sum() for g in grads]
    if len({v.dtype for v in values}) > 1:
        values = [v.float() for v in values]
    return torch.stack(values).float()


class DivergenceGuard(pl.Callback):
    def __init__(
        self,
        policy: str = "stop",
        max_skips: int = 100,
        check_grads: bool = True,
        mode: str = "auto",
        lag: int = 16,
        max_loss: float | None = 1.0e12,
        patience: int = 20,
    ):
        if policy not in ("stop", "skip"):
            raise ConfigError(f"divergence.policy must be 'stop' or 'skip', got {policy!r}")
        if mode not in ("auto", "host", "device"):
            raise ConfigError(f"divergence.mode must be auto, host or device, got {mode!r}")
        for key, value, least in (
            ("max_skips", max_skips, 1),
            ("lag", lag, 1),
            ("patience", patience, 1),
        ):
            if int(value) < least:
                raise ConfigError(f"divergence.{key} must be >= {least}, got {value}")
        if max_loss is not None and not float(max_loss) > 0:
            raise ConfigError(f"divergence.max_loss must be > 0 or null, got {max_loss}")
        self.policy, self.max_skips, self.check_grads = policy, int(max_skips), bool(check_grads)
        self.mode, self.lag, self.patience = mode, int(lag), int(patience)
        self.max_loss = None if max_loss is None else float(max_loss)
        self.in_a_row: dict[int, int] = {}  # optimizer index -> skipped steps in a row
        self.skipped = 0
        self.exploding: dict[str, int] = {}  # loss name -> checks in a row above max_loss
        self._names: dict[int, str] = {}
        self._skips: dict[int, StepSkip] = {}
        self._reader = LateRead(0)
        self._stopped: torch.Tensor | None = None  # device flag: a bad step was seen (stop)
        self._module = None

    @property
    def on_device(self) -> bool:
        """Whether steps are skipped on the device and read late (``mode=device``)."""
        return self.mode == "device"

    def setup(self, trainer, pl_module, stage: str) -> None:
        self._names = {id(p): n for n, p in pl_module.named_parameters()}
        self._module = pl_module

    def on_fit_start(self, trainer, pl_module) -> None:
        if self.mode == "auto":
            self.mode = "device" if pl_module.device.type == "cuda" else "host"
        self._reader = LateRead(self.lag if self.on_device else 0)
        self._stopped = torch.zeros((), dtype=torch.bool, device=pl_module.device)
        scaler = getattr(trainer.precision_plugin, "scaler", None)
        if self.on_device and scaler is None:  # hooked before the first step, which it covers
            for opt in trainer.optimizers:
                opt = getattr(opt, "optimizer", opt)
                if id(opt) not in self._skips:
                    self._skips[id(opt)] = StepSkip(opt)

    def teardown(self, trainer, pl_module, stage: str) -> None:
        for s in self._skips.values():
            s.remove()
        self._skips = {}

    # --- the row of one optimizer step ---------------------------------------------------
    def _row(self, trainer, pl_module, optimizer, scaler) -> tuple[torch.Tensor, tuple, tuple]:
        losses = pl_module.checked_losses if hasattr(pl_module, "checked_losses") else None
        loss_names, parts = (), []
        if losses is not None:
            loss_names, values = losses
            parts.append(values.float())
        params = []
        if self.check_grads and scaler is None:
            params = [p for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        if params:
            parts.append(_probe([p.grad for p in params]))
        names = tuple(self._names.get(id(p), "a parameter") for p in params)
        device = pl_module.device
        row = torch.cat(parts) if parts else torch.zeros(0, device=device)
        if trainer.world_size > 1 and dist.is_available() and dist.is_initialized():
            # every rank sees the worst value of each entry (non-finite as inf)
            row = torch.where(torch.isfinite(row), row.abs(), math.inf)
            dist.all_reduce(row, op=dist.ReduceOp.MAX)
        return row, loss_names, names

    def _index(self, trainer, optimizer) -> int:
        return next(
            (
                i
                for i, o in enumerate(trainer.optimizers)
                if o is optimizer or o is getattr(optimizer, "optimizer", None)
            ),
            0,
        )

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        opt = getattr(optimizer, "optimizer", optimizer)
        scaler = getattr(trainer.precision_plugin, "scaler", None)
        index = self._index(trainer, opt)
        row, loss_names, param_names = self._row(trainer, pl_module, opt, scaler)
        meta = (trainer.global_step, trainer.current_epoch, index, loss_names, param_names)
        if not self.on_device:
            bad = self._examine(row.tolist(), meta, late=False)
            if bad:
                for group in opt.param_groups:  # Adam/SGD leave weights and moments untouched
                    for p in group["params"]:
                        p.grad = None
            return
        for values, old in self._reader.ready():
            self._examine(values, old, late=True)
        bad = ~torch.isfinite(row).all()
        if self.policy == "stop":
            self._stopped = self._stopped | bad
            bad = self._stopped
        if scaler is None:
            if id(opt) not in self._skips:
                self._skips[id(opt)] = StepSkip(opt)
            self._skips[id(opt)].arm(bad)
        self._reader.push(row, meta)

    # --- the host's reading of a row ------------------------------------------------------
    def _what(self, values: list[float], loss_names: tuple, param_names: tuple) -> str | None:
        n = len(loss_names)
        losses = [f"{k}={v}" for k, v in zip(loss_names, values[:n]) if not math.isfinite(v)]
        if losses:
            return "non-finite loss " + ", ".join(losses)
        grads = [k for k, v in zip(param_names, values[n:]) if not math.isfinite(v)]
        return f"non-finite gradient of {grads[0]}" if grads else None

    def _examine(self, values: list[float], meta: tuple, late: bool) -> bool:
        """Act on one step's row: raise, or count a skipped step. True when it was bad."""
        step, epoch, index, loss_names, param_names = meta
        module = self._module
        how = (
            f"Every update from that step on was skipped on the device (read up to {self.lag} "
            "optimizer steps later)"
            if late and self.policy == "stop"
            else "Stopped before the optimizer step"
        )
        what = self._what(values, loss_names, param_names)
        self._check_explosion(values[: len(loss_names)], loss_names, step, epoch)
        if what is None:
            self.in_a_row[index] = 0
            return False
        if self.policy == "stop":
            raise DivergenceError(divergence_message(module, what, step, epoch, how))
        self.in_a_row[index] = self.in_a_row.get(index, 0) + 1
        self.skipped += 1
        if self.in_a_row[index] >= self.max_skips:
            raise DivergenceError(
                divergence_message(
                    module, f"{what}, {self.in_a_row[index]} skipped steps in a row", step, epoch
                )
            )
        log.warning(
            f"skipped optimizer step at global step {step}: {what} ({self.skipped} skipped so far)"
        )
        return True

    def _check_explosion(self, losses: list[float], names: tuple, step: int, epoch: int) -> None:
        """Count, per loss, the checks in a row at which it was finite and above ``max_loss``
        (per loss: in a game one player's loss may saturate at 0 while the other's explodes)."""
        if self.max_loss is None:
            return
        for name, value in zip(names, losses):
            if not (math.isfinite(value) and abs(value) > self.max_loss):
                self.exploding[name] = 0
                continue
            self.exploding[name] = run = self.exploding.get(name, 0) + 1
            if run >= self.patience:
                what = (
                    f"loss {name}={value:.3g}, above divergence.max_loss={self.max_loss:g} in "
                    f"absolute value at {run} checks in a row"
                )
                raise DivergenceError(
                    divergence_message(self._module, what, step, epoch, "Stopped")
                )

    def drain(self) -> None:
        """Read every row still on its way (waits for the device; once per epoch/checkpoint)."""
        for values, meta in self._reader.ready(everything=True):
            self._examine(values, meta, late=True)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.drain()

    def on_validation_start(self, trainer, pl_module) -> None:
        if trainer.state.fn == "fit":
            self.drain()

    def on_train_end(self, trainer, pl_module) -> None:
        self.drain()

    def state_dict(self) -> dict:
        self.drain()  # a checkpoint is written only after every step before it was read
        return {
            "skipped": self.skipped,
            "in_a_row": [[k, v] for k, v in self.in_a_row.items()],
            "exploding": [[k, v] for k, v in self.exploding.items()],
        }

    def load_state_dict(self, state_dict: dict) -> None:
        self.skipped = int(state_dict.get("skipped", 0))
        self.in_a_row = {int(k): int(v) for k, v in state_dict.get("in_a_row", [])}
        self.exploding = {str(k): int(v) for k, v in state_dict.get("exploding", [])}
