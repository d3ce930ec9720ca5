"""Mode coverage metrics on hand-made samples whose answers are known."""

from __future__ import annotations

import math

import pytest
import torch

from gens.data.toy import sample_toy, toy_modes
from gens.metrics import mmd2, mode_metrics


def _modes(name):
    means, std = toy_modes(name)
    return torch.as_tensor(means, dtype=torch.float32), std


def test_perfect_samples_capture_every_mode_with_zero_rkl():
    modes, std = _modes("grid25")
    x = modes.repeat(100, 1)  # exactly on the means, 100 each
    m = mode_metrics(x, modes, std)
    assert m == {"modes": 25.0, "hq": 1.0, "rkl": pytest.approx(0.0, abs=1e-12)}


def test_collapsed_samples():
    modes, std = _modes("ring8")
    x = modes[:2].repeat_interleave(torch.tensor([300, 100]), dim=0)  # 2 modes, 3:1
    m = mode_metrics(x, modes, std)
    assert m["modes"] == 2 and m["hq"] == 1.0
    p = torch.tensor([0.75, 0.25])
    assert m["rkl"] == pytest.approx(float((p * (p * 8).log()).sum()))


def test_far_samples_are_low_quality_and_do_not_count_modes():
    modes, std = _modes("grid25")
    x = torch.cat([modes[:1], modes[:1] + 4 * std, modes[1:2] + torch.tensor([[0.0, 3.5 * std]])])
    m = mode_metrics(x, modes, std)
    assert m["modes"] == 1  # only the exact sample is within 3 std
    assert m["hq"] == pytest.approx(1 / 3)
    assert m["rkl"] == pytest.approx(math.log(25))


def test_no_high_quality_sample_gives_worst_rkl():
    modes, std = _modes("ring8")
    m = mode_metrics(torch.zeros(10, 2), modes, std)
    assert m == {"modes": 0.0, "hq": 0.0, "rkl": pytest.approx(math.log(8))}


@pytest.mark.parametrize("name", ["ring8", "grid25", "gauss1d"])
def test_real_data_scores_like_the_true_distribution(name):
    modes, std = _modes(name)
    x, _ = sample_toy(name, 2500, seed=3)
    m = mode_metrics(x, modes, std)
    assert m["modes"] == len(modes)
    # 3 std in D dims: P(||N(0, I)|| < 3) is 0.997 (1-D) and 0.989 (2-D)
    assert m["hq"] > 0.98
    assert m["rkl"] < 0.02


def test_mmd_separates_distributions():
    a, _ = sample_toy("moons", 800, seed=0)
    b, _ = sample_toy("moons", 800, seed=1)
    c, _ = sample_toy("spirals", 800, seed=2)
    same, diff = mmd2(a, b), mmd2(a, c)
    assert abs(same) < 0.01 < diff
