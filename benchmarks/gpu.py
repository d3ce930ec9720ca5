"""The GPU check: what gens costs on one GPU against plain PyTorch, and whether a training step
ever makes the host wait (``benchmarks/gpu.sh`` installs and runs it; under 8 minutes).

- DCGAN (Radford et al. 2015) 64x64, batch 128: images/s through ``train.py`` and through a
  plain PyTorch loop with the same networks, optimizers and losses, in fp32, bf16-mixed,
  bf16-mixed + channels-last, and bf16-mixed + channels-last + ``torch.compile``; the ratio
  plain / gens is the framework's overhead (target <= 1.05).
- WGAN-GP (Gulrajani et al. 2017) at 16-mixed with its gradient penalty: finite losses and
  images/s.
- RealNVP (Dinh et al. 2017) and Glow (Kingma & Dhariwal 2018) on 32x32x3: training images/s
  and ``log_prob`` images/s.
- FID + IS + KID (torchmetrics) on 10,000 generated images with an InceptionV3 of the standard
  architecture and random weights (timing only).
- Host synchronizations per training step of every gens run above, counted under
  ``torch.cuda.set_sync_debug_mode("warn")`` (target 0), with where they come from.

All data are fake images of the right shapes made on the device; nothing is downloaded.
Without a GPU it says so and exits 0; ``--dry-run`` runs every part on the CPU with tiny shapes
and a few steps (the test suite does), writing to logs/benchmarks/ unless ``--out`` says else.
Writes ``gpu.md`` and ``gpu_results.json`` (docs/benchmarks/ for a full run).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf, open_dict

from benchmarks.common import compose, parse, parser, write_page
from benchmarks.gpu_page import page
from benchmarks.gpu_parts import FakeImages, RandomInception, TinyExtractor, synchronize

FULL = {
    "size": 64,
    "flow_size": 32,
    "batch": 128,
    "flow_batch": 64,
    "warmup": 20,
    "steps": 100,
    "fid_n": 10_000,
    "fid_batch": 500,
    "width": 64,
    "flow_overrides": {"realnvp": [], "glow": []},
    "dry_run": False,
    "device": "cuda",
}
DRY = {
    "size": 16,
    "flow_size": 8,
    "batch": 8,
    "flow_batch": 8,
    "warmup": 1,
    "steps": 2,
    "fid_n": 8,
    "fid_batch": 4,
    "width": 8,
    "flow_overrides": {
        "realnvp": ["model.transform.channels=8", "model.transform.blocks=1"],
        "glow": [
            "model.transform.levels=2",
            "model.transform.depth=1",
            "model.transform.channels=8",
        ],
    },
    "dry_run": True,
    "device": "cpu",
}
# the variants a dry run covers: every option once
DRY_VARIANTS = ("fp32", "bf16-mixed + channels-last")
DCGAN_VARIANTS = [  # name, precision, channels_last, compile
    ("fp32", "32-true", False, False),
    ("bf16-mixed", "bf16-mixed", False, False),
    ("bf16-mixed + channels-last", "bf16-mixed", True, False),
    ("bf16-mixed + channels-last + compile", "bf16-mixed", True, True),
]


def _cfg(
    model: list[str],
    s: dict,
    run: Path,
    precision: str,
    size: int,
    batch: int,
    channels_last: bool = False,
    compiled: bool = False,
    warmup: int | None = None,
):
    warmup = s["warmup"] if warmup is None else warmup
    cpu = s["device"] == "cpu"
    cfg = compose(
        [
            *model,
            f"trainer.precision={precision}",
            f"trainer.accelerator={'cpu' if cpu else 'gpu'}",
            "trainer.devices=1",
            "trainer.max_epochs=1",
            f"+trainer.limit_train_batches={warmup + s['steps']}",
            "+trainer.limit_val_batches=0",
            "test=false",
            "logger=csv",
            "callbacks=none",
            "+trainer.enable_progress_bar=false",
            "+trainer.enable_checkpointing=false",
            "seed=0",
        ],
        run,
    )
    with open_dict(cfg):
        n = batch * (warmup + s["steps"])
        cfg.data = OmegaConf.create(
            {
                "_target_": "benchmarks.gpu_parts.FakeImages",
                "size": size,
                "n": n,
                "batch_size": batch,
                "device": s["device"],
            }
        )
        cfg.callbacks = OmegaConf.create(
            {
                "network_options": {
                    "_target_": "gens.callbacks.NetworkOptions",
                    "channels_last": channels_last,
                    "compile": compiled,
                },
                "timer": {
                    "_target_": "benchmarks.gpu_parts.StepTimer",
                    "out": str(run / "timer.json"),
                    "warmup": warmup,
                    "steps": s["steps"],
                    "count_syncs": not cpu,
                },
            }
        )
    return cfg


def through_gens(cfg) -> dict:
    from gens.train import train

    metrics = train(cfg)
    out = json.loads((Path(cfg.paths.output_dir) / "timer.json").read_text())
    out["losses"] = {k: v for k, v in metrics.items() if k.startswith("train/")}
    return out


def plain_gan(cfg, s: dict, channels_last: bool, compiled: bool) -> float:
    """The GAN step of ``gens.gan.GAN`` written out in plain PyTorch: images/s."""
    from gens.gan.losses import get_losses
    from gens.train import build

    dm, model = build(cfg)
    dev = dm.device
    G, D = model.generator.to(dev), model.discriminator.to(dev)
    opt_d = instantiate(cfg.model.optimizer_d)(D.parameters())
    opt_g = instantiate(cfg.model.optimizer_g)(G.parameters())
    d_loss, g_loss = get_losses(cfg.model.loss.d, cfg.model.loss.g)
    if channels_last:
        G, D = (m.to(memory_format=torch.channels_last) for m in (G, D))
    if compiled:
        G.compile()
        D.compile()
    bf16 = cfg.trainer.precision == "bf16-mixed"
    warmup = s["warmup"] * (2 if compiled else 1)
    t0, images = 0.0, 0
    for i, (x, _) in enumerate(dm.train_dataloader()):
        if i == warmup:
            synchronize()
            t0 = time.perf_counter()
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            with torch.no_grad():
                fake = G(torch.randn(len(x), model.latent_dim, device=dev))
            loss = d_loss(D(x), D(fake))
        opt_d.zero_grad(set_to_none=True)
        loss.backward()
        opt_d.step()
        D.requires_grad_(False)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            loss = g_loss(D(G(torch.randn(len(x), model.latent_dim, device=dev))))
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
        D.requires_grad_(True)
        images += len(x) if i >= warmup else 0
    synchronize()
    return images / (time.perf_counter() - t0)


def dcgan(s: dict, out: Path) -> list[dict]:
    model = [
        "model=dcgan",
        f"model.generator.width={s['width']}",
        f"model.discriminator.width={s['width']}",
    ]
    rows = []
    for name, precision, cl, compiled in DCGAN_VARIANTS:
        if s["dry_run"] and name not in DRY_VARIANTS:
            rows.append({"variant": name, "skipped": "not in a dry run"})
            continue
        warm = s["warmup"] * (2 if compiled else 1)  # compiling happens in the warm-up
        run = out / f"dcgan_{len(rows)}"
        gens = through_gens(
            _cfg(model, s, run, precision, s["size"], s["batch"], cl, compiled, warm)
        )
        # the plain loop runs as many batches (warm-up included) as the gens run
        plain = plain_gan(
            _cfg(model, s, run / "plain", precision, s["size"], s["batch"], warmup=warm),
            s,
            cl,
            compiled,
        )
        rows.append(
            {
                "variant": name,
                "gens_images_per_s": gens["images_per_s"],
                "plain_images_per_s": plain,
                "ratio": plain / gens["images_per_s"],
                "syncs_per_step": _per_step(gens),
                "sync_sites": gens["sync_sites"],
            }
        )
    return rows


def _per_step(r: dict) -> float | None:
    return None if r["syncs"] is None else r["syncs"] / r["steps"]


def wgan_gp(s: dict, out: Path) -> dict:
    precision = "32-true" if s["device"] == "cpu" else "16-mixed"
    model = [
        "model=wgan_gp",
        f"model.generator.image.width={s['width']}",
        f"model.discriminator.image.width={s['width']}",
    ]
    r = through_gens(_cfg(model, s, out / "wgan_gp", precision, s["size"], s["batch"]))
    finite = bool(r["losses"]) and all(
        v == v and abs(v) != float("inf") for v in r["losses"].values()
    )
    return {
        "precision": precision,
        "images_per_s": r["images_per_s"],
        "finite": finite,
        "losses": r["losses"],
        "syncs_per_step": _per_step(r),
        "sync_sites": r["sync_sites"],
    }


def flows(s: dict, out: Path) -> list[dict]:
    from gens.train import build

    rows = []
    for name in ("realnvp", "glow"):
        cfg = _cfg(
            [f"model={name}", *s["flow_overrides"][name]],
            s,
            out / name,
            "32-true",
            s["flow_size"],
            s["flow_batch"],
        )
        r = through_gens(cfg)
        dm, model = build(cfg)
        model = model.to(dm.device).eval()
        x = dm.train_dataloader().x[: 4 * s["flow_batch"]]
        with torch.no_grad():
            model.log_prob(x[: s["flow_batch"]])  # data-dependent initialization, warm-up
            synchronize()
            t0 = time.perf_counter()
            for _ in range(3):
                model.log_prob(x)
            synchronize()
        rows.append(
            {
                "model": name,
                "train_images_per_s": r["images_per_s"],
                "log_prob_images_per_s": 3 * len(x) / (time.perf_counter() - t0),
                "syncs_per_step": _per_step(r),
                "sync_sites": r["sync_sites"],
            }
        )
    return rows


def fidelity(s: dict) -> dict:
    from gens.metrics.fidelity import FidelityMetrics
    from gens.nets import DCGANGenerator

    dev = torch.device(s["device"])
    n, b = s["fid_n"], s["fid_batch"]
    G = DCGANGenerator(latent_dim=100, data_shape=(3, s["size"], s["size"]), width=s["width"])
    G = G.to(dev).eval()
    extractor = TinyExtractor() if s["dry_run"] else RandomInception()
    metrics = FidelityMetrics(
        extractor.to(dev), kid_subset_size=min(1000, n // 2), is_splits=min(10, n // 4)
    ).to(dev)
    real = FakeImages(size=s["size"], n=n, batch_size=b, device=str(dev))
    synchronize()
    t0 = time.perf_counter()
    feats = [metrics.extractor.both(x)[0].double() for x, _ in real.train_dataloader()]
    metrics.set_real(torch.cat(feats))
    with torch.no_grad():
        for _ in range(n // b):
            metrics.update(G(torch.randn(b, 100, device=dev)).float())
    scores = metrics.compute()
    synchronize()
    seconds = time.perf_counter() - t0
    return {
        "n": n,
        "extractor": type(extractor).__name__,
        "seconds": seconds,
        "images_per_s": 2 * n / seconds,
        "scores": scores,
    }


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__, "gpu.md", out_is_dir=True)
    p.add_argument("--dry-run", action="store_true", help="CPU, tiny shapes, a few steps")
    args = parse(p, argv)
    if not args.dry_run and not torch.cuda.is_available():
        print("benchmarks.gpu: no CUDA GPU here, nothing measured (--dry-run runs it on the CPU)")
        return 0
    s = DRY if args.dry_run else FULL
    out = args.out.parent
    scratch = Path(tempfile.mkdtemp(prefix="gens_gpu_"))  # the runs' files are not results
    torch.manual_seed(0)
    t0 = time.perf_counter()
    res = {
        "dry_run": args.dry_run,
        "device": "CPU" if args.dry_run else torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "settings": s,
    }
    res["section_seconds"] = {}
    for key, run in (("dcgan", dcgan), ("wgan_gp", wgan_gp), ("flows", flows)):
        t = time.perf_counter()
        res[key] = run(s, scratch)
        res["section_seconds"][key] = time.perf_counter() - t
    t = time.perf_counter()
    res["fidelity"] = fidelity(s)
    res["section_seconds"]["fidelity"] = time.perf_counter() - t
    res["seconds"] = time.perf_counter() - t0
    shutil.rmtree(scratch, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_results.json").write_text(json.dumps(res, indent=1))
    write_page(args.out, page(res, args.argv), echo=not args.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
