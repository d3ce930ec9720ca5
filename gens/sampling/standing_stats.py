"""Standing statistics for BatchNorm generators (Brock et al. 2019, BigGAN, Appendix C.1).

A generator with BatchNorm samples, in eval mode, with running statistics that average the
last training batches of the *training* generator. An EMA generator has averaged weights but
those borrowed statistics, and both are noisy estimates at small batch sizes. Standing
statistics recompute them for the weights being sampled: run the generator in train mode on
many noise batches and keep the plain average of the batch statistics (``momentum=None``).
The noise comes from its own seeded generator, so recomputing never touches the global RNG
(training and its exact resume are unaffected).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["has_batch_norm", "recompute_batch_norm_stats"]


def has_batch_norm(net: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())


@torch.no_grad()
def recompute_batch_norm_stats(
    net: nn.Module,
    inputs: Callable[[int, torch.Generator], tuple],
    batches: int,
    batch_size: int,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> None:
    """Reset every BatchNorm's running statistics of ``net`` to the average batch statistics
    over ``batches`` forward passes of ``net(*inputs(batch_size, generator))`` in train mode."""
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms or batches < 1:
        return
    momenta = [m.momentum for m in norms]
    was_training = net.training
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the passes below
    net.train()
    g = torch.Generator(device=device).manual_seed(seed)
    for _ in range(batches):
        net(*inputs(batch_size, g))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    net.train(was_training)
