"""The Rezende-Mohamed energies, the energy data module and reverse-KL training (EnergyFlow)."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import pytest
import torch

from gens.data.energy import EnergyDataModule, energy_u, log_partition
from gens.flows import EnergyFlow, planar_flow, radial_flow, sylvester_flow
from gens.train import build, train
from gens.utils.errors import ConfigError, IncompatibleDataError


def test_energies_match_table_1_at_hand_computed_points():
    z = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.5]], dtype=torch.float64)
    # U1 at (2, 0): ring term 0; log(exp(0) + exp(-0.5 (4 / 0.6)^2))
    u1 = -math.log(1 + math.exp(-0.5 * (4 / 0.6) ** 2))
    assert float(energy_u("u1", z[:1], None)) == pytest.approx(u1)
    # U2 at (0, 1): w1 = 0 -> 0.5 (1 / 0.4)^2
    assert float(energy_u("u2", z[1:2])) == pytest.approx(0.5 * (1 / 0.4) ** 2)
    # U3 at (1, 0.5): w1 = sin(pi / 2) = 1, w2 = 3
    a, b = -0.5 * ((0.5 - 1) / 0.35) ** 2, -0.5 * ((0.5 - 1 + 3) / 0.35) ** 2
    assert float(energy_u("u3", z[2:])) == pytest.approx(-math.log(math.exp(a) + math.exp(b)))
    # U4 at (1, 0.5): w3 = 3 sigmoid(0) = 1.5
    a, b = -0.5 * ((0.5 - 1) / 0.4) ** 2, -0.5 * ((0.5 - 1 + 1.5) / 0.35) ** 2
    assert float(energy_u("u4", z[2:])) == pytest.approx(-math.log(math.exp(a) + math.exp(b)))
    # the soft wall: 0.5 beyond the box costs 0.5 (0.5 / 0.1)^2 more
    far = torch.tensor([[4.5, 0.0]], dtype=torch.float64)
    assert float(energy_u("u2", far) - energy_u("u2", far, None)) == pytest.approx(12.5)
    with pytest.raises(ConfigError, match="unknown energy"):
        energy_u("u5", z)


@pytest.mark.parametrize("name", ["u1", "u2", "u3", "u4"])
def test_log_partition_by_quadrature_agrees_with_monte_carlo(name):
    g = torch.Generator().manual_seed(0)
    box = 4.5  # uniform proposal on [-4.5, 4.5]^2 covers the box and its wall
    z = (torch.rand(200_000, 2, generator=g, dtype=torch.float64) * 2 - 1) * box
    log_mc = torch.logsumexp(-energy_u(name, z), 0) - math.log(len(z)) + math.log((2 * box) ** 2)
    assert log_partition(name) == pytest.approx(float(log_mc), abs=0.02)
    assert log_partition(name) == pytest.approx(log_partition(name, n=801), abs=1e-4)


def test_energy_data_module_yields_placeholders_and_checks_arguments():
    dm = EnergyDataModule("u3", batch_size=7, steps_per_epoch=3, eval_batch_size=11)
    assert dm.kind == "energy" and dm.shape == (2,)
    batches = list(dm.train_dataloader())
    assert len(batches) == 3 and batches[0][0].shape == (7, 2)
    assert next(iter(dm.test_dataloader()))[0].shape == (11, 2)
    z = torch.randn(5, 2)
    assert torch.allclose(dm.log_density(z), -energy_u("u3", z))
    with pytest.raises(ConfigError, match="unknown energy"):
        EnergyDataModule("u9")
    with pytest.raises(ConfigError, match="not normalizable"):
        EnergyDataModule("u2", bound=None)


def _model(flow, energy="u1", **kw):
    opt = functools.partial(torch.optim.Adam, lr=1e-2)
    return EnergyFlow((2,), flow, opt, energy=energy, **kw)


def test_energy_flow_refuses_sample_data_and_bad_arguments():
    with pytest.raises(IncompatibleDataError, match="energy_u1"):
        _model(planar_flow, energy=None)
    with pytest.raises(ConfigError, match="unknown energy"):
        _model(planar_flow, energy="u7")
    with pytest.raises(ConfigError, match="anneal_steps"):
        _model(planar_flow, anneal_steps=-1)


@pytest.mark.parametrize("flow", [planar_flow, radial_flow, sylvester_flow])
def test_sample_log_prob_agrees_with_density_of_samples(flow):
    torch.manual_seed(0)
    m = _model(functools.partial(flow, num_layers=4))
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x, log_q = m.sample_with_log_prob(64)
    # log_prob goes through the numerical inverse: it must agree with the sampling-side value
    assert torch.allclose(m.log_prob(x.detach()), log_q.detach(), atol=1e-3)
    # at temperature T the base is N(0, T^2 I): check against that density directly
    g = torch.Generator().manual_seed(5)
    x2, log_q2 = m.sample_with_log_prob(64, generator=g, temperature=0.5)
    z, logdet = m.flow(x2.detach())
    base = torch.distributions.Normal(0.0, 0.5).log_prob(z).sum(1)
    assert torch.allclose(base + logdet, log_q2.detach(), atol=1e-3)


def test_reverse_kl_training_lowers_the_kl_and_logz_estimate_is_consistent():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    m = _model(functools.partial(planar_flow, num_layers=8))
    opt = m.configure_optimizers()
    before = m.evaluate(4000)
    for _ in range(200):
        x, log_q = m.sample_with_log_prob(100)
        loss = (log_q - m.log_target(x)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = m.evaluate(4000)
    assert float(after["kl"]) < 0.5 * float(before["kl"])
    assert float(after["elbo"]) <= float(after["logz_true"]) + 0.05  # a lower bound on log Z
    assert abs(float(after["logz"]) - float(after["logz_true"])) < 0.2


def test_cli_config_trains_on_an_energy(cfg_factory):
    cfg = cfg_factory(["model=planar", "data=energy_u2", "data.eval_batch_size=500"])
    metrics = train(cfg)
    assert {"test/kl", "test/elbo", "test/logz", "test/logz_true"} <= set(metrics)
    assert metrics["test/logz_true"] == pytest.approx(log_partition("u2"))
    assert (Path(cfg.paths.output_dir) / "samples" / "energy_final.png").is_file()


@pytest.mark.parametrize("model", ["planar", "radial", "sylvester", "iaf_rkl"])
def test_rkl_models_refuse_sample_data(cfg_factory, model):
    cfg = cfg_factory([f"model={model}", "data=moons"])
    with pytest.raises(IncompatibleDataError):
        build(cfg)
