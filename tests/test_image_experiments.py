"""Every image-GAN ``experiment=`` config composes with the paper's settings and trains one
fast_dev_run batch on a fake copy of its data set."""

from __future__ import annotations

import pytest

from gens.train import train
from tests.fakedata import make_fake

# experiment -> (data config, {dotted key: paper value})
PAPER = {
    "dcgan_celeba": (
        "celeba",
        {
            "data.image_size": 64,
            "data.batch_size": 128,
            "model.optimizer_g.lr": 2e-4,
            "model.optimizer_d.betas": [0.5, 0.999],
            "model.latent_dim": 100,
        },
    ),
    "dcgan_lsun": (
        "lsun",
        {
            "data.image_size": 64,
            "data.batch_size": 128,
            "model.optimizer_d.lr": 2e-4,
            "data.category": "bedroom",
        },
    ),
    "wgan_cifar10": (
        "cifar10",
        {
            "data.batch_size": 64,
            "model.clip_value": 0.01,
            "model.n_critic": 5,
            "model.optimizer_d._target_": "torch.optim.RMSprop",
            "model.optimizer_d.lr": 5e-5,
        },
    ),
    "wgan_gp_cifar10": (
        "cifar10",
        {
            "data.batch_size": 64,
            "model.regularizers.gp.weight": 10.0,
            "model.n_critic": 5,
            "model.optimizer_d.lr": 1e-4,
            "model.optimizer_d.betas": [0.0, 0.9],
            "model.discriminator.image.norm": "layer",
            "model.scheduler_g._target_": "gens.optim.LinearDecay",
        },
    ),
    "lsgan_lsun": (
        "lsun",
        {
            "data.image_size": 112,
            "model.a": 0.0,
            "model.b": 1.0,
            "model.c": 1.0,
            "model.optimizer_g.lr": 1e-3,
            "model.optimizer_g.betas": [0.5, 0.999],
        },
    ),
    "began_celeba": (
        "celeba",
        {
            "data.batch_size": 16,
            "model.equilibrium.gamma": 0.5,
            "model.equilibrium.lambda_k": 0.001,
            "model.latent_dim": 64,
            "model.discriminator.hidden_dim": 64,
            "model.optimizer_g.lr": 1e-4,
        },
    ),
}

FAST = [
    "+trainer.fast_dev_run=true",
    "data.batch_size=4",
    "data.num_workers=0",
    "data.persistent_workers=false",
    "data.pin_memory=false",
]


def _get(cfg, dotted):
    node = cfg
    for k in dotted.split("."):
        node = node[k]
    return node


@pytest.mark.parametrize("experiment", list(PAPER))
def test_experiment_matches_paper_and_runs(cfg_factory, tmp_path, experiment):
    data, expect = PAPER[experiment]
    if data == "lsun":
        pytest.importorskip("lmdb")
    cfg = cfg_factory([f"experiment={experiment}"], sub="compose")
    for key, value in expect.items():
        got = _get(cfg, key)
        got = list(got) if hasattr(got, "__len__") and not isinstance(got, str) else got
        assert got == value, f"{experiment}: {key} = {got}, paper: {value}"
    assert cfg.data._target_.endswith(
        {"celeba": "CelebADataModule", "lsun": "LSUNDataModule", "cifar10": "CIFAR10DataModule"}[
            data
        ]
    )
    overrides = make_fake(data, tmp_path / data)
    # BEGAN's 128-filter autoencoder at 64 px costs ~30 s a step on one core: narrower here
    narrow = ["model.generator.width=16", "model.discriminator.width=16"]
    extra = narrow if experiment == "began_celeba" else []
    cfg = cfg_factory([f"experiment={experiment}", *overrides, *FAST, *extra], sub="run")
    metrics = train(cfg)
    assert any(k.startswith("test/") for k in metrics)
