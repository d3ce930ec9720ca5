"""Paper-scale flow experiments (RealNVP and Glow on CIFAR-10 / CelebA 64) compose, build at
full size and run ``fast_dev_run`` on tiny fake sets in the real on-disk format."""

from __future__ import annotations

import pytest

from gens.train import train
from tests.fakedata import make_fake

EXPERIMENTS = {
    "realnvp_cifar10": "cifar10",
    "realnvp_celeba64": "celeba",
    "glow_cifar10": "cifar10",
    "glow_celeba64": "celeba",
}


@pytest.mark.parametrize("experiment", sorted(EXPERIMENTS))
def test_paper_flow_experiment_builds_at_full_size(cfg_factory, tmp_path, experiment):
    """Composes with its data set on disk and builds the paper-size flow (fast_dev_run of the
    same config: the slow test below)."""
    from gens.train import build

    data = EXPERIMENTS[experiment]
    cfg = cfg_factory([f"experiment={experiment}", *make_fake(data, tmp_path / "data")])
    dm, model = build(cfg)
    size = 64 if data == "celeba" else 32
    assert tuple(dm.shape) == (3, size, size) and model.data_shape == (3, size, size)
    assert sum(p.numel() for p in model.parameters()) > 1_000_000  # paper scale, not a toy


@pytest.mark.slow
@pytest.mark.parametrize("experiment", sorted(EXPERIMENTS))
def test_paper_flow_experiment_fast_dev_run(cfg_factory, tmp_path, experiment):
    data = EXPERIMENTS[experiment]
    overrides = make_fake(data, tmp_path / "data")
    cfg = cfg_factory(
        [
            f"experiment={experiment}",
            *overrides,
            "+trainer.fast_dev_run=true",
            "data.batch_size=2",
            "+data.eval_batch_size=2",
            "callbacks.sample_plot.n=4",
        ]
    )
    assert cfg.data.image_size == (64 if data == "celeba" else 32)
    metrics = train(cfg)
    assert {"test/nll", "test/bpd"} <= set(metrics)


@pytest.mark.parametrize("model", ["nice", "realnvp", "glow"])
def test_flow_models_on_an_image_set_on_disk(cfg_factory, tmp_path, model):
    """The default model configs on fake MNIST files (28x28: glow fits its levels to it)."""
    overrides = make_fake("mnist", tmp_path / "data")
    cfg = cfg_factory(
        [
            f"model={model}",
            "data=mnist",
            *overrides,
            "+trainer.fast_dev_run=true",
            "data.batch_size=2",
            "+data.eval_batch_size=2",
            "callbacks.sample_plot.n=4",
        ]
    )
    metrics = train(cfg)
    assert {"test/nll", "test/bpd"} <= set(metrics)
