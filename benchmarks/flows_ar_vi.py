"""Benchmarks of the autoregressive and VI flows, written to ``docs/benchmarks/flows_ar_vi.md``.

    python -m benchmarks.flows_ar_vi                            # every section
    python -m benchmarks.flows_ar_vi --publish --sections vae    # one; the others are kept

Sections (numbers stored in ``flows_ar_vi_results.json`` beside the page; the Markdown is
rendered from every stored section, so sections can be rerun independently; a run of some
sections only goes to ``logs/benchmarks/`` unless ``--publish``):

- ``zuko``: our MAF against ``zuko.flows.MAF`` (same data, same depth and widths, parameter
  counts within 10 %, same optimizer, batch and step budget): test NLL and ``log_prob``
  throughput.
- ``digits``: MADE and MAF bits/dim on the dequantized 8x8 digits (64 dims) through FlowModel.
- ``vae``: DLGM + NF on binarized digits: -ELBO and importance-sampled NLL for k flow steps.
- ``energy``: reverse-KL fits to U1-U4 (Rezende & Mohamed 2015): KL, ELBO, log Z estimates.

Everything runs on one CPU thread with small budgets (the machine is shared); budgets are
printed in the Markdown.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import torch

from benchmarks import common
from benchmarks.common import adam_fit, n_params
from gens.data import DigitsDataModule
from gens.data.toy import sample_toy
from gens.flows import (
    EnergyFlow,
    FlowModel,
    FlowVAE,
    iaf,
    made,
    maf,
    planar_flow,
    radial_flow,
    sylvester_flow,
)

PAGE = "flows_ar_vi.md"
STORE = "flows_ar_vi_results.json"


# --- zuko ----------------------------------------------------------------------------------------
def _pair(dim: int, hidden: tuple[int, ...]):
    """Our MAF (through FlowModel, as users run it) and zuko's, same depth and widths."""
    import zuko

    torch.manual_seed(0)
    ours = FlowModel(partial(maf, num_layers=5, hidden=hidden), None, data_shape=(dim,))
    torch.manual_seed(0)
    theirs = zuko.flows.MAF(dim, transforms=5, hidden_features=hidden)
    return {
        "ours": (ours, ours.log_prob),
        "zuko": (theirs, lambda x, f=theirs: f().log_prob(x)),
    }


@torch.no_grad()
def interleaved_throughput(pair: dict, x: torch.Tensor, reps: int = 15) -> dict[str, float]:
    """Examples/s of each model's ``log_prob`` on ``x``: best of ``reps`` runs, alternating the
    models so that load from other jobs on the machine hits both alike."""
    best = common.best_of_interleaved(
        {name: partial(log_prob, x) for name, (_, log_prob) in pair.items()}, reps
    )
    return {k: len(x) / v for k, v in best.items()}


def run_zuko(args) -> dict:
    rows = []
    for data in args.zuko_sets:
        x_train, _ = sample_toy(data, 20_000, 0)
        x_test, _ = sample_toy(data, 5_000, 1)
        pair = _pair(2, (128, 128))
        for name, (flow, log_prob) in pair.items():
            g = torch.Generator().manual_seed(1)

            def loss(step, lp=log_prob, g=g, xt=x_train):
                return -lp(xt[torch.randint(len(xt), (args.batch,), generator=g)]).mean()

            sec = adam_fit(loss, flow.parameters(), args.zuko_steps, 1e-3)
            with torch.no_grad():
                nll = float(-log_prob(x_test).mean())
            rows.append({"data": data, "model": name, "params": n_params(flow), "nll": nll,
                         "train_ms_per_step": 1e3 * sec})  # fmt: skip
        speed = interleaved_throughput(pair, torch.randn(10_000, 2))
        for row in rows[-2:]:
            row["logprob_per_s"] = speed[row["model"]]
            print(row, flush=True)
    pair = _pair(64, (256, 256))  # a higher dimension: the size of flattened 8x8 digits
    speed = interleaved_throughput(pair, torch.randn(2000, 64))
    untrained = {"data": "randn64", "nll": None, "train_ms_per_step": None}
    rows += [
        {**untrained, "model": name, "params": n_params(flow), "logprob_per_s": speed[name]}
        for name, (flow, _) in pair.items()
    ]
    return {"rows": rows, "steps": args.zuko_steps, "batch": args.batch}


def render_zuko(r: dict) -> str:
    out = [
        "## MAF vs zuko's MAF",
        "",
        f"Same data (20,000 train / 5,000 test points), 5 layers of MADE 2 x 128 (zuko: "
        f"`MAF(2, transforms=5, hidden_features=(128, 128))`, reversed orders between layers in "
        f"both), Adam lr 1e-3, batch {r['batch']}, {r['steps']} steps, seed 0, one CPU thread. "
        "Throughput: `log_prob` on 10,000 points (2,000 for the 64-d row, 5 x 2 x 256 MADEs), "
        "best of 15 runs alternating the two models, no grad.",
        "",
    ]
    table = []
    for row in r["rows"]:
        nll = "—" if row["nll"] is None else f"{row['nll']:.3f}"
        ms = "—" if row["train_ms_per_step"] is None else f"{row['train_ms_per_step']:.1f}"
        table.append(
            [row["data"], row["model"], f"{row['params']:,}", nll, ms]
            + [f"{row['logprob_per_s']:,.0f}"]
        )
    head = ["data", "model", "params", "test NLL (nats)", "train ms/step", "log_prob examples/s"]
    out += common.table(head, table, "llrrrr")
    by = {(row["data"], row["model"]): row for row in r["rows"]}
    notes = []
    for data in dict.fromkeys(row["data"] for row in r["rows"]):
        ours, theirs = by.get((data, "ours")), by.get((data, "zuko"))
        if not ours or not theirs:
            continue
        speed = ours["logprob_per_s"] / theirs["logprob_per_s"]
        text = f"{data}: throughput ours/zuko = {speed:.2f}"
        if ours["nll"] is not None:
            diff = ours["nll"] - theirs["nll"]
            verdict = "no worse" if diff <= 0.01 else "worse"
            text += f", NLL ours - zuko = {diff:+.3f} nats ({verdict})"
        notes.append(f"- {text}.")
    return "\n".join(out + ["", *notes])


# --- digits --------------------------------------------------------------------------------------
def _digits(batch: int):
    dm = DigitsDataModule(image_size=8, batch_size=batch)
    dm.setup()
    return dm


def run_digits(args) -> dict:
    dm = _digits(args.batch)
    x_train, x_test = dm.splits["train"][0], dm.splits["test"][0]
    rows = []
    models = {
        "MADE (2 x 256)": partial(made, hidden=(256, 256)),
        "MAF (5 x MADE 2 x 256)": partial(maf, num_layers=5, hidden=(256, 256)),
        "MAF (5 x MADE 2 x 64)": partial(maf, num_layers=5, hidden=(64, 64)),
    }
    for i, (name, tf) in enumerate(models.items()):
        if args.digits_models and str(i) not in args.digits_models:
            continue
        torch.manual_seed(0)
        flow = FlowModel(tf, None, data_shape=dm.shape, num_levels=dm.num_levels)
        g = torch.Generator().manual_seed(1)

        def loss(step, f=flow, g=g):
            xb = x_train[torch.randint(len(x_train), (args.batch,), generator=g)]
            return -f.log_prob(xb).mean() / f.dim

        sec = adam_fit(loss, flow.parameters(), args.digits_steps, 1e-3)
        flow.eval()
        with torch.no_grad():  # average the dequantization bound over 10 noise draws
            bpd = torch.stack([flow.bits_per_dim(x_test) for _ in range(10)]).mean()
            train_bpd = torch.stack([flow.bits_per_dim(x_train) for _ in range(10)]).mean()
        rows.append({"model": name, "params": n_params(flow), "bpd": float(bpd),
                     "train_bpd": float(train_bpd), "sec": sec})  # fmt: skip
        print(rows[-1], flush=True)
    return {"rows": rows, "steps": args.digits_steps, "batch": args.batch}


def render_digits(r: dict) -> str:
    out = [
        "## MADE / MAF on digits",
        "",
        f"8x8 digits (64 dims, 17 levels), uniform dequantization + logit (alpha 0.05), "
        f"{r['steps']} Adam steps (lr 1e-3, batch {r['batch']}), seed 0. Test bits/dim is the "
        "dequantization bound (lower is better) on the 300 test images, averaged over 10 noise "
        "draws.",
        "",
    ]
    keys = ("model", "params", "bpd", "train_bpd", "sec")
    out += common.bits_per_dim_table([row.get(k) for k in keys] for row in r["rows"])
    gaps = [
        f"{row['model']}: {row['bpd'] - row['train_bpd']:+.2f}"
        for row in r["rows"]
        if "train_bpd" in row
    ]
    out += [
        "",
        "Test minus train bits/dim (the generalization gap on 1,297 training images; no early "
        "stopping here): " + "; ".join(gaps) + ". The large MAF fits the training set best and "
        "overfits; `experiment=maf_digits` keeps the best validation checkpoint instead.",
    ]
    return "\n".join(out)


# --- vae -----------------------------------------------------------------------------------------
FLOWS = {"planar": planar_flow, "radial": radial_flow, "sylvester": sylvester_flow}


def run_vae(args) -> dict:
    dm = _digits(100)
    x_train, x_test = dm.splits["train"][0], dm.splits["test"][0]
    rows = []
    for spec in args.vae_runs:
        kind, k = spec.split(":")
        torch.manual_seed(0)
        vae = FlowVAE(
            dm.shape, partial(FLOWS[kind], num_layers=int(k)), None, latent_dim=8,
            num_levels=dm.num_levels, warmup_steps=args.vae_warmup,
        )  # fmt: skip
        g = torch.Generator().manual_seed(1)

        def loss(step, v=vae, g=g):
            xb = x_train[torch.randint(len(x_train), (100,), generator=g)]
            return -v.elbo(xb, min(1.0, step / args.vae_warmup)).mean()

        sec = adam_fit(loss, vae.parameters(), args.vae_steps, 1e-3)
        with torch.no_grad():
            torch.manual_seed(2)
            neg_elbo = float(torch.stack([-vae.elbo(x_test).mean() for _ in range(10)]).mean())
            nll = float(vae.iw_nll(x_test, args.iw_samples).mean())
        rows.append({"flow": kind, "k": int(k), "neg_elbo": neg_elbo, "nll": nll, "sec": sec,
                     "steps": args.vae_steps, "warmup": args.vae_warmup})  # fmt: skip
        print(rows[-1], flush=True)
    return {
        "rows": rows, "steps": args.vae_steps, "warmup": args.vae_warmup,
        "iw_samples": args.iw_samples,
    }  # fmt: skip


def render_vae(r: dict) -> str:
    out = [
        "## VAE with a flow posterior (DLGM + NF) on binarized digits",
        "",
        "8x8 digits binarized at the middle level (1,297 train / 300 test), latent 8, encoder "
        f"and decoder MLP 2 x 256, amortized flow parameters from the encoder; {r['steps']} Adam "
        f"steps (lr 1e-3, batch 100, about {r['steps'] * 100 // 1297} epochs) with a linear KL "
        f"warm-up over {r['warmup']} steps, seed 0. -ELBO averaged over 10 draws; NLL "
        f"importance-sampled with {r['iw_samples']} samples. Nats per image, test set.",
        "",
    ]
    table = [
        [
            "diagonal Gaussian" if row["k"] == 0 else row["flow"],
            row["k"],
            f"{row['neg_elbo']:.2f}",
            f"{row['nll']:.2f}",
            f"{row['steps']} ({row['warmup']})",
            f"{row['sec']:.3f}",
        ]
        for row in r["rows"]
    ]
    head = ["posterior", "k", "test -ELBO", "test NLL (IS)", "steps (warm-up)", "train s/step"]
    out += common.table(head, table, "lrrrrr")
    planar = sorted((row["k"], row["nll"]) for row in r["rows"] if row["flow"] == "planar")
    if len(planar) > 1:
        falling = all(b[1] < a[1] for a, b in zip(planar[:-1], planar[1:]))
        trend = "falls monotonically" if falling else "does not fall monotonically"
        out += [
            "",
            f"Planar: the NLL {trend} with k "
            f"({' > '.join(f'{v:.2f}' for _, v in planar) if falling else planar}), the direction "
            "of the seed's table (Rezende & Mohamed 2015, Table 2), at a far smaller scale "
            "(8x8 digits, short training), so the absolute numbers are not comparable to "
            "their MNIST ones.",
        ]
    return "\n".join(out)


# --- energy --------------------------------------------------------------------------------------
def run_energy(args) -> dict:

    flows = {
        "planar K=32": (partial(planar_flow, num_layers=32), 1e-2),
        "radial K=32": (partial(radial_flow, num_layers=32), 1e-2),
        "sylvester K=16": (partial(sylvester_flow, num_layers=16), 5e-3),
        "iaf 8 x MADE 2 x 64": (partial(iaf, num_layers=8), 1e-3),
    }
    rows = []
    for energy in args.energies:
        for name in args.energy_flows:
            tf, lr = flows[name]
            torch.manual_seed(0)
            m = EnergyFlow((2,), tf, None, energy=energy, anneal_steps=args.anneal)

            def loss(step, m=m):
                x, log_q = m.sample_with_log_prob(100)
                beta = min(1.0, 0.01 + step / args.anneal)
                return (log_q - beta * m.log_target(x)).mean()

            sec = adam_fit(loss, m.parameters(), args.energy_steps, lr)
            g = torch.Generator().manual_seed(3)
            ev = {k: float(v) for k, v in m.evaluate(50_000, g).items()}
            rows.append({"energy": energy, "flow": name, "sec": sec, **ev,
                         "steps": args.energy_steps, "anneal": args.anneal})  # fmt: skip
            print(rows[-1], flush=True)
    return {"rows": rows, "steps": args.energy_steps, "anneal": args.anneal}


def render_energy(r: dict) -> str:
    out = [
        "## Reverse-KL fits to the Rezende & Mohamed (2015) energies",
        "",
        "Data-free training: 100 samples per step, Adam for the listed steps, the paper's "
        "annealing beta_t = min(1, 0.01 + t/A) over the listed A steps, seed 0 (lr 1e-2 planar "
        "and radial, 5e-3 Sylvester, 1e-3 IAF). Evaluated on 50,000 "
        "samples: ELBO = E_q[-U - log q], log Z (IS) = log mean exp(-U - log q), true log Z by "
        "quadrature, KL(q||p) = log Z - ELBO (nats), ESS = effective sample size / n. The "
        "energies are soft-walled to [-4, 4]^2 (see gens/data/energy.py).",
        "",
    ]
    table = [
        [
            row["energy"].upper(),
            row["flow"],
            *(f"{row[k]:.3f}" for k in ("kl", "elbo", "logz", "logz_true")),
            f"{row['ess']:.2f}",
            f"{row['steps']} ({row['anneal']})",
            f"{1e3 * row['sec']:.1f}",
        ]
        for row in r["rows"]
    ]
    head = ["energy", "flow", "KL(q‖p)", "ELBO", "log Z (IS)", "log Z (true)", "ESS"]
    out += common.table([*head, "steps (A)", "train ms/step"], table, "llrrrrrrr")
    best = {}
    for row in r["rows"]:
        if row["energy"] not in best or row["kl"] < best[row["energy"]]["kl"]:
            best[row["energy"]] = row
    out += [
        "",
        "Lowest KL per energy: "
        + "; ".join(f"{e.upper()} {row['flow']} ({row['kl']:.3f})" for e, row in best.items())
        + ". U2-U4 are the hard ones at this budget (thin bent ridges, two branches for U3/U4); "
        "an ESS far below 1 means heavy-tailed importance weights, so the IS estimate of log Z is "
        "then unreliable (short of or above the true value), while the ELBO stays a bound.",
    ]
    return "\n".join(out)


SECTIONS = {"zuko": (run_zuko, render_zuko), "digits": (run_digits, render_digits),
            "vae": (run_vae, render_vae), "energy": (run_energy, render_energy)}  # fmt: skip


def render(results: dict) -> str:
    head = [
        "# Autoregressive and VI flows: benchmarks",
        "",
        f"Generated by `python -m benchmarks.flows_ar_vi` (sections: {', '.join(SECTIONS)}). "
        "The machine was shared with other jobs, so timings are noisy (compare within a table, "
        "not across runs).",
        "",
        common.machine(threads=1),
    ]
    body = [SECTIONS[s][1](results[s]) for s in SECTIONS if s in results]
    return "\n\n".join(["\n".join(head), *body])


ROW_KEYS = {"vae": ("flow", "k"), "energy": ("energy", "flow"), "digits": ("model",)}


def store(out: Path, name: str, result: dict) -> None:
    """Store one section's result in the JSON file beside the page ``out`` and re-render it;
    rows of ``vae`` / ``energy`` / ``digits`` are merged with the stored ones (same key:
    replaced), so their runs can be split over processes, which may run in parallel."""
    with common.locked_json(out.with_name(STORE)) as results:
        if name in ROW_KEYS and name in results:
            rows = common.merge_rows(results[name]["rows"], result["rows"], ROW_KEYS[name], True)
            result = {**result, "rows": rows}
        results[name] = result
        common.write_page(out, render(results), echo=False)


def main(argv: list[str] | None = None) -> None:
    p = common.parser(__doc__, PAGE)
    p.add_argument("--sections", default=",".join(SECTIONS))
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--zuko-sets", default="moons,checkerboard")
    p.add_argument("--zuko-steps", type=int, default=2000)
    p.add_argument("--digits-steps", type=int, default=1000)
    p.add_argument("--digits-models", default="", help="indices to run, e.g. 0,2 (all: empty)")
    p.add_argument("--vae-runs", default="planar:0,planar:10,planar:20,planar:40,planar:80")
    p.add_argument("--vae-steps", type=int, default=2000)
    p.add_argument("--vae-warmup", type=int, default=500)
    p.add_argument("--iw-samples", type=int, default=500)
    p.add_argument("--energies", default="u1,u2,u3,u4")
    p.add_argument("--energy-flows", default="planar K=32,radial K=32,sylvester K=16")
    p.add_argument("--energy-steps", type=int, default=1500)
    p.add_argument("--anneal", type=int, default=1000)
    args = common.parse(p, argv)
    for key in ("zuko_sets", "vae_runs", "energies", "energy_flows", "digits_models"):
        setattr(args, key, [s for s in getattr(args, key).split(",") if s])
    sections = [s for s in args.sections.split(",") if s]
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        p.error(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    torch.set_num_threads(1)
    for name in sections:
        store(args.out, name, SECTIONS[name][0](args))
    with common.locked_json(args.out.with_name(STORE)) as results:  # (re-render them all)
        common.write_page(args.out, render(results))


if __name__ == "__main__":
    main()
