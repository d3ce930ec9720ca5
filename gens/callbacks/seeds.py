"""The seeded generators that evaluation draws samples from: ``seed`` for validation and
``seed + 1`` for test. Metric callbacks and the final sample figure share them, so the figure
shows exactly the samples the test metrics scored, and evaluation never moves the global RNG."""

from __future__ import annotations

import torch

__all__ = ["eval_generator"]


def eval_generator(pl_module, seed: int, split: str) -> torch.Generator:
    offset = {"val": 0, "test": 1}[split]
    return torch.Generator(device=pl_module.device).manual_seed(int(seed) + offset)
