"""Every flow's density of 2-D data integrates to 1: exp(log p) summed over a fine grid.

Each flow is built for 2-D data, its parameters perturbed away from the identity it starts at,
and evaluated in eval mode (the residual flows' log-det and FFJORD's trace are then exact in
2-D). The grid's mass is compared with the fraction of the flow's own samples that fall on the
grid (what a normalized density must give it), within 2 %; that fraction is asserted to be most
of the mass, so the comparison is of the density, not of its tails. A wrong log-det term, a
missing Jacobian factor or a mis-signed inverse shows up as a mass away from that fraction."""

from __future__ import annotations

from functools import partial

import pytest
import torch

from gens.flows import (
    UMNN,
    CubicSpline,
    DeepSigmoid,
    FlowModel,
    RQSpline,
    SOSPolynomial,
    elementwise_flow,
    ffjord,
    glow,
    iaf,
    iresnet,
    made,
    maf,
    nice,
    realnvp,
    resflow,
)
from tests.helpers.flows import perturb_


def _stack(transformer, form: str = "coupling"):
    return partial(
        elementwise_flow, transformer=transformer, form=form, num_layers=2, hidden=(16,)
    )


FLOWS = {
    "nice": partial(nice, layers=4, hidden=(16,)),
    "realnvp": partial(realnvp, layers=4, hidden=(16,)),
    "glow": partial(glow, depth=2, hidden=(16,)),
    "made": partial(made, hidden=(16,)),
    "maf": partial(maf, num_layers=2, hidden=(16,)),
    "iaf": partial(iaf, num_layers=2, hidden=(16,)),
    "nsf": _stack(partial(RQSpline, bins=6, bound=3.0)),
    "nsf_autoregressive": _stack(RQSpline, "autoregressive"),
    "cubic_spline": _stack(partial(CubicSpline, bins=6, bound=3.0)),
    "naf": _stack(partial(DeepSigmoid, 4), "autoregressive"),
    "sos": _stack(SOSPolynomial, "autoregressive"),
    "umnn": _stack(partial(UMNN, hidden=(8,), nodes=20), "autoregressive"),
    "iresnet": partial(iresnet, num_blocks=2, hidden=(16,)),
    "resflow": partial(resflow, num_blocks=2, hidden=(16,)),
    "ffjord": partial(ffjord, hidden=(16, 16), atol=1e-6, rtol=1e-6),
}

LIM, N = 9.0, 361  # a grid of N x N cell centres on [-LIM, LIM]^2
SAMPLES = 4000


# bisection inverses and ODE solves make sampling take seconds: run with the slow tests
SLOW = {"ffjord", "naf", "sos", "umnn"}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(FLOWS)]
)
def test_density_integrates_to_one_on_a_fine_grid(name):
    torch.manual_seed(0)
    model = FlowModel(FLOWS[name], None, data_shape=(2,))
    with torch.no_grad():  # data-dependent initializations (ActNorm) see a unit-scale batch
        model.log_prob(torch.randn(256, 2))
    perturb_(model.transform, 0.15, seed=1)
    model.eval()
    edges = torch.linspace(-LIM, LIM, N + 1, dtype=torch.float64)
    centres = (edges[1:] + edges[:-1]) / 2
    grid = torch.cartesian_prod(centres, centres).float()
    with torch.no_grad():
        logp = torch.cat([model.log_prob(b) for b in grid.split(20000)]).double()
    mass = float(logp.exp().sum() * (2 * LIM / N) ** 2)
    x = model.sample(SAMPLES, generator=torch.Generator().manual_seed(2))
    inside = float((x.abs() < LIM).all(1).double().mean())
    assert inside > 0.9
    assert mass == pytest.approx(inside, abs=0.02)
