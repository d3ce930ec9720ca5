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
- ``per_step_allreduce``: no wrapper; after each backward, the stepped network's gradients are
  averaged in coalesced all-reduces (``gens.strategies.coalesced``), what
  ``gens.strategies.PerOptimizerDDP`` does at each optimizer step.
- ``local_only``: no communication at all (not data parallel): the floor the others add to.

The real path is measured too: ``train.py``'s Lightning trainer (``model=gan``, grid25,
``trainer=ddp_sim``, Lightning's ``ddp_find_unused_parameters_true``) and with
``PerOptimizerDDP`` (``trainer=ddp_sim_per_optimizer``), timed per training batch by a callback.

Each rank checks that the gradients DDP leaves equal the average of the ranks' local gradients
(computed on an unwrapped copy with the same weights and data). Results go to
``docs/benchmarks/ddp.md`` (the raw times to ``ddp_results.json`` beside it)::

    python -m benchmarks.ddp
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from benchmarks import common
from gens.gan.losses import get_losses
from gens.nets import MLPDiscriminator, MLPGenerator
from gens.strategies.coalesced import all_reduce_gradients

PAGE = "ddp.md"

STRATEGIES = [
    "joint_find_unused",
    "separate",
    "joint_static_graph",
    "per_step_allreduce",
    "local_only",
]
LIGHTNING = {
    "ddp_find_unused_parameters_true": "trainer=ddp_sim",  # the default
    "PerOptimizerDDP": "trainer=ddp_sim_per_optimizer",
}
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
    elif strategy in ("per_step_allreduce", "local_only"):
        for t in [*g.parameters(), *d.parameters()]:
            dist.broadcast(t.data, 0)
        pair = Pair(g, d)
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
                # after the first step: buckets rebuilt, states settled
                check = step == 1 and strategy != "local_only"
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
                if strategy == "per_step_allreduce":
                    net = d if phase == "d" else g
                    all_reduce_gradients(list(net.parameters()), world, 25 * 2**20)
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
    if strategy == "local_only" and status == "ok":
        status = "n/a: floor, no averaging"
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


def lightning_worker(strategy: str, steps: int, out: str) -> None:
    """One rank of ``train.py``'s trainer for ``model=gan data=grid25 trainer=ddp_sim``;
    Lightning's popen launcher reruns this module (same argv) for rank 1. Rank 0 writes the
    seconds per batch."""
    import hydra
    import pytorch_lightning as pl

    from gens.train import build

    torch.set_num_threads(1)
    overrides = ["model=gan", "data=grid25", "data.n_train=60000", "data.batch_size=256"]
    overrides += [LIGHTNING[strategy], "seed=0"]
    cfg = common.compose(overrides)
    pl.seed_everything(0, verbose=False)
    dm, model = build(cfg)

    class Timer(pl.Callback):
        def __init__(self):
            self.times, self.t0 = [], 0.0

        def on_train_batch_start(self, *args):
            self.t0 = time.perf_counter()

        def on_train_batch_end(self, *args):
            self.times.append(time.perf_counter() - self.t0)

    timer = Timer()
    trainer = hydra.utils.instantiate(
        cfg.trainer,
        default_root_dir=tempfile.mkdtemp(),
        callbacks=[timer],
        logger=False,
        max_epochs=1,
        limit_train_batches=steps,
        limit_val_batches=0,
        enable_checkpointing=False,
        enable_progress_bar=False,
    )
    trainer.fit(model, datamodule=dm)
    if trainer.is_global_zero:
        Path(out).write_text("ok\n" + "\n".join(map(str, timer.times)))


def run_lightning(strategy: str, steps: int) -> tuple[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.txt")
        cmd = [sys.executable, "-m", "benchmarks.ddp", "--lightning-worker", strategy]
        cmd += ["--steps", str(steps), "--out", out]
        r = subprocess.run(cmd, cwd=common.ROOT, capture_output=True, text=True)
        if r.returncode != 0:
            return f"error: {r.stderr.strip().splitlines()[-1][:120]}", []
        status, *times = Path(out).read_text().splitlines()
    return status, [float(t) for t in times]


def comm_floats() -> tuple[int, int]:
    """Floats all-reduced per GAN step (one D and one G update) for ``model=gan`` on grid25:
    one wrapper around G and D reduces both networks in each of the two backward passes (the
    frozen or unused half as zeros); per-optimizer averaging reduces each network once."""
    g, d = _nets()
    n_g = sum(p.numel() for p in g.parameters())
    n_d = sum(p.numel() for p in d.parameters())
    return 2 * (n_g + n_d), n_g + n_d


def notes(ratio: float, med: dict[str, float]) -> str:
    joint, per_opt = comm_floats()
    floor = med["local_only"]
    add = {k: v - floor for k, v in med.items()}
    return f"""## Decision

`trainer=ddp` and `trainer=ddp_sim` keep Lightning's `ddp_find_unused_parameters_true`: the
new strategy is correct but was not faster here. `gens.strategies.PerOptimizerDDP` is opt-in:
`trainer=ddp_per_optimizer` (GPUs) and `trainer=ddp_sim_per_optimizer` (2 CPU processes).

- Correct: `tests/test_ddp_strategy.py` runs 2 gloo ranks on different data and replays the
  steps on unwrapped copies: every D and G update (BatchNorm in both, an R1 penalty's double
  backward) and every automatic-optimization update (the flows' path) equals the average of the
  ranks' local gradients; ranks start from rank 0's weights and end with identical weights and
  buffers; `train.py` runs of `gan` (EMA, resume), `wgan_gp` (n_critic, gradient penalty),
  `dcgan` (BatchNorm) and `realnvp` train, checkpoint with plain keys, load and resume.
- Not faster on this machine: through the real path its median time per batch is
  **{ratio:.2f}x** that of `ddp_find_unused_parameters_true`. In the plain loop, measured in
  the same interleaved session,
  `local_only` (no communication at all) takes {floor:.1f} ms per step; averaging each network
  at its own step adds {add["per_step_allreduce"]:+.1f} ms, the joint find-unused wrapper
  {add["joint_find_unused"]:+.1f} ms and separate wrappers {add["separate"]:+.1f} ms (medians).
  DDP-wrapped loops running faster than a loop that communicates nothing cannot come from the
  communication; the likeliest cause is the shared cores' scheduler (processes that block on
  DDP's background all-reduce get CPU back sooner among the other users' jobs), so the CPU
  figures do not settle the question for GPUs.
- Half the traffic, independent of the machine: per GAN step the joint wrapper all-reduces
  {joint:,} floats (both networks in each of the two backward passes, plus the unused-parameter
  search over the autograd graph); `PerOptimizerDDP` all-reduces {per_opt:,} (each network once,
  at its own step), so the gap should grow with network size and slower links (multi-node).
- What it offers besides speed: it works for every gens model without wrapping anything (the
  module keeps its plain submodules: checkpoint keys, EMA, subclass hooks), nothing hooks
  autograd, a parameter unused on some ranks counts as a zero gradient there instead of hanging
  the step, and ranks end with identical buffers.
- Switch the default only after measuring `trainer=ddp` against `trainer=ddp_per_optimizer` on
  the real cluster (NCCL, GPUs): there DDP overlaps its bucket all-reduces with the backward
  pass, which `PerOptimizerDDP` runs after it, while `PerOptimizerDDP` sends half the bytes.
- `joint_static_graph` is wrong for GANs: the D and G backward passes use different parameter
  sets, and DDP's static-graph mode refuses the second pass (the error in the table).
"""


def _median_ms(times: list[float]) -> str:
    return f"{1000 * statistics.median(times):.1f}" if times else "-"


def _quartile_ms(times: list[float], q: int) -> float:
    return 1000 * statistics.quantiles(times, n=4)[q - 1]


def _cells(times: list[float]) -> list[str]:
    if not times:
        return ["-", "-"]
    return [_median_ms(times), f"{_quartile_ms(times, 1):.1f} – {_quartile_ms(times, 3):.1f}"]


def main(argv=None):
    p = common.parser(__doc__, PAGE)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument(
        "--render-only", action="store_true", help="rewrite the page from ddp_results.json"
    )
    p.add_argument("--lightning-worker", choices=list(LIGHTNING), help=argparse.SUPPRESS)
    args = common.parse(p, argv, neutral=("render_only",))
    if args.lightning_worker:
        return lightning_worker(args.lightning_worker, args.steps, str(args.out))
    raw = args.out.with_name("ddp_results.json")
    if args.render_only:
        saved = json.loads(raw.read_text())
        args.steps, args.repeats = saved["steps"], saved["repeats"]
        results = {k: tuple(v) for k, v in saved["results"].items()}
    else:
        results = measure(args.steps, args.repeats)
        payload = {"steps": args.steps, "repeats": args.repeats, "results": results}
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(json.dumps(payload, indent=1) + "\n")
    common.write_page(args.out, render(results, args))


def measure(steps: int, repeats: int) -> dict[str, tuple[str, list[float]]]:
    results: dict[str, tuple[str, list[float]]] = {}
    port = 29600
    jobs = [("plain", s) for s in STRATEGIES] + [("lightning", s) for s in LIGHTNING]
    for r, (kind, s) in common.interleave(jobs, repeats):  # shared cores drift
        port += 1
        if kind == "plain":
            status, times = run(s, steps, port)
        else:
            status, times = run_lightning(s, steps)
        prev = results.get(s, ("ok", []))
        results[s] = (status if status != "ok" else prev[0], prev[1] + times[5:])
        med = _median_ms(times[5:])
        print(f"{s} #{r}: {status}, {len(times)} steps, median {med} ms", flush=True)
    return results


def render(results: dict[str, tuple[str, list[float]]], args) -> str:
    plain = [[f"`{s}`", results[s][0], *_cells(results[s][1])] for s in STRATEGIES]
    checked = {
        "PerOptimizerDDP": "`tests/test_ddp_strategy.py`",
        "ddp_find_unused_parameters_true": "Lightning's DDP",
    }
    real = []
    for s in LIGHTNING:
        status, times = results[s]
        status = checked[s] if status == "ok" else status
        real.append([f"`{s}`", status, *_cells(times)])
    fu, po = (results[s][1] for s in LIGHTNING)
    ratio = statistics.median(po) / statistics.median(fu) if fu and po else float("nan")
    return "\n".join(
        [
            "# DDP strategies for a GAN's two networks",
            "",
            common.regenerate("benchmarks.ddp", args.argv, drop=["--render-only"])
            + ". MLP GAN of `model=gan` (grid25 sizes), "
            f"batch 256 per rank, 2 CPU ranks (gloo), 1 thread each, {args.repeats} x "
            f"{args.steps} steps per strategy, runs interleaved (first 5 steps of each run "
            "dropped); the machine's 2 cores are shared with other users, so times are "
            "indicative.",
            "",
            common.machine(threads=1),
            "",
            "## Plain PyTorch loop",
            "",
            "*correct*: after a step, each network's gradients equal the average over ranks of "
            "the local gradients (checked on rank 0 against an unwrapped copy).",
            "",
            *common.table(
                ["strategy", "correct", "median ms / step (D + G update)", "quartiles"], plain
            ),
            "",
            "## The real path: `train.py`'s Lightning trainer",
            "",
            "`model=gan data=grid25 data.batch_size=256` with `trainer=ddp_sim` (Lightning's "
            "`ddp_find_unused_parameters_true`) and `trainer=ddp_sim_per_optimizer` "
            "(`PerOptimizerDDP`); ms per training batch (D and G step, logging, callbacks) timed "
            "by a callback on rank 0.",
            "",
            *common.table(
                ["`trainer.strategy`", "correctness checked by", "median ms / batch", "quartiles"],
                real,
            ),
            "",
            f"PerOptimizerDDP / find_unused: **{ratio:.2f}x** the time per batch.",
            "",
            notes(
                ratio,
                {s: 1000 * statistics.median(results[s][1]) for s in results if results[s][1]},
            ),
        ]
    )


if __name__ == "__main__":
    main()
