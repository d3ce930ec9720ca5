"""Train the small CNN classifier that serves as the domain feature extractor of FID / IS / KID
(``gens.metrics.features.ClassifierExtractor``).

``gens-train-classifier data=digits`` writes ``<set>_classifier.pt`` and ``.json``
(accuracies, sizes, checksum) to its run directory, ``logs/train_classifier/runs/<timestamp>/``
(or to ``out=<file.pt>``), and prints where; ``extractor=<that .pt>`` uses it. With
``publish=true`` it writes where ``extractor=auto`` looks instead: the shipped
``gens/assets/digits_classifier.pt`` for digits, ``<data_dir>/classifiers/<set>_classifier.pt``
for any other labeled image set. Trains on the train split (AdamW, random translations), keeps
the epoch with the best val accuracy, and reports test accuracy.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import hydra
import torch
import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf

from gens.cli.common import app, integer, number, split_tensors
from gens.metrics.features import ASSETS, file_digest
from gens.metrics.real_stats import dataset_key
from gens.nets.classifier import ConvClassifier
from gens.utils.errors import ConfigError
from gens.utils.io import atomic_write_bytes, write_json_atomic

__all__ = ["destination", "main", "train_classifier"]


def shift(x: torch.Tensor, max_shift: int, g: torch.Generator) -> torch.Tensor:
    """Translate each image by up to ``max_shift`` pixels, filling with the background (-1)."""
    if max_shift <= 0:
        return x
    n, _, h, w = x.shape
    p = max_shift
    padded = F.pad(x, (p, p, p, p), value=-1.0)
    dx = torch.randint(0, 2 * p + 1, (n,), generator=g)
    dy = torch.randint(0, 2 * p + 1, (n,), generator=g)
    rows = (dy[:, None] + torch.arange(h)[None]).view(n, 1, h, 1).expand(-1, x.shape[1], -1, w)
    cols = (dx[:, None] + torch.arange(w)[None]).view(n, 1, 1, w).expand(-1, x.shape[1], h, -1)
    idx = torch.arange(n)[:, None, None, None]
    ch = torch.arange(x.shape[1])[None, :, None, None]
    return padded[idx, ch, rows, cols]


@torch.no_grad()
def accuracy(net: ConvClassifier, x: torch.Tensor, y: torch.Tensor) -> float:
    net.eval()
    pred = torch.cat([net(x[i : i + 500])[1].argmax(1) for i in range(0, len(x), 500)])
    return float((pred == y).float().mean())


def check(cfg: DictConfig) -> None:
    """The options, before the data is loaded or anything is trained."""
    for key, example in (("epochs", 30), ("batch_size", 64), ("width", 32), ("feature_dim", 64)):
        integer(cfg, key, 1, example=example)
    integer(cfg, "max_shift", 0, example=2)
    integer(cfg, "threads", 1)
    integer(cfg, "seed")
    number(cfg, "lr", positive=True)
    number(cfg, "weight_decay")
    number(cfg, "dropout")
    if not isinstance(cfg.publish, bool):
        raise ConfigError(f"publish must be true or false, got {cfg.publish!r}")
    if cfg.publish and cfg.out:
        raise ConfigError(
            "give out=<file.pt> or publish=true, not both (publish=true writes where "
            "extractor=auto looks)"
        )


def destination(cfg: DictConfig, key: str) -> Path:
    """Where the weights go: ``out=``; with ``publish=true``, where ``extractor=auto`` finds
    them (the shipped asset for digits); else the run directory."""
    if cfg.out:
        return Path(cfg.out)
    if cfg.publish:
        if key == "digits":
            return ASSETS / "digits_classifier.pt"
        return Path(cfg.paths.data_dir) / "classifiers" / f"{key}_classifier.pt"
    return Path(cfg.paths.output_dir) / f"{key}_classifier.pt"


def train_classifier(cfg: DictConfig) -> dict:
    check(cfg)
    torch.set_num_threads(int(cfg.threads))
    torch.manual_seed(int(cfg.seed))
    dm = hydra.utils.instantiate(cfg.data)
    if getattr(dm, "kind", None) != "image" or not dm.num_classes:
        raise ConfigError(
            f"train_classifier needs a labeled image data set; data={dataset_key(dm)} is not"
        )
    dm.setup("fit")
    dm.setup("test")
    data = {s: split_tensors(dm, s) for s in ("train", "val", "test")}
    c, h, _ = dm.shape
    net = ConvClassifier(
        in_channels=c,
        num_classes=dm.num_classes,
        resolution=h,
        width=int(cfg.width),
        feature_dim=int(cfg.feature_dim),
        dropout=float(cfg.dropout),
    )
    opt = torch.optim.AdamW(net.parameters(), lr=float(cfg.lr), weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(cfg.epochs))
    g = torch.Generator().manual_seed(int(cfg.seed))
    x_tr, y_tr = data["train"]
    best, best_state, t0 = -1.0, None, time.time()
    for epoch in range(int(cfg.epochs)):
        net.train()
        perm = torch.randperm(len(x_tr), generator=g)
        for i in range(0, len(perm), int(cfg.batch_size)):
            b = perm[i : i + int(cfg.batch_size)]
            loss = F.cross_entropy(net(shift(x_tr[b], int(cfg.max_shift), g))[1], y_tr[b])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
        val = accuracy(net, *data["val"])
        if val >= best:
            best, best_state = val, {k: v.clone() for k, v in net.state_dict().items()}
        print(f"epoch {epoch + 1}/{cfg.epochs}  loss {loss.item():.4f}  val acc {val:.4f}")
    net.load_state_dict(best_state)
    key = dataset_key(dm)
    out = destination(cfg, key)
    blob = {
        "config": {
            "in_channels": c,
            "num_classes": dm.num_classes,
            "resolution": h,
            "width": int(cfg.width),
            "feature_dim": int(cfg.feature_dim),
            "dropout": float(cfg.dropout),
        },
        "state_dict": net.state_dict(),
    }
    buf = io.BytesIO()
    torch.save(blob, buf)
    atomic_write_bytes(out, buf.getvalue())
    report = {
        "data": key,
        "data_config": OmegaConf.to_container(cfg.data, resolve=True),
        "sizes": {s: len(v[0]) for s, v in data.items()},
        "train_acc": accuracy(net, *data["train"]),
        "val_acc": best,
        "test_acc": accuracy(net, *data["test"]),
        "epochs": int(cfg.epochs),
        "seed": int(cfg.seed),
        "params": sum(p.numel() for p in net.parameters()),
        "bytes": out.stat().st_size,
        "sha256_12": file_digest(out),
        "train_seconds": round(time.time() - t0, 1),
    }
    write_json_atomic(out.with_suffix(".json"), report)
    print(json.dumps(report, indent=2))
    print(f"wrote {out} and {out.with_suffix('.json')}")
    if not cfg.publish:
        print(
            f"use it with callbacks.image_metrics.extractor={out} (train.py) or extractor={out} "
            "(evaluate); publish=true writes it where extractor=auto looks"
        )
    return report


main = app("train_classifier.yaml", train_classifier)


if __name__ == "__main__":
    main()
