"""Which DDP wrapping suits a GAN's two networks? Correctness and speed on CPU (gloo, 2 ranks).

A GAN step is two backward passes with different parameter sets: the D loss reaches only D
(the fakes are made under ``no_grad``), the G loss only G (D is frozen). Candidates:

- ``joint_find_unused``: one DDP wrapper around {G, D} with ``find_unused_parameters=True``,
  what ``trainer=ddp`` / ``ddp_sim`` use (Lightning's manual optimization prepares the reducer
  with each ``manual_backward``'s loss). Every backward reduces the buckets of *both* networks.
- ``separate``: DDP(G) and DDP(D), each without unused-parameter search; the frozen-D pass of
  the G step runs under ``D.no_sync()``. Each backward reduces only its own network.
- ``joint_static_graph``: one wrapper with ``static_graph=True``, which assumes the same used
  parameters in every backward; a GAN's alternating passes break that assumption.

Each rank checks that the gradients DDP leaves equal the average of the ranks' local gradients
(computed on an unwrapped copy with the same weights and data). Results go to
``docs/benchmarks/ddp.md``::

    python scripts/bench_ddp.py
"""

from __future__ import annotations

import argparse
import copy
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gens.gan.losses import get_losses  # noqa: E402
from gens.nets import MLPDiscriminator, MLPGenerator  # noqa: E402

STRATEGIES = ["joint_find_unused", "separate", "joint_static_graph"]
D_LOSS, G_LOSS = get_losses("minimax", "nonsaturating")


class Pair(nn.Module):
    """G and D behind one forward, so a single DDP wrapper sees both passes."""

    def __init__(self, g, d):
        super().__init__()
        self.generator, self.discriminator = g, d

    def forward(self, phase: str, x, z):
        if phase == "d":
            with torch.no_grad():
                fake = self.generator(z)
            return D_LOSS(self.discriminator(x), self.discriminator(fake))
        return G_LOSS(self.discriminator(self.generator(z)))


def _nets(seed: int = 0):
    torch.manual_seed(seed)
    g = MLPGenerator(latent_dim=2, data_shape=(2,), hidden=(400, 400, 400, 400))
    d = MLPDiscriminator(data_shape=(2,), hidden=(200, 200, 200), maxout=5)
    return g, d


def _local_avg_grads(g, d, x, z, phase, world):
    """Reference: gradients of this rank's loss on an unwrapped copy, averaged over ranks."""
    pair = Pair(copy.deepcopy(g), copy.deepcopy(d))
    pair.discriminator.requires_grad_(phase == "d")
    pair(phase, x, z).backward()
    net = pair.discriminator if phase == "d" else pair.generator
    grads = [p.grad.clone() for p in net.parameters() if p.grad is not None]
    for t in grads:
        dist.all_reduce(t)
        t /= world
    return grads


def _worker(rank: int, world: int, port: int, strategy: str, steps: int, out: str):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", rank=rank, world_size=world, timeout=datetime.timedelta(seconds=120)
    )
    g, d = _nets()
    if strategy == "separate":
        gw, dw = DDP(g), DDP(d)
    else:
        kw = {"static_graph": True} if strategy == "joint_static_graph" else {}
        kw.setdefault("find_unused_parameters", strategy == "joint_find_unused")
        pair = DDP(Pair(g, d), **kw)
    opt_d = torch.optim.Adam(d.parameters(), 1e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(g.parameters(), 1e-4, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(100 + rank)
    status, times = "ok", []
    try:
        for step in range(steps):
            x = torch.randn(256, 2, generator=gen) * 2
            z = torch.randn(256, 2, generator=gen)
            t0 = time.perf_counter()
            for phase, opt in (("d", opt_d), ("g", opt_g)):
                check = step == 1  # after the first step: buckets rebuilt, states settled
                ref = _local_avg_grads(g, d, x, z, phase, world) if check else None
                d.requires_grad_(phase == "d")
                opt.zero_grad(set_to_none=True)
                if strategy == "separate":
                    if phase == "d":
                        with torch.no_grad():
                            fake = g(z)
                        loss = D_LOSS(dw(x), dw(fake))
                    else:
                        with dw.no_sync():
                            loss = G_LOSS(dw(gw(z)))
                else:
                    loss = pair(phase, x, z)
                loss.backward()
                if check:
                    net = d if phase == "d" else g
                    mine = [p.grad for p in net.parameters() if p.grad is not None]
                    same = len(mine) == len(ref) and all(
                        torch.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(mine, ref)
                    )
                    if not same:
                        status = f"wrong {phase.upper()} gradients"
                opt.step()
            d.requires_grad_(True)
            times.append(time.perf_counter() - t0)
    except Exception as e:  # noqa: BLE001 - the report records why a strategy fails
        status = f"error: {type(e).__name__}: {str(e).splitlines()[0][:120]}"
    if rank == 0:
        Path(out).write_text(f"{status}\n" + "\n".join(map(str, times)))
    try:
        dist.destroy_process_group()
    except Exception:  # noqa: BLE001
        pass


def run(strategy: str, steps: int, port: int) -> tuple[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.txt")
        mp.start_processes(
            _worker, args=(2, port, strategy, steps, out), nprocs=2, start_method="spawn"
        )
        status, *times = Path(out).read_text().splitlines()
    return status, [float(t) for t in times]


NOTES = """## Decision

- `joint_static_graph` is wrong for GANs: the D and G backward passes use different parameter
  sets, and DDP's static-graph mode refuses the second pass (the error in the table).
- `joint_find_unused` is what `trainer=ddp` and `trainer=ddp_sim` use
  (`strategy: ddp_find_unused_parameters_true`): correct for every gens model with no change to
  the models, since Lightning prepares the reducer with the loss of each `manual_backward` and the
  unused-parameter search marks the other network ready. Its cost: every backward all-reduces
  the buckets of both networks, and the search walks the autograd graph.
- `separate` wrappers reduce each network only in its own backward and were the fastest here.
  Using them in gens needs a strategy that wraps `generator` and `discriminator` separately and
  runs the frozen-D pass of the G step under `no_sync()`, while checkpoints, EMA updates and
  subclass hooks keep seeing the plain modules. Not done yet: the default stays the correct
  `ddp_find_unused_parameters_true`; measure on the real cluster before switching, since gloo
  on two shared CPU cores says little about NCCL on GPUs.
"""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "ddp.md"))
    args = p.parse_args(argv)
    results: dict[str, tuple[str, list[float]]] = {}
    port = 29600
    for r in range(args.repeats):
        for s in STRATEGIES if r % 2 == 0 else STRATEGIES[::-1]:
            port += 1
            status, times = run(s, args.steps, port)
            prev = results.get(s, ("ok", []))
            results[s] = (status if status != "ok" else prev[0], prev[1] + times[5:])
            print(f"{s} #{r}: {status}, {len(times)} steps", flush=True)
    rows = []
    for s in STRATEGIES:
        status, times = results[s]
        med = f"{1000 * statistics.median(times):.1f}" if times else "-"
        rows.append(f"| `{s}` | {status} | {med} |")
    text = "\n".join(
        [
            "# DDP strategies for a GAN's two networks",
            "",
            "Regenerate: `python scripts/bench_ddp.py`. MLP GAN of `model=gan` (grid25 sizes), "
            f"batch 256 per rank, 2 CPU ranks (gloo), 1 thread each, {args.repeats} x "
            f"{args.steps} steps per strategy (first 5 of each run dropped); the machine's 2 "
            "cores are shared with other users, so times are indicative.",
            "",
            "*correct*: after a step, each network's gradients equal the average over ranks of "
            "the local gradients (checked on rank 0 against an unwrapped copy).",
            "",
            "| strategy | correct | median ms / step (D + G update) |",
            "|---|---|---|",
            *rows,
            "",
            NOTES,
        ]
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text.rstrip() + "\n")
    print(text)


if __name__ == "__main__":
    main()
