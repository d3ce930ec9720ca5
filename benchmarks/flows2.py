"""Benchmarks of the spline, neural-autoregressive, integration, residual and continuous flows,
written to ``docs/benchmarks/flows2.md``.

    python -m benchmarks.flows2                                  # every section -> docs/
    python -m benchmarks.flows2 --sections toy --data moons &     # or one process per data set,
    python -m benchmarks.flows2 --sections toy --data spirals &   # sharing the page row by row
    python -m benchmarks.flows2 --sections toy --toy-steps 20 --seeds 1 --out logs/f2.md  # quick

Sections (stored in ``flows2_results.json`` beside the page and rendered together, as in
``benchmarks.flows``, whose training and evaluation helpers this reuses):

- ``toy``: test NLL (nats) on moons, checkerboard, spirals and grid25 of every density flow:
  those of ``benchmarks.flows`` (NICE, RealNVP, Glow, MADE, MAF, IAF) and NSF (coupling and
  autoregressive), the cubic-spline flow, NAF, SOS, UMNN, i-ResNet, Residual Flow and
  FFJORD, beside zuko's NSF, NAF and CNF at the same step budget, batch and optimizer, over
  ``--seeds`` seeds; with training seconds per step and ``log_prob`` throughput on the test
  points. Planar, radial and Sylvester flows have no inverse to score data with; they are
  fitted to energies instead (``benchmarks.flows_ar_vi``).
- ``digits``: bits/dim on the dequantized 8x8 digits for NSF, Residual Flow and FFJORD.
"""

from __future__ import annotations

import time
from functools import partial

import torch

from benchmarks import common
from benchmarks.common import n_params
from benchmarks.flows import _toy_data, fit, mean_nll
from benchmarks.flows2_pairs import PAIRS, merge_pairs, timed_pair, versus_zuko
from gens.data.digits import DIGITS_LEVELS, load_digits_tensors
from gens.flows import (
    UMNN,
    CubicSpline,
    DeepSigmoid,
    FlowModel,
    RQSpline,
    SOSPolynomial,
    elementwise_flow,
    ffjord,
    glow,
    iaf,
    iresnet,
    made,
    maf,
    nice,
    realnvp,
    resflow,
)

PAGE = "flows2.md"
TOY_SETS = ["moons", "checkerboard", "spirals", "grid25"]
H = (64, 64)
# Both continuous flows solve with dopri5 to the same tolerances (zuko's default atol is 1e-6),
# so that neither buys accuracy with function evaluations the other does not spend.
ODE_TOL = 1e-4


def _elementwise(transformer, form: str = "coupling", num_layers: int = 5, hidden=H):
    return partial(
        elementwise_flow, transformer=transformer, form=form, num_layers=num_layers, hidden=hidden
    )


def _ours() -> dict:
    return {
        "NICE": partial(nice, layers=8, hidden=H),
        "RealNVP": partial(realnvp, layers=8, hidden=H),
        "Glow": partial(glow, depth=8, hidden=H, scale="exp"),
        "MADE": partial(made, hidden=H),
        "MAF": partial(maf, num_layers=5, hidden=H),
        "IAF": partial(iaf, num_layers=5, hidden=H),
        "NSF (C)": _elementwise(RQSpline),
        "NSF (AR)": _elementwise(RQSpline, "autoregressive"),
        "Cubic (C)": _elementwise(CubicSpline),
        "NAF": _elementwise(partial(DeepSigmoid, 16), "autoregressive", 3),
        "SOS": _elementwise(SOSPolynomial, "autoregressive", 3),
        "UMNN": _elementwise(UMNN, "autoregressive", 3),
        "i-ResNet": partial(iresnet, num_blocks=5, hidden=H),
        "Residual Flow": partial(resflow, num_blocks=5, hidden=H),
        # zuko's CNF integrates over [0, 1]; FFJORD's toy start of T = 0.5 learns too slowly to
        # fit grid25 in 200 steps, so it starts at the same T = 1 (then learnt, as in FFJORD)
        "FFJORD": partial(
            ffjord, hidden=(64, 64, 64), end_time=1.0, trace="exact", atol=ODE_TOL, rtol=ODE_TOL
        ),
    }


def _zuko() -> dict:
    import zuko

    return {
        "zuko NSF": lambda: zuko.flows.NSF(2, transforms=5, hidden_features=H),
        "zuko NAF": lambda: zuko.flows.NAF(2, transforms=3, hidden_features=H),
        "zuko CNF": lambda: zuko.flows.CNF(
            2, hidden_features=(64, 64, 64), atol=ODE_TOL, rtol=ODE_TOL
        ),
    }


def _makers() -> dict:
    makers = {}
    for name, factory in _ours().items():

        def ours(factory=factory):
            m = FlowModel(factory, None, data_shape=(2,)).train()
            return m, m.log_prob

        makers[name] = ours
    for name, build in _zuko().items():

        def theirs(build=build):
            flow = build()
            return flow, lambda x: flow().log_prob(x)

        makers[name] = theirs
    return makers


def run_toy(args) -> dict:
    rows = []
    wanted = [m.strip() for m in args.models.split(";") if m.strip()]
    partners = {**PAIRS, **{b: a for a, b in PAIRS.items()}}
    for data in [d for d in args.data.split(",") if d]:
        x_train, x_test = _toy_data(data, 20_000, 5_000)
        trained: dict[str, list] = {}  # pair members of this data set: (model, log_prob) a seed
        for name, make in _makers().items():
            if wanted and name not in wanted:
                continue
            nlls, secs, rates = [], [], []
            for seed in range(args.seeds):
                torch.manual_seed(seed)
                model, log_prob = make()
                params = list(model.parameters())
                secs.append(fit(log_prob, params, x_train, args.toy_steps, 256, 1e-3, seed))
                model.eval()
                start = time.perf_counter()
                nlls.append(mean_nll(log_prob, x_test))
                rates.append(len(x_test) / (time.perf_counter() - start))
                if name in partners:
                    trained.setdefault(name, []).append((model, log_prob))
            row = {"data": data, "model": name, "params": n_params(model), "test_nll": nlls}
            rows.append({**row, "sec_per_step": sum(secs) / len(secs), "log_prob_per_s": rates})
            print(rows[-1], flush=True)
            pair = timed_pair(data, name, partners.get(name), trained, x_test)
            _store_toy(args, rows[-1:], pair)  # row by row: parallel runs share the store
    return _store_toy(args, [])


def _store_toy(args, rows: list[dict], pairs: list[dict] = ()) -> dict:
    """The toy section with ``rows`` merged in (same data and model replaced), in table order,
    and the paired timings of ours against zuko's; rows of another step budget are dropped."""
    order = list(_makers())
    with common.locked_json(args.out.with_name("flows2_results.json")) as results:
        old = results.get("toy", {})
        same = old.get("steps") == args.toy_steps
        kept = old.get("rows", []) if same else []
        merged = common.merge_rows(kept, rows, ("data", "model"))
        merged.sort(key=lambda r: (_index(TOY_SETS, r["data"]), _index(order, r["model"])))
        timed = merge_pairs(old.get("pairs", []) if same else [], list(pairs), rows)
        results["toy"] = {"steps": args.toy_steps, "batch": 256, "rows": merged, "pairs": timed}
        results["_machine"] = common.machine(threads=1).removeprefix("Machine: ").rstrip(".")
        common.write_page(args.out, render(results), echo=False)
        return results["toy"]


def _index(items: list[str], item: str) -> int:
    return items.index(item) if item in items else len(items)


def render_toy(r: dict) -> str:
    out = [
        "## 2-D densities: test NLL (nats, lower is better)",
        "",
        f"20,000 training points, 5,000 test points (other seed); {r['steps']} Adam steps of "
        f"batch {r['batch']} (lr 1e-3, cosine decay) for every model; mean ± standard error "
        "over the seeds listed per row. zuko's flows at their own defaults for the named sizes; "
        f"both continuous flows solve with dopri5 at atol = rtol = {ODE_TOL:g}, and FFJORD "
        "starts its learnt end time at zuko's T = 1 (the paper's toy runs start at 0.5). "
        "log_prob/s: test points scored per second (no gradients, chunks of 1,000, one "
        "thread; median over the seeds). Rows were re-run in different sessions, some while "
        "other jobs loaded the machine, so s/step and log_prob/s compare only within a pair "
        "timed together (the table below).",
        "",
    ]
    table = []
    for row in r["rows"]:
        nll = common.pm(*common.mean_se(row["test_nll"]), "{:.3f}")
        per = ", ".join(f"{v:.2f}" for v in row["test_nll"])
        table.append(
            [
                row["data"],
                row["model"],
                f"{row['params']:,}",
                nll,
                per,
                f"{row['sec_per_step']:.3f}",
                _rate(row.get("log_prob_per_s")),
            ]
        )
    head = ["data", "model", "params", "test NLL", "per seed", "s/step", "log_prob/s"]
    versus = versus_zuko(r["rows"], r.get("pairs", []), TOY_SETS)
    return "\n".join(out + common.table(head, table, "llrrlrr") + versus)


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _rate(rates: list[float] | None) -> str:
    return f"{_median(rates):,.0f}" if rates else "-"


def run_digits(args) -> dict:
    x, _ = load_digits_tensors(image_size=8)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    x_test, x_train = x[perm[:300]], x[perm[500:]]
    models = {
        "NSF (C)": _elementwise(RQSpline, hidden=(256, 256)),
        "Residual Flow": partial(resflow, num_blocks=4, channels=32, levels=2),
        "FFJORD": partial(ffjord, hidden=(32, 32, 32), act="softplus"),
    }
    rows = []
    for name, factory in models.items():
        torch.manual_seed(0)
        m = FlowModel(factory, None, data_shape=(1, 8, 8), num_levels=DIGITS_LEVELS).train()
        spd = fit(m.log_prob, list(m.parameters()), x_train, args.digits_steps, 64, 1e-3, 0)
        m.eval()
        torch.manual_seed(1)
        with torch.no_grad():
            bpd = float(torch.stack([m.bits_per_dim(x_test).mean() for _ in range(4)]).mean())
            train_bpd = float(m.bits_per_dim(x_train[:300]).mean())
        row = {"model": name, "params": n_params(m), "test_bpd": bpd, "train_bpd": train_bpd}
        rows.append({**row, "sec_per_step": spd})
        print(rows[-1], flush=True)
    return {"steps": args.digits_steps, "batch": 64, "rows": rows}


def render_digits(r: dict) -> str:
    out = [
        f"## Digits (dequantized, 8x8): test bits/dim, {r['steps']} steps",
        "",
        "The protocol of `docs/benchmarks/flows.md` (1,297 training / 300 test images, uniform "
        f"dequantization, logit 0.05, batch {r['batch']}, Adam lr 1e-3 with cosine decay).",
        "",
    ]
    keys = ("model", "params", "test_bpd", "train_bpd", "sec_per_step")
    return "\n".join(out + common.bits_per_dim_table([row[k] for k in keys] for row in r["rows"]))


SECTIONS = {"toy": (run_toy, render_toy), "digits": (run_digits, render_digits)}


def render(results: dict) -> str:
    head = [
        "# Flow benchmarks II: splines, neural autoregressive, residual and continuous flows",
        "",
        f"Measured on {results.get('_machine', 'CPU')}, `torch.set_num_threads(1)`, on a machine "
        "shared with other jobs (timings are noisy).",
    ]
    body = [SECTIONS[k][1](results[k]) for k in SECTIONS if k in results]
    return "\n\n".join(["\n".join(head), *body]) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = common.parser(__doc__, PAGE)
    p.add_argument("--sections", default=",".join(SECTIONS))
    p.add_argument("--data", default=",".join(TOY_SETS))
    p.add_argument("--models", default="", help="';'-separated subset of the toy models")
    p.add_argument("--toy-steps", type=int, default=200)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--digits-steps", type=int, default=300)
    args = common.parse(p, argv)
    torch.set_num_threads(1)
    store = args.out.with_name("flows2_results.json")
    machine = common.machine(threads=1).removeprefix("Machine: ").rstrip(".")
    for name in [s for s in args.sections.split(",") if s]:
        if name not in SECTIONS:
            p.error(f"unknown section '{name}'; choose from {', '.join(SECTIONS)}")
        result = SECTIONS[name][0](args)
        if name == "toy":  # stored row by row as it ran
            continue
        with common.locked_json(store) as results:
            results[name], results["_machine"] = result, machine
            common.write_page(args.out, render(results), echo=False)
    with common.locked_json(store) as results:
        common.write_page(args.out, render(results))


if __name__ == "__main__":
    main()
