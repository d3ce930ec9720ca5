"""Skipping an optimizer step on the device: a flag tensor decides the update, not the host.

The mechanism is the one of mixed-precision loss scaling (Micikevicius et al. 2018, "Mixed
Precision Training"; PyTorch's ``GradScaler``): a ``found_inf`` tensor handed to the optimizer
makes it leave parameters and state untouched, without the host ever reading the tensor, so the
launch queue of a GPU never stalls.

- Fused optimizers (``torch.optim.Adam/AdamW/SGD(fused=True)``, which mark themselves with
  ``_step_supports_amp_scaling``) take ``found_inf`` directly: one kernel, exact (the step
  counter is rolled back too).
- Any other optimizer is masked: parameters and state are copied before its step and put back
  where the flag is set. Exact for state on the parameters' device; a step counter that lives
  on the host (torch's non-fused Adam on CUDA) still advances, which only shifts Adam's bias
  correction. Fused optimizers avoid the copies, so they are the ones to use on a GPU.

Example::

    skip = StepSkip(opt)
    skip.arm(~torch.isfinite(loss))   # before opt.step(), e.g. in on_before_optimizer_step
    opt.step()                        # applies only where the flag is False
"""

from __future__ import annotations

import torch

__all__ = ["StepSkip", "takes_found_inf"]


def takes_found_inf(optimizer: torch.optim.Optimizer) -> bool:
    """Whether ``optimizer.step`` reads a ``found_inf`` flag itself (torch's fused optimizers)."""
    return bool(getattr(optimizer, "_step_supports_amp_scaling", False)) and bool(
        optimizer.defaults.get("fused")
    )


class StepSkip:
    """Makes ``optimizer``'s next step a no-op where the armed flag is True, on the device."""

    def __init__(self, optimizer: torch.optim.Optimizer):
        self.optimizer = optimizer
        self.native = takes_found_inf(optimizer)
        self.flag: torch.Tensor | None = None
        self._saved: list[tuple[torch.Tensor, torch.Tensor | None]] = []
        self._handles = [
            optimizer.register_step_pre_hook(self._before),
            optimizer.register_step_post_hook(self._after),
        ]

    def arm(self, flag: torch.Tensor) -> None:
        """Skip the coming step where ``flag`` (a 0-dim bool tensor) is True."""
        self.flag = flag
        if self.native:
            self.optimizer.found_inf = flag.to(torch.float32)

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def _before(self, optimizer, args, kwargs) -> None:
        # The flag is armed later (during the step's closure), so the copies are taken always.
        self._saved = []
        if self.native:
            return
        with torch.no_grad():
            for p in (p for g in optimizer.param_groups for p in g["params"]):
                state = optimizer.state.get(p, {})
                saved = {k: v.clone() for k, v in state.items() if torch.is_tensor(v)}
                self._saved.append((p, p.detach().clone(), saved))

    def _after(self, optimizer, args, kwargs) -> None:
        flag, self.flag = self.flag, None
        if self.native:
            # only a flag armed here is taken back (a GradScaler removes its own)
            if flag is not None and hasattr(optimizer, "found_inf"):
                del optimizer.found_inf
            return
        saved, self._saved = self._saved, []
        if flag is None:
            return
        with torch.no_grad():
            for p, old_p, old_state in saved:
                p.copy_(torch.where(flag, old_p, p))
                state = optimizer.state.get(p, {})
                for k, v in state.items():
                    if not torch.is_tensor(v) or v.device != flag.device:
                        continue
                    # state created by this very step starts from zeros (Adam, RMSprop, SGD)
                    old = old_state.get(k)
                    v.copy_(torch.where(flag, old if old is not None else torch.zeros_like(v), v))
