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
        "masks; Glow: ActNorm + invertible linear map (LU) + affine coupling (soft-clamped exp "
        "scale here; `model=glow` defaults to the paper's sigmoid scale).",
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
    """zuko's RealNVP on the toy sets; our RealNVP rows come from the ``toy`` section (same
    data, architecture, seed and step budget), trained again here if that section is absent."""
    import zuko

    stored = json.loads(OUT_JSON.read_text()) if OUT_JSON.is_file() else {}
    toy = stored.get("toy") if stored.get("toy", {}).get("steps") == args.toy_steps else None
    rows = []
    for data in TOY_SETS:
        x_train, x_test = _toy_data(data, 20_000, 5_000)
        ours = [
            r for r in (toy or {}).get("rows", []) if r["data"] == data and r["model"] == "RealNVP"
        ]
        if ours:
            rows.append({**ours[0], "model": "gens RealNVP"})
        else:
            torch.manual_seed(0)
            m = FlowModel(_vector_flows(64)["RealNVP"], None, data_shape=(2,)).train()
            spd = fit(m.log_prob, list(m.parameters()), x_train, args.toy_steps, 256, 1e-3, 0)
            m.eval()
            nll = mean_nll(m.log_prob, x_test)
            rows.append(
                {
                    "data": data,
                    "model": "gens RealNVP",
                    "params": n_params(m),
                    "test_nll": nll,
                    "sec_per_step": spd,
                }
            )
        torch.manual_seed(0)
        flow = zuko.flows.RealNVP(2, transforms=8, hidden_features=(64, 64))

        def zuko_lp(x, f=flow):
            return f().log_prob(x)

        spd = fit(zuko_lp, list(flow.parameters()), x_train, args.toy_steps, 256, 1e-3, 0)
        flow.eval()
        rows.append(
            {
                "data": data,
                "model": "zuko RealNVP",
                "params": n_params(flow),
                "test_nll": mean_nll(zuko_lp, x_test),
                "sec_per_step": spd,
            }
        )
        print(rows[-2:], flush=True)
    # log_prob throughput does not depend on the data or the weights: measured once.
    torch.manual_seed(0)
    ours = FlowModel(_vector_flows(64)["RealNVP"], None, data_shape=(2,)).eval()
    flow = zuko.flows.RealNVP(2, transforms=8, hidden_features=(64, 64)).eval()
    x_big = torch.randn(20_000, 2)
    speed = {
        "gens RealNVP": throughput(ours.log_prob, x_big),
        "zuko RealNVP": throughput(lambda x: flow().log_prob(x), x_big),
    }
    print(speed, flush=True)
    return {
        "steps": args.toy_steps,
        "batch": 256,
        "zuko": zuko.__version__,
        "rows": rows,
        "logprob_per_sec": speed,
    }


def render_zuko(r: dict) -> str:
    out = [
        "## RealNVP vs zuko's coupling flow",
        "",
        f"Same data as above, same architecture (8 affine couplings with alternating masks, "
        f"2 x 64 ReLU MLPs), same optimizer, seed and budget ({r['steps']} steps of batch "
        f"{r['batch']}), zuko {r['zuko']} (`zuko.flows.RealNVP(2, transforms=8, "
        "hidden_features=(64, 64))`).",
        "",
        "| data | model | params | test NLL | train s/step |",
        "|---|---|---:|---:|---:|",
    ]
    for row in r["rows"]:
        out.append(
            f"| {row['data']} | {row['model']} | {row['params']:,} | {row['test_nll']:.3f} | "
            f"{row['sec_per_step'] * 1e3:.1f} ms |"
        )
    out += [
        "",
        "`log_prob` throughput (20,000 points per call, no grad, eval mode, one CPU thread, "
        "best of 15 calls):",
        "",
        "| model | points/s |",
        "|---|---:|",
    ]
    out += [f"| {k} | {v:,.0f} |" for k, v in r["logprob_per_sec"].items()]
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


def _digits_selected(args) -> dict:
    models = _digits_models(2 if args.digits_size <= 8 else 3)
    if not args.digits_models:
        return models
    wanted = [m.strip() for m in args.digits_models.split(";")]
    return {k: v for k, v in models.items() if k in wanted}


def run_digits(args) -> dict:
    size = args.digits_size
    x, _ = load_digits_tensors(image_size=size)
    g = torch.Generator().manual_seed(0)
    perm = torch.randperm(len(x), generator=g)
    x_test, x_train = x[perm[:300]], x[perm[500:]]
    rows = []
    for name, (factory, alpha) in _digits_selected(args).items():
        torch.manual_seed(0)
        m = FlowModel(
            factory, None, data_shape=(1, size, size), num_levels=DIGITS_LEVELS, logit_alpha=alpha
        ).train()
        spd = fit(m.log_prob, list(m.parameters()), x_train, args.digits_steps, 64, 1e-3, 0)
        m.eval()
        torch.manual_seed(1)
        with torch.no_grad():
            bpd = float(torch.stack([m.bits_per_dim(x_test).mean() for _ in range(4)]).mean())
            train_bpd = float(m.bits_per_dim(x_train[:300]).mean())
        rows.append(
            {
                "model": name,
                "params": n_params(m),
                "test_bpd": bpd,
                "train_bpd": train_bpd,
                "sec_per_step": spd,
            }
        )
        print(rows[-1], flush=True)
    return {"steps": args.digits_steps, "batch": 64, "size": size, "rows": rows}


def render_digits(r: dict) -> str:
    s = r["size"]
    out = [
        f"## Digits (dequantized): test bits/dim, {r['steps']} steps",
        "",
        f"scikit-learn digits at {s}x{s} (17 levels), 1,297 training / 300 test images; uniform "
        "dequantization, bits/dim of the discrete images (the -D log 17 correction included; "
        "average of 4 dequantization draws). "
        f"{r['steps']} Adam steps of batch {r['batch']} (lr 1e-3, cosine decay). A model "
        f"that spreads mass uniformly over the 17 levels scores log2(17) = {math.log2(17):.3f}.",
        "",
        "| model | params | test bits/dim | train bits/dim | train s/step |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in r["rows"]:
        train_bpd = f"{row['train_bpd']:.3f}" if "train_bpd" in row else "-"
        out.append(
            f"| {row['model']} | {row['params']:,} | {row['test_bpd']:.3f} | {train_bpd} | "
            f"{row['sec_per_step']:.2f} |"
        )
    bpd = {row["model"]: row["test_bpd"] for row in r["rows"]}
    out += ["", *_digits_ordering(bpd)]
    return "\n".join(out)


def _digits_ordering(bpd: dict) -> list[str]:
    """State which of the Glow paper's orderings hold in this run (computed, not asserted)."""
    lines = []
    glow_a, glow_add = bpd.get("Glow (affine, 1x1 conv)"), bpd.get("Glow (additive, 1x1 conv)")
    rnvp = bpd.get("RealNVP")
    if glow_a is not None and rnvp is not None:
        holds = "holds" if glow_a < rnvp else "does not hold"
        lines.append(
            f"- Glow (affine) vs RealNVP at about the same parameter count: {glow_a:.3f} vs "
            f"{rnvp:.3f} bits/dim; the paper's ordering (Glow better: 3.35 vs 3.49 on "
            f"CIFAR-10) {holds} in this run."
        )
    if glow_a is not None and glow_add is not None:
        holds = "holds" if glow_a < glow_add else "does not hold"
        lines.append(
            f"- Affine vs additive coupling in Glow: {glow_a:.3f} vs {glow_add:.3f}; the "
            f"paper's ablation (affine better, Fig. 3) {holds} in this run."
        )
    perms = {k: v for k, v in bpd.items() if k.startswith("Glow (affine")}
    if len(perms) == 3:
        order = " < ".join(k[len("Glow (affine, ") : -1] for k in sorted(perms, key=perms.get))
        lines.append(f"- Permutations (paper: 1x1 conv < shuffle < reverse): here {order}.")
    return lines


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
    body = []
    for k, (_, render_fn) in SECTIONS.items():
        # extra runs of a section are stored as "<section>:<tag>" (see --tag)
        keys = sorted(key for key in results if key == k or key.startswith(k + ":"))
        body += [render_fn(results[key]) for key in keys]
    notes = results.get("_notes")
    return "\n\n".join(["\n".join(head), *body, *([notes] if notes else [])]) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sections", default=",".join(SECTIONS))
    p.add_argument("--toy-steps", type=int, default=1000)
    p.add_argument("--digits-steps", type=int, default=500)
    p.add_argument("--digits-size", type=int, default=8)
    p.add_argument("--tag", default="", help="store as an extra run of the section")
    p.add_argument("--digits-models", default="", help="';'-separated subset of the models")
    args = p.parse_args()
    torch.set_num_threads(1)
    results = json.loads(OUT_JSON.read_text()) if OUT_JSON.is_file() else {}
    for name in [s for s in args.sections.split(",") if s]:
        if name not in SECTIONS:
            p.error(f"unknown section {name}; choose from {', '.join(SECTIONS)}")
        result = SECTIONS[name][0](args)
        # re-read: another process may have stored another section meanwhile
        results = json.loads(OUT_JSON.read_text()) if OUT_JSON.is_file() else {}
        results[f"{name}:{args.tag}" if args.tag else name] = result
        results["_machine"] = f"{platform.machine()} CPU, torch {torch.__version__}"
        OUT_JSON.parent.mkdir(parents=True, exist_ok=True)
        OUT_JSON.write_text(json.dumps(results, indent=1))
        OUT_MD.write_text(render(results))
    print(OUT_MD.read_text())


if __name__ == "__main__":
    main()
