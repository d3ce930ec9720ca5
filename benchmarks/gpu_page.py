"""The page of ``benchmarks.gpu``: its results as ``docs/benchmarks/gpu.md``, each figure beside
its target (framework overhead <= 1.05, host syncs per step 0)."""

from __future__ import annotations

from benchmarks.common import footer, table

__all__ = ["page", "TARGET_RATIO"]

TARGET_RATIO = 1.05


def page(res: dict, argv: list[str]) -> str:
    dry = res["dry_run"]
    f = "{:,.0f}".format
    lines = [
        "# One GPU: framework overhead, host syncs, throughput",
        "",
        f"Device: {res['device']}. Total {res['seconds']:.0f} s."
        + (" Dry run (CPU, tiny shapes): its numbers only show the harness works." * dry),
        "",
        "## DCGAN 64x64, batch 128: gens (`train.py`) against a plain PyTorch loop",
        "",
    ]
    rows = [
        [r["variant"], "skipped: " + r["skipped"], "", "", ""]
        if "skipped" in r
        else [
            r["variant"],
            f(r["gens_images_per_s"]),
            f(r["plain_images_per_s"]),
            f"{r['ratio']:.3f}" + (" ✓" if r["ratio"] <= TARGET_RATIO else " ✗"),
            _syncs(r["syncs_per_step"]),
        ]
        for r in res["dcgan"]
    ]
    lines += table(
        [
            "variant",
            "gens img/s",
            "plain img/s",
            f"plain/gens (≤ {TARGET_RATIO})",
            "host syncs/step (0)",
        ],
        rows,
        "lrrrr",
    )
    w = res["wgan_gp"]
    lines += [
        "",
        f"## WGAN-GP at {w['precision']} with the gradient penalty",
        "",
        f"{f(w['images_per_s'])} images/s; losses finite: {'yes' if w['finite'] else 'NO'} "
        f"({', '.join(f'{k}={v:.3g}' for k, v in w['losses'].items())}); host syncs/step: "
        f"{_syncs(w['syncs_per_step'])}.",
        "",
        "## Flows on 32x32x3",
        "",
    ]
    lines += table(
        ["model", "train img/s", "log_prob img/s", "host syncs/step (0)"],
        [
            [
                r["model"],
                f(r["train_images_per_s"]),
                f(r["log_prob_images_per_s"]),
                _syncs(r["syncs_per_step"]),
            ]
            for r in res["flows"]
        ],
        "lrrr",
    )
    fid = res["fidelity"]
    lines += [
        "",
        "## FID + IS + KID",
        "",
        f"{fid['n']:,} generated and {fid['n']:,} real images through a randomly initialized "
        f"{fid['extractor']}: {fid['seconds']:.1f} s ({f(fid['images_per_s'])} images/s, "
        "generation and statistics included; the scores of random features are not reported).",
        "",
        "## Where the host waited",
        "",
    ]
    sites = {}
    for r in [*res["dcgan"], res["wgan_gp"], *res["flows"]]:
        for k, v in r.get("sync_sites", {}).items():
            sites[k] = sites.get(k, 0) + v
    lines += [f"- `{k}`: {v}" for k, v in sorted(sites.items(), key=lambda kv: -kv[1])] or [
        "No synchronizing call in any timed step."
        if not res["dry_run"]
        else "Not counted on the CPU."
    ]
    return "\n".join(lines + footer("benchmarks.gpu", argv))


def _syncs(v) -> str:
    return "n/a (CPU)" if v is None else f"{v:.2f}"
