"""The flow LightningModule: densities, dequantization, sampling, masks, ActNorm, errors."""

from __future__ import annotations

import math
from functools import partial

import pytest
import torch

from gens.flows import (
    ActNorm,
    Compose,
    FlowModel,
    VariationalDequantization,
    channel_mask,
    checkerboard_mask,
    glow,
    nice,
    realnvp,
)
from gens.flows.transforms import to_levels
from gens.utils.errors import ConfigError, IncompatibleDataError

ADAM = partial(torch.optim.Adam, lr=1e-3)
VECTOR_FLOWS = {
    "nice": partial(nice, layers=4, hidden=(32, 32)),
    "realnvp": partial(realnvp, layers=4, hidden=(32, 32)),
    "glow": partial(glow, depth=4, hidden=(32, 32)),
}


def _perturbed(model: FlowModel, seed: int = 0, scale: float = 0.1) -> FlowModel:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.transform(torch.randn(256, *model.data_shape, generator=g))  # ActNorm init
        for p in model.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g))
    return model.eval()


@pytest.mark.parametrize("name", sorted(VECTOR_FLOWS))
def test_2d_density_integrates_to_one(name):
    torch.manual_seed(0)
    model = _perturbed(FlowModel(VECTOR_FLOWS[name], ADAM, data_shape=(2,)))
    lim, n = 10.0, 500
    g = torch.linspace(-lim, lim, n)
    xx, yy = torch.meshgrid(g, g, indexing="ij")
    pts = torch.stack([xx.flatten(), yy.flatten()], 1)
    with torch.no_grad():
        logp = torch.cat([model.log_prob(b) for b in pts.split(50_000)])
    mass = logp.exp().sum() * (g[1] - g[0]) ** 2
    assert mass.item() == pytest.approx(1.0, abs=0.02)


class _Identity(Compose):
    def __init__(self, **_):
        super().__init__([])


@pytest.mark.parametrize("alpha", [0.05, None])
def test_discrete_log_prob_is_the_dequantization_bound(alpha):
    """Identity flow: log P(x) = log N(y) + log|dy/du| - D log K with y = logit(...)."""
    levels, shape = 17, (1, 4, 4)
    model = FlowModel(_Identity, ADAM, data_shape=shape, num_levels=levels, logit_alpha=alpha)
    k = torch.randint(levels, (5, *shape)).float()
    x = k / (levels - 1) * 2 - 1
    torch.manual_seed(3)
    got = model.log_prob(x)
    torch.manual_seed(3)
    u = (k + torch.rand_like(k)) / levels
    if alpha is None:
        y, ld = u - 0.5, torch.zeros(5)
    else:
        s = alpha + (1 - 2 * alpha) * u
        y = torch.log(s / (1 - s))
        ld = torch.log((1 - 2 * alpha) / (s * (1 - s))).flatten(1).sum(1)
    logn = (-0.5 * y**2 - 0.5 * math.log(2 * math.pi)).flatten(1).sum(1)
    expected = logn + ld - 16 * math.log(levels)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-5)
    torch.manual_seed(3)
    torch.testing.assert_close(model.bits_per_dim(x), -expected / (16 * math.log(2)))
    assert torch.equal(to_levels(x, levels), k)


def test_continuous_image_log_prob_includes_scaling():
    model = FlowModel(_Identity, ADAM, data_shape=(1, 2, 2), logit_alpha=None)
    x = torch.rand(3, 1, 2, 2) * 2 - 1
    u = (x + 1) / 2 - 0.5
    expected = (-0.5 * u**2 - 0.5 * math.log(2 * math.pi)).flatten(1).sum(1) - 4 * math.log(2)
    torch.testing.assert_close(model.log_prob(x), expected)


def test_variational_dequantization_log_q_is_a_density():
    torch.manual_seed(0)
    deq = VariationalDequantization((1, 2, 2), layers=2, channels=4, features=3)
    with torch.no_grad():
        for p in deq.parameters():
            p.add_(0.2 * torch.randn_like(p))
    deq = deq.double()
    k = torch.randint(5, (1, 1, 2, 2)).double()
    torch.manual_seed(1)
    u, log_q = deq(k, 5)
    torch.manual_seed(1)
    eps = torch.randn_like(k)
    ctx = deq.encoder(k / 4 * 2 - 1)

    def v_of(e):
        return torch.sigmoid(deq.flow(e.view(1, 1, 2, 2), ctx)[0]).flatten()

    jac = torch.autograd.functional.jacobian(v_of, eps.flatten())
    logn = (-0.5 * eps**2 - 0.5 * math.log(2 * math.pi)).sum()
    torch.testing.assert_close(log_q[0], logn - torch.linalg.slogdet(jac)[1])
    v = u * 5 - k
    assert ((v > 0) & (v < 1)).all()


def test_variational_dequantization_trains():
    make = partial(realnvp, levels=1, channels=4, blocks=1)
    deq = partial(VariationalDequantization, layers=2, channels=4)
    model = FlowModel(
        make,
        ADAM,
        data_shape=(1, 4, 4),
        num_levels=17,
        dequantization="variational",
        dequantizer=deq,
    )
    x = torch.randint(17, (8, 1, 4, 4)).float() / 16 * 2 - 1
    loss = model.training_step((x, torch.zeros(8, dtype=torch.long)), 1)
    loss.backward()
    assert torch.isfinite(loss)
    assert any(
        p.grad is not None and p.grad.abs().sum() > 0 for p in model.dequantizer.parameters()
    )


@pytest.mark.parametrize("name", sorted(VECTOR_FLOWS))
def test_sample_shapes_and_temperature(name):
    model = _perturbed(FlowModel(VECTOR_FLOWS[name], ADAM, data_shape=(2,)))
    g = torch.Generator().manual_seed(0)
    assert model.sample(7, generator=g).shape == (7, 2)
    cold = model.sample(5, temperature=0.0)
    torch.testing.assert_close(cold, cold[:1].expand(5, 2))  # T=0: the mode of the base
    spread = model.sample(2000, temperature=1.0).std(0)
    assert (model.sample(2000, temperature=0.5).std(0) < spread).all()


@pytest.mark.parametrize(
    "factory",
    [
        partial(realnvp, levels=2, channels=4, blocks=1),
        partial(glow, levels=2, depth=1, channels=4),
        partial(nice, layers=2, hidden=(8,)),
    ],
)
def test_image_flow_samples_in_range_and_conditional(factory):
    model = FlowModel(
        factory, ADAM, data_shape=(1, 8, 8), num_classes=3, num_levels=17, conditional=True
    ).eval()
    y = torch.tensor([0, 1, 2, 0])
    x = model.sample(4, y=y)
    assert x.shape == (4, 1, 8, 8) and x.min() >= -1 and x.max() <= 1
    assert model.sample(2).shape == (2, 1, 8, 8)  # labels drawn when not given
    assert model.bits_per_dim(x, y).shape == (4,)
    with pytest.raises(ConfigError, match="pass labels"):
        model.log_prob(x)


def test_realnvp_masks_exactly_as_defined():
    cb = checkerboard_mask((1, 3, 3))[0]
    assert cb.tolist() == [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
    assert torch.equal(checkerboard_mask((2, 3, 3), parity=1), 1 - checkerboard_mask((2, 3, 3)))
    ch = channel_mask((4, 2, 2))
    assert ch[:2].eq(1).all() and ch[2:].eq(0).all()
    assert torch.equal(channel_mask((4, 2, 2), parity=1), 1 - ch)


def test_actnorm_data_dependent_init_and_flag_in_state_dict():
    an = ActNorm(3)
    x = torch.randn(500, 3, 4, 4) * torch.tensor([1.0, 5.0, 0.2]).view(1, 3, 1, 1) + 2
    z, _ = an(x)
    torch.testing.assert_close(z.mean((0, 2, 3)), torch.zeros(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(z.std((0, 2, 3)), torch.ones(3), atol=1e-2, rtol=0)
    state = an.state_dict()
    assert bool(state["initialized"])
    fresh = ActNorm(3)
    fresh.load_state_dict(state)
    torch.testing.assert_close(fresh(x * 3)[0], an(x * 3)[0])  # no re-initialization


def test_a_nan_loss_is_named_for_the_divergence_guard():
    """The guard (tests/reliability/test_divergence.py) stops before the optimizer step and
    names the loss the model found non-finite."""
    model = FlowModel(VECTOR_FLOWS["realnvp"], ADAM, data_shape=(2,))
    x = torch.full((4, 2), float("nan"))
    model.training_step((x, torch.zeros(4, dtype=torch.long)), 0)
    assert "train/nll=nan" in model.nonfinite_loss
    model.training_step((torch.zeros(4, 2), torch.zeros(4, dtype=torch.long)), 1)
    assert model.nonfinite_loss == ""


def test_errors_are_clear():
    with pytest.raises(IncompatibleDataError, match="divisible by 4"):
        realnvp((1, 6, 6), levels=3, fit_levels=False)
    with pytest.raises(IncompatibleDataError, match="divisible by 8"):
        glow((1, 12, 12), levels=3, fit_levels=False)
    with pytest.raises(IncompatibleDataError, match="even H and W"):
        glow((1, 7, 7), levels=3)
    with pytest.raises(ConfigError, match="permutation"):
        glow((2,), permutation="rotate")
    with pytest.raises(ConfigError, match="labeled data"):
        FlowModel(VECTOR_FLOWS["nice"], ADAM, data_shape=(2,), conditional=True)
    with pytest.raises(ConfigError, match="not a gens.flows.Transform"):
        FlowModel(lambda **_: torch.nn.Linear(2, 2), ADAM, data_shape=(2,))
    with pytest.raises(ConfigError, match="dequantization"):
        FlowModel(VECTOR_FLOWS["nice"], ADAM, data_shape=(2,), dequantization="gaussian")
    with pytest.raises(ConfigError, match="logit_alpha"):
        FlowModel(VECTOR_FLOWS["nice"], ADAM, data_shape=(1, 2, 2), logit_alpha=0.7)
    with pytest.raises(IncompatibleDataError, match="images"):
        VariationalDequantization((2,))


def test_levels_fit_the_resolution():
    """MNIST-size 28x28 images allow two squeezes: glow/realnvp lower ``levels`` to fit."""
    x = torch.randn(2, 1, 28, 28)
    for flow in (
        glow((1, 28, 28), levels=3, depth=1, channels=4),
        realnvp((1, 28, 28), levels=4, channels=4, blocks=1),
    ):
        z, _ = flow.eval()(x)
        torch.testing.assert_close(flow.inverse(z)[0], x, atol=1e-4, rtol=0)
