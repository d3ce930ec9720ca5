"""Paper-scale flow experiments (RealNVP and Glow on CIFAR-10 / CelebA 64, Residual Flows and
FFJORD on MNIST / CIFAR-10, NSF on the MAF paper's tabular sets) compose, build at full size and
run ``fast_dev_run`` on tiny fake sets in the real on-disk format."""

from __future__ import annotations

import pytest

from gens.data.maf_tabular import TABULAR_DIMS
from gens.train import train
from tests.fakedata import make_fake

EXPERIMENTS = {
    "realnvp_cifar10": "cifar10",
    "realnvp_celeba64": "celeba",
    "glow_cifar10": "cifar10",
    "glow_celeba64": "celeba",
    "resflow_mnist": "mnist",
    "resflow_cifar10": "cifar10",
    "ffjord_mnist": "mnist",
    "ffjord_cifar10": "cifar10",
}
# what makes one step affordable on CPU without changing the architecture
CHEAP = {
    "resflow_mnist": ["model.transform.power_max_iter=2", "model.transform.inverse_max_iter=20"],
    "resflow_cifar10": ["model.transform.power_max_iter=2", "model.transform.inverse_max_iter=20"],
}
SIZE = {"celeba": 64, "cifar10": 32, "mnist": 28}
CHANNELS = {"celeba": 3, "cifar10": 3, "mnist": 1}


@pytest.mark.parametrize("experiment", sorted(EXPERIMENTS))
def test_paper_flow_experiment_builds_at_full_size(cfg_factory, tmp_path, experiment):
    """Composes with its data set on disk and builds the paper-size flow (fast_dev_run of the
    same config: the slow test below)."""
    from gens.train import build

    data = EXPERIMENTS[experiment]
    cfg = cfg_factory([f"experiment={experiment}", *make_fake(data, tmp_path / "data")])
    dm, model = build(cfg)
    shape = (CHANNELS[data], SIZE[data], SIZE[data])
    assert tuple(dm.shape) == shape and model.data_shape == shape
    # paper scale, not a toy (FFJORD's conv fields are small: their cost is the solver's)
    least = 100_000 if experiment.startswith("ffjord") else 1_000_000
    assert sum(p.numel() for p in model.parameters()) > least


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
            *CHEAP.get(experiment, []),
        ]
    )
    assert cfg.data.image_size == SIZE[data]
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


TABULAR = {f"nsf_{name}": name for name in TABULAR_DIMS}
# the sample-based metrics on a few samples: a 20-layer autoregressive inverse is D passes each
FEW_SAMPLES = [
    "callbacks.sample_plot.n=64",
    "callbacks.vector_metrics.n=64",
    "+callbacks.vector_metrics.mmd_n=64",
]


@pytest.mark.parametrize("experiment", sorted(TABULAR))
def test_nsf_tabular_experiment_builds_at_full_size(cfg_factory, tmp_path, experiment):
    from gens.train import build

    data = TABULAR[experiment]
    cfg = cfg_factory([f"experiment={experiment}", *make_fake(data, tmp_path / "data")])
    assert (
        cfg.model.transform.form == "autoregressive"
        and cfg.model.transform.transformer.bound == 3.0
    )
    assert cfg.trainer.max_steps >= 200_000 and cfg.model.scheduler is not None
    dm, model = build(cfg)
    assert tuple(dm.shape) == model.data_shape == (TABULAR_DIMS[data],)
    assert sum(p.numel() for p in model.parameters()) > 100_000


def _tabular_fast_dev_run(cfg_factory, tmp_path, experiment):
    overrides = make_fake(TABULAR[experiment], tmp_path / "data")
    cfg = cfg_factory(
        [
            f"experiment={experiment}",
            *overrides,
            "+trainer.fast_dev_run=true",
            "data.batch_size=8",
            *FEW_SAMPLES,
        ]
    )
    metrics = train(cfg)
    assert {"test/nll", "test/mmd"} <= set(metrics)


def test_nsf_power_fast_dev_run(cfg_factory, tmp_path):
    _tabular_fast_dev_run(cfg_factory, tmp_path, "nsf_power")


@pytest.mark.slow
@pytest.mark.parametrize("experiment", sorted(set(TABULAR) - {"nsf_power"}))
def test_nsf_tabular_experiment_fast_dev_run(cfg_factory, tmp_path, experiment):
    _tabular_fast_dev_run(cfg_factory, tmp_path, experiment)
