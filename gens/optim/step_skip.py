"""Skipping an optimizer step on the device: a flag tensor decides the update, not the host.

The mechanism is the one of mixed-precision loss scaling (Micikevicius et al. 2018, "Mixed
Precision Training"; PyTorch's ``GradScaler``): a ``found_inf`` tensor handed to the optimizer
makes it leave parameters and state untouched, without the host ever reading the tensor, so the
launch queue of a GPU never stalls.

- Fused optimizers (``torch.optim.Adam/AdamW/SGD(fused=True)``, which mark themselves with
  ``_step_supports_amp_scaling``) take ``found_inf`` directly: one kernel, exact (the step
  counter is rolled back too).
- Any other optimizer is masked: parameters and state are copied (one flat copy per device and
  dtype) before its step and put back where the flag is set. Exact for state on the
  parameters' device; a step counter that lives on the host (torch's non-fused Adam on CUDA)
  still advances, which only shifts Adam's bias correction. Fused optimizers avoid the
  copies, so they are the ones to use on a GPU.

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
        self._saved: list[tuple[list[torch.Tensor], torch.Tensor]] = []
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

    def _tensors(self) -> list[tuple[torch.Tensor, bool]]:
        """Parameters and their tensor state, as ``(tensor, is_state)``."""
        out = []
        for p in (p for g in self.optimizer.param_groups for p in g["params"]):
            out.append((p, False))
            state = self.optimizer.state.get(p, {})
            out += [(v, True) for v in state.values() if torch.is_tensor(v)]
        return out

    def _before(self, optimizer, args, kwargs) -> None:
        # The flag is armed later (during the step's closure), so the copy is taken always:
        # one flat copy per device and dtype (a few kernels, not a few per tensor).
        self._saved = []
        if self.native:
            return
        with torch.no_grad():
            for group in _by_kind([t for t, _ in self._tensors()]):
                self._saved.append((group, _flat(group)))

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
            known = set()
            for group, old in saved:
                if group[0].device != flag.device:
                    continue  # e.g. a step counter kept on the host: not restorable here
                known.update(id(t) for t in group)
                mixed = torch.where(flag, old, _flat(group))
                torch._foreach_copy_(group, _unflat(mixed, group))
            # state created by this very step starts from zeros (Adam, RMSprop, SGD)
            for t, is_state in self._tensors():
                if is_state and id(t) not in known and t.device == flag.device:
                    t.copy_(torch.where(flag, torch.zeros_like(t), t))


def _by_kind(tensors: list[torch.Tensor]) -> list[list[torch.Tensor]]:
    groups: dict[tuple, list[torch.Tensor]] = {}
    for t in tensors:
        groups.setdefault((t.device, t.dtype), []).append(t)
    return list(groups.values())


def _flat(group: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.detach().reshape(-1) for t in group])


def _unflat(flat: torch.Tensor, group: list[torch.Tensor]) -> list[torch.Tensor]:
    parts = flat.split([t.numel() for t in group])
    return [part.view(t.shape) for part, t in zip(parts, group)]
