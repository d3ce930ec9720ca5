"""The samples evaluation draws: from ``seed`` for validation and ``seed + 1`` for test, never
from the global RNG. ``evaluation_samples`` draws them once per trainer, split, step, count and
seed, so a metric callback and the final sample figure share the very samples the metric
scored (a rejection-sampled draw is costly enough not to repeat)."""

from __future__ import annotations

import weakref

import torch

__all__ = ["eval_generator", "evaluation_samples"]

_drawn: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def eval_generator(pl_module, seed: int, split: str) -> torch.Generator:
    offset = {"val": 0, "test": 1}[split]
    return torch.Generator(device=pl_module.device).manual_seed(int(seed) + offset)


def evaluation_samples(trainer, pl_module, n: int, seed: int, split: str, **options):
    """``pl_module.sample(n, generator=eval_generator(...), **options)``, drawn once for this
    trainer, split, global step and arguments and reused by every caller."""
    when = (split, trainer.global_step)
    key = (int(n), int(seed), tuple(sorted(options.items())))
    cache = _drawn.get(trainer)
    if cache is None or cache[0] != when:  # only the current evaluation's draws are kept
        cache = _drawn[trainer] = (when, {})
    cache = cache[1]
    if key not in cache:
        cache[key] = pl_module.sample(
            n, generator=eval_generator(pl_module, seed, split), **options
        )
    return cache[key]
