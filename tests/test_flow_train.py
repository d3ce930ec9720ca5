"""Flows through the Hydra task: metrics, density plots, checkpoint reload and exact resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from gens.flows import ActNorm, FlowModel
from gens.train import build, train
from gens.utils.checkpoint import load_model

FLOW = ["model=glow", "model.transform.depth=2", "model.transform.hidden=[16,16]"]


def test_flow_on_2d_data_reloads_and_plots_density(cfg_factory):
    cfg = cfg_factory([*FLOW, "data=moons", "data.n_train=2000"])
    metrics = train(cfg)
    out = Path(cfg.paths.output_dir)
    assert (out / "samples" / "density_final.png").is_file()
    model = load_model(out / "checkpoints" / "best.ckpt", expect=FlowModel)
    assert all(bool(m.initialized) for m in model.modules() if isinstance(m, ActNorm))
    dm, _ = build(cfg)
    dm.setup("test")
    x_test = dm.splits["test"][0][: dm.eval_batch_size]  # limit_test_batches=1
    with torch.no_grad():
        nll = -model.log_prob(x_test).mean()
    assert float(nll) == pytest.approx(metrics["test/nll"], rel=1e-4)


def test_image_flow_reports_bits_per_dim(cfg_factory):
    cfg = cfg_factory(
        [
            "model=realnvp",
            "data=digits",
            "data.image_size=8",
            "model.transform.channels=8",
            "model.transform.blocks=1",
        ]
    )
    train(cfg)
    saved = json.loads((Path(cfg.paths.output_dir) / "metrics.json").read_text())
    assert {"test/nll", "test/bpd"} <= set(saved)
    assert saved["test/bpd"] == pytest.approx(saved["test/nll"] / (64 * 0.6931471805599453))


def test_resume_is_exact_and_keeps_actnorm_init(cfg_factory):
    base = [*FLOW, "data=moons", "data.n_train=2000", "callbacks.density_plot=null"]
    straight = cfg_factory([*base, "trainer.max_epochs=2"], sub="straight")
    train(straight)
    first = cfg_factory([*base, "trainer.max_epochs=1"], sub="first")
    train(first)
    ckpt = Path(first.paths.output_dir) / "checkpoints" / "last.ckpt"
    resumed = cfg_factory([*base, "trainer.max_epochs=2", f"ckpt_path={ckpt}"], sub="resumed")
    train(resumed)
    a = torch.load(
        Path(straight.paths.output_dir) / "checkpoints" / "last.ckpt", weights_only=True
    )["state_dict"]
    b = torch.load(
        Path(resumed.paths.output_dir) / "checkpoints" / "last.ckpt", weights_only=True
    )["state_dict"]
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], msg=f"{k} differs after resume")
