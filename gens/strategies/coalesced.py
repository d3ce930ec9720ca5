"""Coalesced collectives for the per-optimizer DDP strategy: few large messages, not one per
tensor.

Gradients are averaged the way PyTorch's ``DistributedDataParallel`` does it (Li et al. 2020,
"PyTorch Distributed: Experiences on Accelerating Data Parallel Training"): tensors of one
device and dtype are packed into flat buckets of at most ``bucket_bytes``, each bucket is
divided by the world size and all-reduced once. Unlike DDP's reducer this runs after the whole
backward pass, at the optimizer step, so it needs no autograd hooks and works with any number
of backward passes (double backward of gradient penalties included).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import torch
import torch.distributed as dist
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

from gens.utils.errors import ConfigError

__all__ = ["buckets", "all_reduce_gradients", "broadcast_tensors"]


def buckets(tensors: Iterable[torch.Tensor], bucket_bytes: int) -> Iterator[list[int]]:
    """Indices of ``tensors`` grouped by (device, dtype), each group cut into buckets of at
    most ``bucket_bytes`` (a tensor larger than that gets a bucket of its own). The order is
    deterministic, so every rank builds the same buckets from the same tensor list."""
    groups: dict[tuple[torch.device, torch.dtype], list[int]] = {}
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        groups.setdefault((t.device, t.dtype), []).append(i)
    for idx in groups.values():
        bucket: list[int] = []
        size = 0
        for i in idx:
            nbytes = tensors[i].numel() * tensors[i].element_size()
            if bucket and size + nbytes > bucket_bytes:
                yield bucket
                bucket, size = [], 0
            bucket.append(i)
            size += nbytes
        if bucket:
            yield bucket


@torch.no_grad()
def all_reduce_gradients(
    params: Sequence[torch.nn.Parameter], world_size: int, bucket_bytes: int, group=None
) -> None:
    """Replace each parameter's ``.grad`` by its average over the ranks of ``group``.

    A parameter without a gradient on some rank (unused in its loss) counts as a zero gradient
    there, so every rank sends the same buckets and none waits forever. Each bucket carries one
    extra "has a gradient" flag per parameter: a parameter that no rank gave a gradient keeps
    ``grad=None`` (optimizers then skip it, as with DDP's unused-parameter handling); otherwise
    it gets the average, with the absent ranks counted as zeros.
    """
    params = [p for p in params if p.requires_grad]
    for p in params:
        if p.grad is not None and p.grad.is_sparse:
            raise ConfigError(
                "PerOptimizerDDP averages dense gradients only; use a dense embedding "
                "(sparse=False) or strategy=ddp"
            )
    for bucket in buckets(params, bucket_bytes):
        ps = [params[i] for i in bucket]
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in ps]
        flags = torch.tensor(
            [float(p.grad is not None) for p in ps], dtype=grads[0].dtype, device=grads[0].device
        )
        flat = _flatten_dense_tensors([*grads, flags])
        flat.div_(world_size)  # before the sum, as DDP does, to keep fp16 in range
        dist.all_reduce(flat, group=group)
        *averaged, used = _unflatten_dense_tensors(flat, [*grads, flags])
        for p, g, avg, anyone in zip(ps, grads, averaged, used.tolist()):
            if anyone == 0:
                continue  # unused on every rank: leave grad None, as it is everywhere
            g.copy_(avg)
            if p.grad is None:
                p.grad = g


@torch.no_grad()
def broadcast_tensors(
    tensors: Sequence[torch.Tensor], bucket_bytes: int, src: int = 0, group=None
) -> None:
    """Overwrite ``tensors`` in place with rank ``src``'s values, in coalesced buckets."""
    tensors = list(tensors)
    for bucket in buckets(tensors, bucket_bytes):
        ts = [tensors[i] for i in bucket]
        flat = _flatten_dense_tensors(ts)
        dist.broadcast(flat, src=src, group=group)
        for t, new in zip(ts, _unflatten_dense_tensors(flat, ts)):
            t.copy_(new)
