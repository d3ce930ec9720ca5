"""GAN losses against their formulas written out directly; the loss tables and their errors."""

from __future__ import annotations

import math

import pytest
import torch

from gens.gan import losses as L
from gens.utils.errors import ConfigError

torch.manual_seed(0)
REAL, FAKE = torch.randn(7) * 2, torch.randn(7) * 2


def _sig(v):
    return 1 / (1 + math.exp(-v))


def test_minimax_and_nonsaturating():
    r, f = REAL.tolist(), FAKE.tolist()
    d = -sum(math.log(_sig(v)) for v in r) / 7 - sum(math.log(1 - _sig(v)) for v in f) / 7
    assert L.d_minimax(REAL, FAKE).item() == pytest.approx(d, rel=1e-5)
    g_sat = sum(math.log(1 - _sig(v)) for v in f) / 7
    assert L.g_minimax(FAKE).item() == pytest.approx(g_sat, rel=1e-5)
    g_ns = -sum(math.log(_sig(v)) for v in f) / 7
    assert L.g_nonsaturating(FAKE).item() == pytest.approx(g_ns, rel=1e-5)


def test_wasserstein():
    assert L.d_wasserstein(REAL, FAKE).item() == pytest.approx(
        sum(FAKE.tolist()) / 7 - sum(REAL.tolist()) / 7, abs=1e-6
    )
    assert L.g_wasserstein(FAKE).item() == pytest.approx(-sum(FAKE.tolist()) / 7, abs=1e-6)


@pytest.mark.parametrize("a,b,c", [(0.0, 1.0, 1.0), (-1.0, 1.0, 0.0)])
def test_least_squares(a, b, c):
    r, f = REAL.tolist(), FAKE.tolist()
    d = 0.5 * sum((v - b) ** 2 for v in r) / 7 + 0.5 * sum((v - a) ** 2 for v in f) / 7
    assert L.d_least_squares(REAL, FAKE, a=a, b=b).item() == pytest.approx(d, rel=1e-5)
    g = 0.5 * sum((v - c) ** 2 for v in f) / 7
    assert L.g_least_squares(FAKE, c=c).item() == pytest.approx(g, rel=1e-5)


def test_least_squares_table_entry_is_zero_one_coding():
    d, g = L.get_losses("least_squares", "least_squares")
    assert d(REAL, FAKE).item() == pytest.approx(L.d_least_squares(REAL, FAKE, 0, 1).item())
    assert g(FAKE).item() == pytest.approx(L.g_least_squares(FAKE, 1).item())


def test_hinge():
    r, f = REAL.tolist(), FAKE.tolist()
    d = sum(max(0.0, 1 - v) for v in r) / 7 + sum(max(0.0, 1 + v) for v in f) / 7
    assert L.d_hinge(REAL, FAKE).item() == pytest.approx(d, rel=1e-5)
    assert L.g_hinge(FAKE).item() == pytest.approx(-sum(f) / 7, rel=1e-5)
    # a confident D (real >> 1, fake << -1) has zero hinge loss
    assert L.d_hinge(torch.full((3,), 5.0), torch.full((3,), -5.0)).item() == 0.0


def test_unknown_loss_names():
    with pytest.raises(ConfigError, match="hinge"):
        L.get_losses("nope", "hinge")
    with pytest.raises(ConfigError, match="model.loss.g"):
        L.get_losses("hinge", "nope")
