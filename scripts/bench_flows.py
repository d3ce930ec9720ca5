"""Benchmarks of the coupling flows, written to ``docs/benchmarks/flows.md``.

    python scripts/bench_flows.py                      # every section
    python scripts/bench_flows.py --sections zuko      # one section; the others are kept

Sections (each stores its numbers in ``docs/benchmarks/flows_results.json``; the Markdown is
rendered from all stored sections, so sections can be rerun, and added, independently):

- ``toy``: test NLL (nats) of NICE, RealNVP and Glow on moons, checkerboard, ring8, grid25.
- ``zuko``: our RealNVP against zuko's coupling flow (``zuko.flows.RealNVP``): same data, same
  architecture and parameter count (within 10 %), same optimizer and step budget; test NLL and
  ``log_prob`` throughput.
- ``digits``: bits/dim on the dequantized digits for NICE, RealNVP and Glow (affine/additive
  coupling; 1x1 conv vs reverse vs shuffle permutation: the Glow paper's ablation).

Everything runs on one CPU thread with small budgets (the machine is shared). To add a section,
write ``run_<name>(args) -> dict`` and ``render_<name>(result) -> str`` and list it in SECTIONS.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from functools import partial
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gens.data.digits import DIGITS_LEVELS, load_digits_tensors  # noqa: E402
from gens.data.toy import sample_toy  # noqa: E402
from gens.flows import FlowModel, glow, nice, realnvp  # noqa: E402

OUT_MD = ROOT / "docs" / "benchmarks" / "flows.md"
OUT_JSON = ROOT / "docs" / "benchmarks" / "flows_results.json"
TOY_SETS = ["moons", "checkerboard", "ring8", "grid25"]


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters() if p.requires_grad)


def fit(log_prob, params, x_train, steps: int, batch: int, lr: float, seed: int) -> float:
    """Adam with cosine decay on -log_prob; returns seconds per step."""
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    g = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    for _ in range(steps):
        xb = x_train[torch.randint(len(x_train), (batch,), generator=g)]
        loss = -log_prob(xb).mean()
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss diverged: {loss.item()}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 100.0)
        opt.step()
        sched.step()
    return (time.perf_counter() - t0) / steps


@torch.no_grad()
def mean_nll(log_prob, x: torch.Tensor, chunk: int = 1000) -> float:
    return float(torch.cat([-log_prob(b) for b in x.split(chunk)]).mean())


@torch.no_grad()
def throughput(log_prob, x: torch.Tensor, repeats: int = 15) -> float:
    """Points per second of ``log_prob`` on one batch (best of ``repeats``)."""
    log_prob(x)
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        log_prob(x)
        best = min(best, time.perf_counter() - t0)
    return len(x) / best


def _toy_data(name: str, n_train: int, n_test: int):
    return sample_toy(name, n_train, 0)[0], sample_toy(name, n_test, 1)[0]


def _vector_flows(h: int) -> dict:
    return {
        "NICE": partial(nice, layers=8, hidden=(h, h)),
        "RealNVP": partial(realnvp, layers=8, hidden=(h, h)),
        "Glow": partial(glow, depth=8, hidden=(h, h), scale="exp"),
    }


def run_toy(args) -> dict:
    rows = []
    for data in TOY_SETS:
        x_train, x_test = _toy_data(data, 20_000, 5_000)
        for name, factory in _vector_flows(64).items():
            torch.manual_seed(0)
            m = FlowModel(factory, None, data_shape=(2,)).train()
            spd = fit(m.log_prob, list(m.parameters()), x_train, args.toy_steps, 256, 1e-3, 0)
            m.eval()
            rows.append(
                {
                    "data": data,
                    "model": name,
                    "params": n_params(m),
                    "test_nll": mean_nll(m.log_prob, x_test),
                    "sec_per_step": spd,
                }
            )
            print(rows[-1], flush=True)
    return {"steps": args.toy_steps, "batch": 256, "rows": rows}


def render_toy(r: dict) -> str:
    models = sorted({row["model"] for row in r["rows"]}, key=["NICE", "RealNVP", "Glow"].index)
    out = [
        "## 2-D densities: test NLL (nats, lower is better)",
        "",
        f"20,000 training points, 5,000 test points (other seed); {r['steps']} Adam steps of "
        f"batch {r['batch']} (lr 1e-3, cosine decay), 8 coupling layers / steps with 2 x 64 MLPs. "
        "NICE: additive couplings + diagonal scaling; RealNVP: affine couplings, alternating "
        "masks; Glow: ActNorm + invertible linear map (LU) + affine coupling.",
        "",
        "| data | " + " | ".join(models) + " |",
        "|---|" + "---:|" * len(models),
    ]
    for data in TOY_SETS:
        cells = {row["model"]: row for row in r["rows"] if row["data"] == data}
        if cells:
            out.append(
                f"| {data} | " + " | ".join(f"{cells[m]['test_nll']:.3f}" for m in models) + " |"
            )
    params = {row["model"]: row["params"] for row in r["rows"]}
    out += ["", "Parameters: " + ", ".join(f"{m} {params[m]:,}" for m in models) + "."]
    return "\n".join(out)


def run_zuko(args) -> dict:
    import zuko

    rows = []
    for data in TOY_SETS:
        x_train, x_test = _toy_data(data, 20_000, 5_000)
        torch.manual_seed(0)
        ours = FlowModel(partial(realnvp, layers=8, hidden=(64, 64)), None, data_shape=(2,))
        torch.manual_seed(0)
        theirs = zuko.flows.RealNVP(2, transforms=8, hidden_features=(64, 64))

        def zuko_lp(x, f=theirs):
            return f().log_prob(x)

        for name, model, lp in (
            ("gens RealNVP", ours, ours.log_prob),
            ("zuko RealNVP", theirs, zuko_lp),
        ):
            model.train()
            spd = fit(lp, list(model.parameters()), x_train, args.toy_steps, 256, 1e-3, 0)
            model.eval()
            x_big = x_test.repeat(4, 1)[:20_000]
            rows.append(
                {
                    "data": data,
                    "model": name,
                    "params": n_params(model),
                    "test_nll": mean_nll(lp, x_test),
                    "sec_per_step": spd,
                    "logprob_per_sec": throughput(lp, x_big),
                }
            )
            print(rows[-1], flush=True)
    return {"steps": args.toy_steps, "batch": 256, "zuko": zuko.__version__, "rows": rows}


def render_zuko(r: dict) -> str:
    out = [
        "## RealNVP vs zuko's coupling flow",
        "",
        f"Same data as above, same architecture (8 affine couplings with alternating masks, "
        f"2 x 64 ReLU MLPs), same optimizer and budget ({r['steps']} steps of batch "
        f"{r['batch']}), zuko {r['zuko']}. Throughput: `log_prob` on 20,000 points, no grad, "
        "one CPU thread, best of 15.",
        "",
        "| data | model | params | test NLL | log_prob points/s | train s/step |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in r["rows"]:
        out.append(
            f"| {row['data']} | {row['model']} | {row['params']:,} | {row['test_nll']:.3f} | "
            f"{row['logprob_per_sec']:,.0f} | {row['sec_per_step'] * 1e3:.1f} ms |"
        )
    return "\n".join(out)


def _digits_models(levels: int) -> dict:
    g = partial(glow, levels=levels, depth=6, channels=96, scale="sigmoid")
    return {
        "NICE": (partial(nice, layers=4, hidden=(256, 256, 256)), None),
        "RealNVP": (partial(realnvp, levels=levels, channels=32, blocks=1), 0.05),
        "Glow (affine, 1x1 conv)": (g, None),
        "Glow (additive, 1x1 conv)": (partial(g, coupling="additive"), None),
        "Glow (affine, reverse)": (partial(g, permutation="reverse"), None),
        "Glow (affine, shuffle)": (partial(g, permutation="shuffle"), None),
    }


def run_digits(args) -> dict:
    size = args.digits_size
    x, _ = load_digits_tensors(image_size=size)
    g = torch.Generator().manual_seed(0)
    perm = torch.randperm(len(x), generator=g)
    x_test, x_train = x[perm[:300]], x[perm[500:]]
    rows = []
    levels = 2 if size <= 8 else 3
    for name, (factory, alpha) in _digits_models(levels).items():
        torch.manual_seed(0)
        m = FlowModel(
            factory, None, data_shape=(1, size, size), num_levels=DIGITS_LEVELS, logit_alpha=alpha
        ).train()
        spd = fit(m.log_prob, list(m.parameters()), x_train, args.digits_steps, 64, 1e-3, 0)
        m.eval()
        torch.manual_seed(1)
        bpd = float(torch.stack([m.bits_per_dim(x_test).mean() for _ in range(4)]).mean())
        rows.append({"model": name, "params": n_params(m), "test_bpd": bpd, "sec_per_step": spd})
        print(rows[-1], flush=True)
    return {"steps": args.digits_steps, "batch": 64, "size": size, "rows": rows}


def render_digits(r: dict) -> str:
    s = r["size"]
    out = [
        "## Digits (dequantized): test bits/dim",
        "",
        f"scikit-learn digits at {s}x{s} (17 levels), 1,297 training / 300 test images; uniform "
        "dequantization, bits/dim of the discrete images (the -D log 17 correction included; "
        "average of 4 dequantization draws). "
        f"{r['steps']} Adam steps of batch {r['batch']} (lr 1e-3, cosine decay). A model "
        f"that spreads mass uniformly over the 17 levels scores log2(17) = {math.log2(17):.3f}.",
        "",
        "| model | params | test bits/dim | train s/step |",
        "|---|---:|---:|---:|",
    ]
    for row in r["rows"]:
        out.append(
            f"| {row['model']} | {row['params']:,} | {row['test_bpd']:.3f} | "
            f"{row['sec_per_step']:.2f} |"
        )
    return "\n".join(out)


SECTIONS = {
    "toy": (run_toy, render_toy),
    "zuko": (run_zuko, render_zuko),
    "digits": (run_digits, render_digits),
}


def render(results: dict) -> str:
    head = [
        "# Flow benchmarks",
        "",
        "Regenerate with `python scripts/bench_flows.py` (or `--sections toy,zuko,digits`). "
        f"Measured on {results.get('_machine', 'CPU')}, `torch.set_num_threads(1)`.",
    ]
    body = [render_fn(results[k]) for k, (_, render_fn) in SECTIONS.items() if k in results]
    notes = results.get("_notes")
    return "\n\n".join(["\n".join(head), *body, *([notes] if notes else [])]) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sections", default=",".join(SECTIONS))
    p.add_argument("--toy-steps", type=int, default=3000)
    p.add_argument("--digits-steps", type=int, default=1500)
    p.add_argument("--digits-size", type=int, default=8)
    args = p.parse_args()
    torch.set_num_threads(1)
    results = json.loads(OUT_JSON.read_text()) if OUT_JSON.is_file() else {}
    for name in [s for s in args.sections.split(",") if s]:
        if name not in SECTIONS:
            p.error(f"unknown section {name}; choose from {', '.join(SECTIONS)}")
        results[name] = SECTIONS[name][0](args)
        results["_machine"] = f"{platform.machine()} CPU, torch {torch.__version__}"
        OUT_JSON.parent.mkdir(parents=True, exist_ok=True)
        OUT_JSON.write_text(json.dumps(results, indent=1))
        OUT_MD.write_text(render(results))
    print(OUT_MD.read_text())


if __name__ == "__main__":
    main()
