"""Console output that tells the user nothing they can act on, silenced where it starts.

Each entry names a message of a library gens runs on and why it says nothing to a gens user.
Everything else (real warnings, gens' own messages) passes. ``tests/test_quiet_run.py`` fails
on any warning a default run emits that is not listed here.
"""

from __future__ import annotations

import logging
import re
import warnings

__all__ = ["silence_known_noise", "NOISE_WARNINGS", "NOISE_LOG_LINES"]

NOISE_WARNINGS = (
    # Lightning's own use of a torch pytree API that torch deprecated; nothing in gens calls it
    r".*isinstance\(treespec, LeafSpec\)` is deprecated",
    # the EMA generator, a rejection sampler's discriminator and feature extractors are frozen
    # copies kept in eval mode on purpose
    r"Found \d+ module\(s\) in eval mode at the start of training",
    # a resume in its own run directory continues its files (gens.utils.run_dir keeps a copy of
    # the record in previous/<n>/ first); any other non-empty directory is refused before
    r"Experiment logs directory .* exists and is not empty",
    r"Checkpoint directory .* exists and is not empty",
    # the sample metrics (gens.callbacks: vector, image and stacked-mode metrics) are computed
    # from the same seeded samples on every rank, so they agree without a reduction; held-out
    # losses, which differ across ranks' shards, keep the warning
    r"It is recommended to use `self\.log\('(val|test)/(modes|hq|rkl|mmd|kl|fid|is|kid)'",
    # the in-memory sets (toy, digits) slice batches in the main process: workers would only
    # add cost
    r".*does not have many workers which may be a bottleneck",
)

# Informational lines of Lightning's console logger: advertisements and the device banner (the
# accelerator is in the printed config), which would also stand between a run and its one-line
# ``gens: error``.
NOISE_LOG_LINES = (
    "💡 Tip:",
    "GPU available:",
    "TPU available:",
    "HPU available:",
    "Loading `train_dataloader` to estimate number of stepping batches",
)

_LIGHTNING_LOGGERS = ("pytorch_lightning", "lightning.pytorch", "lightning_fabric")


class _DropLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.getMessage()).startswith(NOISE_LOG_LINES)


_FILTER = _DropLines()


def silence_known_noise() -> None:
    """Install the filters (idempotent); call before Lightning objects are built."""
    for pattern in NOISE_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
    for name in _LIGHTNING_LOGGERS:
        for logger in (logging.getLogger(name), logging.getLogger(f"{name}.utilities.rank_zero")):
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
        for handler in logging.getLogger(name).handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)


def is_noise(message: str) -> bool:
    """Whether a warning message is one of ``NOISE_WARNINGS``."""
    return any(re.match(p, message) for p in NOISE_WARNINGS)
