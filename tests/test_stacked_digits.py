"""Stacked digits: 3 digits as 3 channels (1,000 modes), mode counting by the digits
classifier, and DCGAN / PacDCGAN2 training a few steps on it."""

from __future__ import annotations

import math

import pytest
import torch

from gens.data import StackedDigitsDataModule
from gens.metrics.features import ClassifierExtractor
from gens.metrics.stacked_modes import classify_stacked, stacked_mode_metrics
from gens.utils.errors import ConfigError


def _dm(**kw):
    dm = StackedDigitsDataModule(image_size=16, n_train=256, n_val=64, n_test=64, **kw)
    dm.setup()
    return dm


def test_stacks_are_three_digits_as_channels():
    dm = _dm(batch_size=32)
    assert dm.shape == (3, 16, 16) and dm.num_classes == 1000
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (32, 3, 16, 16) and y.shape == (32,)
    idx, labels = dm.stacks["train"]
    digits_x, digits_y = dm.splits["train"]
    # the first batch of the seeded permutation, channel by channel
    perm = dm.train_dataloader().sampler.indices()[:32]
    for c in range(3):
        torch.testing.assert_close(x[:, c : c + 1], digits_x[idx[perm, c]])
    torch.testing.assert_close(
        y, digits_y[idx[perm, 0]] * 100 + digits_y[idx[perm, 1]] * 10 + digits_y[idx[perm, 2]]
    )
    # held-out stacks use held-out digits only
    xv, _ = dm.stacked_split("test")
    assert xv.shape == (64, 3, 16, 16)
    assert int(dm.stacks["test"][0].max()) < len(dm.splits["test"][1])
    with pytest.raises(ConfigError, match="n_train"):
        StackedDigitsDataModule(n_train=0)


def test_stacked_mode_metrics_against_direct_computation():
    modes = torch.tensor([0, 0, 5, 999])
    m = stacked_mode_metrics(modes)
    p = torch.tensor([0.5, 0.25, 0.25])
    assert m["modes"] == 3
    assert m["kl"] == pytest.approx(float((p * (p * 1000).log()).sum()))
    uniform = stacked_mode_metrics(torch.arange(1000))
    assert uniform == {"modes": 1000.0, "kl": pytest.approx(0.0, abs=1e-9)}
    assert stacked_mode_metrics(torch.zeros(10, dtype=torch.long))["kl"] == pytest.approx(
        math.log(1000)
    )


def test_the_shipped_classifier_recovers_the_stacked_labels():
    dm = StackedDigitsDataModule(image_size=32, n_train=64, n_val=64, n_test=200)
    dm.setup()
    x, y = dm.stacked_split("test")
    pred = classify_stacked(x, ClassifierExtractor())
    assert (pred == y).float().mean() > 0.9  # ~0.99 per digit, cubed


@pytest.mark.parametrize("model", ["dcgan", "pacdcgan"])
def test_dcgan_and_pacdcgan_on_stacked_digits(cfg_factory, model):
    from gens.train import train

    cfg = cfg_factory(
        [
            f"model={model}",
            "data=stacked_digits",
            "data.image_size=16",
            "data.n_train=256",
            "data.n_val=64",
            "data.n_test=64",
            "data.batch_size=32",
            "callbacks.image_metrics=null",
            "callbacks.stacked_modes.n_val=100",
            "callbacks.stacked_modes.n_test=200",
        ]
    )
    metrics = train(cfg)
    assert 1 <= metrics["test/modes"] <= 200
    assert 0 <= metrics["test/kl"] <= math.log(1000) + 1e-6
