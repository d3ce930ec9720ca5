"""FFJORD (Grathwohl et al. 2019): the log-det of a linear field, the Hutchinson trace with its
noise held through a solve, adjoint against backprop gradients, parity with zuko's
``FreeFormJacobianTransform`` on our field, and the solver's errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gens.flows import CNF, ffjord
from gens.nets import ODENet
from gens.utils.errors import ConfigError, SolverError

D, T = 3, 0.7
TIGHT = dict(atol=1e-9, rtol=1e-9)


class Linear(nn.Module):
    """``f(t, z) = A z``: log|det| after time T is T tr(A)."""

    def __init__(self, a: torch.Tensor):
        super().__init__()
        self.a = nn.Parameter(a)

    def forward(self, t, z):
        return z @ self.a.T


def _a() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return 0.5 * torch.randn(D, D, generator=g, dtype=torch.float64)


def test_linear_field_log_det_is_T_trace_A():
    a = _a()
    cnf = CNF(Linear(a), end_time=T, learn_end_time=False, trace="exact", **TIGHT)
    x = torch.randn(5, D, dtype=torch.float64)
    with torch.no_grad():
        z, ld = cnf(x)
        xb, ild = cnf.inverse(z)
    torch.testing.assert_close(ld, torch.full_like(ld, T * float(a.trace())))
    torch.testing.assert_close(z, x @ torch.linalg.matrix_exp(T * a).T)
    torch.testing.assert_close(xb, x)
    torch.testing.assert_close(ild, -ld)


@pytest.mark.parametrize("noise", ["gaussian", "rademacher"])
def test_hutchinson_noise_is_drawn_once_per_solve_and_its_mean_is_the_trace(noise):
    a = _a()
    cnf = CNF(Linear(a), end_time=T, learn_end_time=False, noise=noise, **TIGHT)
    torch.manual_seed(0)
    with torch.no_grad():
        _, ld = cnf(torch.randn(4000, D, dtype=torch.float64))
    e = cnf.dynamics.noise
    # one e per example for the whole solve: the estimate is exactly T e^T A e
    torch.testing.assert_close(ld, T * ((e @ a.T) * e).sum(1))
    se = float(ld.std()) / len(ld) ** 0.5
    assert abs(float(ld.mean()) - T * float(a.trace())) <= 3 * se


def test_adjoint_and_backprop_gradients_agree():
    grads = []
    for adjoint in (False, True):
        torch.manual_seed(0)
        flow = ffjord((2,), hidden=(8,), trace="exact", adjoint=adjoint, **TIGHT).double()
        x = torch.randn(6, 2, dtype=torch.float64)
        z, ld = flow(x)
        (z.pow(2).sum() - ld.sum()).backward()
        grads.append([p.grad.clone() for p in flow.parameters()])
    for g_backprop, g_adjoint in zip(*grads):
        torch.testing.assert_close(g_adjoint, g_backprop, atol=1e-6, rtol=1e-5)


def test_log_det_matches_zukos_free_form_jacobian_on_our_field():
    zuko = pytest.importorskip("zuko")
    torch.manual_seed(0)
    net = ODENet((2,), (8, 8)).double()
    ours = CNF(net, end_time=1.0, learn_end_time=False, trace="exact", **TIGHT)
    theirs = zuko.transforms.FreeFormJacobianTransform(
        net, 0.0, 1.0, tuple(net.parameters()), atol=1e-9, rtol=1e-9, exact=True
    )
    x = torch.randn(5, 2, dtype=torch.float64)
    with torch.no_grad():
        z, ld = ours(x)
        z_z, ld_z = theirs.call_and_ladj(x)
    torch.testing.assert_close(z, z_z, atol=1e-6, rtol=0)
    torch.testing.assert_close(ld, ld_z, atol=1e-6, rtol=0)


def test_learnt_end_time_gets_a_gradient_and_nfe_is_counted():
    flow = ffjord((2,), hidden=(8,))
    z, ld = flow(torch.randn(4, 2))
    (z.pow(2).sum() - ld.sum()).backward()
    block = flow.transforms[0]
    assert block.sqrt_end_time.grad is not None and block.sqrt_end_time.grad != 0
    assert block.nfe >= 6  # dopri5: at least one step of six stages


@pytest.mark.parametrize("tol", [dict(atol=0.0), dict(rtol=-1e-5)])
def test_an_ode_tolerance_that_is_not_positive_is_a_one_line_error(tol):
    with pytest.raises(ConfigError, match="ODE tolerances must be > 0") as err:
        ffjord((2,), **tol)
    assert "\n" not in str(err.value)


def test_a_solve_over_its_step_budget_stops_naming_it():
    flow = ffjord((2,), hidden=(8,), atol=1e-12, rtol=1e-12, max_num_steps=3)
    with torch.no_grad():  # a fast-varying field, which no adaptive solver crosses in 3 steps
        for p in flow.parameters():
            p.mul_(10)
    with pytest.raises(SolverError, match="step budget of 3 steps \\(max_num_steps\\)") as err:
        flow(torch.randn(4, 2) * 5)
    assert "\n" not in str(err.value)


def test_training_logs_nfe_and_adds_the_rnode_regularizers(cfg_factory):
    import csv
    from pathlib import Path

    from gens.train import train

    cfg = cfg_factory(
        [
            "model=ffjord",
            "data=moons",
            "data.n_train=400",
            "model.transform.hidden=[8]",
            "model.transform.kinetic=0.01",
            "model.transform.jacobian=0.01",
            "model.log_every_n_steps=1",
            "trainer.log_every_n_steps=1",
            "trainer.limit_train_batches=2",
            "test=false",
            "callbacks.sample_plot=null",
            "callbacks.density_plot=null",
            "callbacks.vector_metrics=null",
        ]
    )
    train(cfg)
    rows = list(csv.DictReader(open(Path(cfg.paths.output_dir) / "csv" / "metrics.csv")))
    nfe = [float(r["train/nfe"]) for r in rows if r.get("train/nfe")]
    reg = [float(r["train/ode_reg"]) for r in rows if r.get("train/ode_reg")]
    assert len(nfe) == 2 and min(nfe) >= 6
    assert len(reg) == 2 and min(reg) > 0


def test_evaluates_under_inference_mode_as_lightning_tests():
    flow = ffjord((1, 2, 2), hidden=(4,), **TIGHT).eval()
    x = torch.randn(3, 1, 2, 2)
    with torch.no_grad():
        expected = flow(x)[1]
    with torch.inference_mode():
        ld = flow(x)[1]
    torch.testing.assert_close(ld, expected)
