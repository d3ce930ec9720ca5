"""How fast a packed discriminator (PacGAN, Lin et al. 2018) learns the 25-mode grid.

A supervised check with no generator, to tell the discriminator's learning speed apart from
the game: the PacGAN 2-D discriminator (3x200 maxout, 5 pieces; the input layer m times as
wide) is trained with the minimax loss to tell packs of m real grid25 points from packs of m
points of a fixed "blob", the real points blurred by N(0, 0.5^2) noise (the data's range and
rough density, no modes). One run per pack size, the same seeds, batches of 100 packs (as in
the mode benchmark), Adam lr 1e-3, betas (0.5, 0.999). The table gives the loss over each
window of steps (log 4 = 1.386 is a discriminator that has learned nothing) and the first
window whose mean is below 1.30.

    python -m benchmarks.packed_discriminator           # -> docs/benchmarks/
    python -m benchmarks.packed_discriminator --quick   # smoke run -> logs/benchmarks/
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path

import torch
from torch.nn.functional import binary_cross_entropy_with_logits as bce

from benchmarks import common
from gens.data.toy import sample_toy
from gens.nets import MLPDiscriminator, PackedDiscriminator

PAGE = "packed_discriminator.md"
BLUR = 0.5
LEARNED = 1.30  # a window mean below this: the discriminator tells the two apart


def make_discriminator(pack: int) -> torch.nn.Module:
    body = partial(MLPDiscriminator, hidden=(200, 200, 200), maxout=5)
    if pack == 1:
        return body(data_shape=(2,))
    return PackedDiscriminator((2,), pack=pack, network=body)


def train(pack: int, steps: int, window: int, seed: int = 0) -> list[float]:
    """Mean loss over each window of ``window`` steps."""
    data, _ = sample_toy("grid25", 100_000, seed)
    data = data.float()
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    d = make_discriminator(pack)
    opt = torch.optim.Adam(d.parameters(), lr=1e-3, betas=(0.5, 0.999))
    n = 100 * pack
    losses, means = [], []
    for _ in range(steps):
        real = data[torch.randint(0, len(data), (n,), generator=gen)]
        blob = data[torch.randint(0, len(data), (n,), generator=gen)]
        blob = blob + BLUR * torch.randn(n, 2, generator=gen)
        lr_, lb = d(real), d(blob)
        loss = bce(lr_, torch.ones_like(lr_)) + bce(lb, torch.zeros_like(lb))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if len(losses) == window:
            means.append(sum(losses) / window)
            losses = []
    return means


def first_learned(means: list[float], window: int) -> str:
    for i, m in enumerate(means):
        if m < LEARNED:
            return f"{i * window}-{(i + 1) * window}"
    return f"not within {len(means) * window}"


def render(results: dict[int, list[float]], window: int, args, secs: float) -> str:
    windows = len(next(iter(results.values())))
    head = [f"{i * window}-{(i + 1) * window}" for i in range(windows)]
    rows = [
        [pack, *(f"{m:.3f}" for m in means), first_learned(means, window)]
        for pack, means in results.items()
    ]
    lines = [
        "# Packed discriminator: steps to learn the grid (supervised, no generator)",
        "",
        common.regenerate("benchmarks.packed_discriminator", args.argv),
        "",
        f"- Real packs of grid25 against packs of the same points blurred by N(0, {BLUR}^2), "
        f"{args.steps} steps, batches of 100 packs, Adam lr 1e-3, betas (0.5, 0.999), seed "
        f"{args.seed}; D is the PacGAN 2-D discriminator (3x200 maxout, 5 pieces). Mean "
        f"minimax loss per window of {window} steps; log 4 = {math.log(4):.3f} is chance. "
        f"{secs / 60:.1f} min on one thread.",
        f"- {common.machine(threads=1)}",
        "",
        *common.table(["pack", *head, f"first window below {LEARNED}"], rows),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> Path:
    p = common.parser(__doc__, PAGE)
    p.add_argument("--quick", action="store_true", help="a few steps (CI smoke run)")
    p.add_argument("--steps", type=int, default=8000)
    p.add_argument("--windows", type=int, default=8)
    p.add_argument("--packs", type=int, nargs="*", default=[1, 2, 4])
    p.add_argument("--seed", type=int, default=0)
    args = common.parse(p, argv)
    if args.quick:
        args.steps, args.windows = 8, 2
    if args.steps < 1 or args.windows < 1 or args.steps % args.windows:
        p.error(
            f"--steps ({args.steps}) must be a positive multiple of --windows ({args.windows})"
        )
    if any(m < 1 for m in args.packs):
        p.error(f"pack sizes must be >= 1, got {args.packs}")
    torch.set_num_threads(1)
    window = args.steps // args.windows
    clock = common.Clock()
    results = {m: train(m, args.steps, window, args.seed) for m in args.packs}
    secs = clock.lap()[0]
    return common.write_page(args.out, render(results, window, args, secs))


if __name__ == "__main__":
    main()
