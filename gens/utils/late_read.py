"""Reading small device tensors on the host a few steps late, so the host never waits for them.

Each ``push`` starts a non-blocking copy of a 1-D tensor into pinned host memory and records a
CUDA event behind it; ``ready`` hands back the rows that are at least ``lag`` pushes old, by
then (almost always) copied already. A row whose copy has not finished is waited for, which
only happens when the device runs more than ``lag`` steps behind the host (``waits`` counts
it). Rows come back in the order they were pushed and at the same pushes on every process,
so decisions taken on them agree across DDP ranks. On the CPU the copy is immediate.

No paper: the pattern is CUDA's stream-ordered copy + event (CUDA C Programming Guide,
"Asynchronous Concurrent Execution"), used by ``gens.callbacks.DivergenceGuard``.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import torch

__all__ = ["LateRead"]


class LateRead:
    """A queue of device rows that the host reads ``lag`` pushes later (0: at once)."""

    def __init__(self, lag: int = 0):
        if int(lag) < 0:
            raise ValueError(f"lag must be >= 0, got {lag}")
        self.lag = int(lag)
        self.slots = self.lag + 2
        self.waits = 0
        self._host: torch.Tensor | None = None
        self._pushed = 0
        self._pending: deque[tuple[torch.Tensor, Any, Any]] = deque()

    def _buffer(self, width: int, device: torch.device) -> torch.Tensor:
        pin = device.type == "cuda"
        if self._host is None or self._host.shape[1] < width:
            # rows still being copied keep the old buffer alive through their own views
            self._host = torch.empty((self.slots, width), pin_memory=pin)
        return self._host

    def push(self, values: torch.Tensor, meta: Any = None) -> None:
        """Start copying ``values`` (1-D, any device) to the host; ``meta`` travels with it."""
        values = values.detach().reshape(-1)
        host = self._buffer(len(values), values.device)
        if len(self._pending) >= self.slots:  # every slot holds an unread row
            self._take()
        row = host[self._pushed % self.slots, : len(values)]
        event = None
        if values.device.type == "cuda":
            row.copy_(values.to(row.dtype), non_blocking=True)
            event = torch.cuda.Event()
            event.record()
        else:
            row.copy_(values)
        self._pending.append((row, meta, event))
        self._pushed += 1

    def _take(self) -> tuple[list[float], Any]:
        row, meta, event = self._pending.popleft()
        if event is not None and not event.query():
            self.waits += 1
            event.synchronize()
        return row.tolist(), meta

    def ready(self, everything: bool = False) -> list[tuple[list[float], Any]]:
        """The rows pushed at least ``lag`` pushes ago (``everything``: all of them)."""
        keep = 0 if everything else self.lag
        out = []
        while len(self._pending) > keep:
            out.append(self._take())
        return out

    def __len__(self) -> int:
        return len(self._pending)
