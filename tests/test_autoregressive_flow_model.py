"""MADE / MAF / IAF through the FlowModel: a normalized density, ML training, conditioning."""

from __future__ import annotations

import functools

import pytest
import torch

from gens.data.toy import sample_toy
from gens.flows import FlowModel, iaf, made, maf


def _model(factory, **kw):
    torch.manual_seed(0)
    opt = functools.partial(torch.optim.Adam, lr=3e-3)
    return FlowModel(functools.partial(factory, **kw), opt, data_shape=(2,))


def _train(model, steps=150):
    x, _ = sample_toy("moons", 2000, 0)
    opt = model.configure_optimizers()
    g = torch.Generator().manual_seed(0)
    for _ in range(steps):
        loss = -model.log_prob(x[torch.randint(len(x), (128,), generator=g)]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(-model.log_prob(sample_toy("moons", 1000, 1)[0]).mean())


@pytest.mark.parametrize(
    "factory,kw",
    [(made, {"hidden": (32, 32)}), (maf, {"num_layers": 3, "hidden": (32,)}),
     (iaf, {"num_layers": 2, "hidden": (32,)})],
)  # fmt: skip
def test_trained_density_integrates_to_one_and_beats_the_base(factory, kw):
    model = _model(factory, **kw)
    before = float(-model.log_prob(sample_toy("moons", 1000, 1)[0]).mean())
    after = _train(model)
    assert after < before - 0.5
    g = torch.linspace(-6, 6, 401)
    grid = torch.stack(torch.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    with torch.no_grad():
        mass = torch.exp(model.log_prob(grid)).sum() * (g[1] - g[0]) ** 2
    assert float(mass) == pytest.approx(1.0, abs=0.02)
    x = model.sample(7)
    assert x.shape == (7, 2) and torch.isfinite(x).all()


def test_class_conditional_maf_uses_the_label():
    torch.manual_seed(0)
    opt = functools.partial(torch.optim.Adam, lr=1e-3)
    tf = functools.partial(maf, num_layers=2, hidden=(16,))
    model = FlowModel(tf, opt, data_shape=(2,), num_classes=3, conditional=True)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x = torch.randn(4, 2)
    a = model.log_prob(x, torch.zeros(4, dtype=torch.long))
    b = model.log_prob(x, torch.full((4,), 2))
    assert not torch.allclose(a, b)
    assert model.sample(4, y=torch.ones(4, dtype=torch.long)).shape == (4, 2)
