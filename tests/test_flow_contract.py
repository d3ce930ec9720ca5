"""The contract every flow transform keeps, checked over one table (zuko's ``test_flows.py``).

``CASES`` builds every ``Transform`` class of ``gens.flows`` (with and without context where the
transform takes one, image-shaped where it works on images) and the architectures that stack
them. For each entry:

- shapes: ``z`` like ``x`` (``out_shape`` where the transform reshapes), log-dets ``[N]``;
- eval mode is deterministic;
- invertibility: ``inverse(forward(x)) = x`` and ``forward(inverse(z)) = z``, at atol 1e-4 in
  float32 and 1e-8 in float64 (an ODE solve: to the order of its tolerance, ``solver_atol``),
  with the inverse's log-det the negative of the forward one;
- log|det J| against the autograd Jacobian (float64, flattened, atol 1e-6) in every direction
  that is closed form; a ``numerical`` direction (bisection: planar and Sylvester ``forward``)
  is covered by the round trip and the log-det negation above;
- gradients reach every parameter through every closed-form direction;
- a ``state_dict`` round trip into a fresh instance gives identical outputs.

``test_every_transform_has_a_case`` fails when a ``Transform`` subclass in ``gens.flows`` has no
entry, so a new transform cannot skip the contract.
"""

from __future__ import annotations

import importlib
import io
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pytest
import torch

import gens.flows
from gens.flows import (
    CNF,
    UMNN,
    ActNorm,
    BatchNormFlow,
    Compose,
    Coupling,
    CubicSpline,
    DeepSigmoid,
    DiagonalScaling,
    Flatten,
    IAFLayer,
    Inverse,
    Invertible1x1Conv,
    LearnedSplitPrior,
    LogitTransform,
    MAFLayer,
    MultiScale,
    Permutation,
    Planar,
    Radial,
    ResidualBlock,
    Reverse,
    RQSpline,
    Shuffle,
    SOSPolynomial,
    Squeeze,
    Squeezed,
    Sylvester,
    Transform,
    TransformerAutoregressive,
    TransformerCoupling,
    elementwise_flow,
    ffjord,
    glow,
    iaf,
    iresnet,
    made,
    maf,
    nice,
    planar_flow,
    radial_flow,
    realnvp,
    resflow,
    standard_normal_log_prob,
    sylvester_flow,
)
from gens.flows.transforms.amortized import ParamLayer
from gens.nets import (
    CouplingMLP,
    CouplingResNet,
    GlowNet,
    ODENet,
    lipschitz_convnet,
    lipschitz_mlp,
)
from tests.helpers.flows import (
    assert_grads_reach_every_parameter,
    autograd_logdet,
    perturb_,
    random_context,
)

MLP = partial(CouplingMLP, hidden=(8,))
RES = partial(CouplingResNet, channels=4, blocks=1)
GNET = partial(GlowNet, channels=4)
# two small layers around any elementwise transformer (NSF, cubic, NAF, SOS, UMNN)
stack = partial(elementwise_flow, num_layers=2, hidden=(8,))
IMG = (2, 4, 4)
D, C = 4, 3
ATOL = {torch.float32: 1e-4, torch.float64: 1e-8}
ODE_TOL = {"atol": 1e-9, "rtol": 1e-9}


@dataclass(frozen=True)
class Case:
    build: Callable[[], Transform]
    shape: tuple[int, ...]
    context: tuple[int, ...] | None = None  # per-example shape of the conditioning input
    numerical: str | None = None  # the direction computed by bisection, if any
    perturb: float = 0.1
    unit_domain: bool = False  # inputs in (0, 1) rather than all of R^D
    out_shape: tuple[int, ...] | None = None  # z's per-example shape where it is not x's
    solver_atol: float | None = None  # float64 round trip of an ODE solve: its tolerance's order
    slow: bool = False  # run with the slow tests (an adjoint ODE solve per Jacobian row)


def _multiscale(ctx: int = 0) -> MultiScale:
    return MultiScale(
        Coupling((1, 4, 4), RES, "checkerboard", 0, context_channels=ctx),
        Coupling((4, 2, 2), RES, "channel", 0, context_channels=ctx),
        Coupling((2, 2, 2), RES, "checkerboard", 1, context_channels=ctx),
        keep=2,
        split_prior=LearnedSplitPrior(4, 2, ctx),
    )


CASES: dict[str, Case] = {
    # --- layers -------------------------------------------------------------------------------
    "actnorm_vec": Case(lambda: ActNorm(3), (3,)),
    "actnorm_img": Case(lambda: ActNorm(2), IMG),
    "conv1x1_plain": Case(lambda: Invertible1x1Conv(2, lu=False, seed=1), IMG),
    "conv1x1_lu": Case(lambda: Invertible1x1Conv(2, lu=True, seed=1), IMG),
    "linear_lu_vec": Case(lambda: Invertible1x1Conv(3, lu=True, seed=1), (3,)),
    "permutation": Case(lambda: Permutation(torch.tensor([2, 0, 1])), (3,)),
    "reverse": Case(lambda: Reverse(3), (3,)),
    "shuffle": Case(lambda: Shuffle(2, seed=3), IMG),
    "affine_alternate": Case(lambda: Coupling((3,), MLP, "alternate", 0), (3,)),
    "affine_half_p1": Case(lambda: Coupling((3,), MLP, "half", 1), (3,)),
    "additive_alternate": Case(lambda: Coupling((3,), MLP, "alternate", 1, "additive"), (3,)),
    "affine_sigmoid": Case(lambda: Coupling((3,), MLP, "half", 0, scale="sigmoid"), (3,)),
    "affine_noclamp": Case(lambda: Coupling((2,), MLP, "alternate", 0, clamp=None), (2,)),
    "affine_checkerboard": Case(lambda: Coupling(IMG, RES, "checkerboard", 0), IMG),
    "affine_checker_1ch": Case(lambda: Coupling((1, 4, 4), RES, "checkerboard", 1), (1, 4, 4)),
    "affine_channel": Case(lambda: Coupling(IMG, RES, "channel", 1), IMG),
    "additive_channel": Case(lambda: Coupling(IMG, GNET, "channel", 0, "additive"), IMG),
    "coupling_ctx_vec": Case(
        lambda: Coupling((2,), MLP, "alternate", 0, context_channels=3), (2,), (3,)
    ),
    "coupling_ctx_img": Case(
        lambda: Coupling(IMG, RES, "channel", 0, context_channels=3), IMG, (3,)
    ),
    "coupling_ctx_maps": Case(  # feature-map context at half resolution (resized by pooling)
        lambda: Coupling(IMG, RES, "checkerboard", 0, context_channels=3), IMG, (3, 2, 2)
    ),
    "batchnorm_vec": Case(lambda: BatchNormFlow(3), (3,)),
    "batchnorm_img": Case(lambda: BatchNormFlow(2), IMG),
    "diagonal_scaling": Case(lambda: DiagonalScaling((3,)), (3,)),
    "squeeze": Case(lambda: Squeeze(), IMG, out_shape=(8, 2, 2)),
    "squeezed": Case(lambda: Squeezed(Coupling((8, 2, 2), RES, "channel", 0)), IMG),
    "flatten": Case(lambda: Flatten(IMG, Coupling((32,), MLP, "alternate", 0)), IMG),
    "split_prior": Case(lambda: LearnedSplitPrior(4, 2), (4, 2, 2)),
    "split_prior_ctx": Case(lambda: LearnedSplitPrior(4, 2, 3), (4, 2, 2), (3,)),
    "multiscale": Case(_multiscale, (1, 4, 4)),
    "multiscale_ctx": Case(lambda: _multiscale(3), (1, 4, 4), (3,)),
    "inverse": Case(lambda: Inverse(Coupling((2,), MLP, "alternate", 0)), (2,)),
    "compose": Case(lambda: Compose([ActNorm(2), Reverse(2), ActNorm(2)]), (2,)),
    "logit": Case(lambda: LogitTransform(0.05), IMG, unit_domain=True),
    "logit_centre": Case(lambda: LogitTransform(None), IMG, unit_domain=True),
    "maf_layer": Case(
        lambda: MAFLayer(D, hidden=(16, 16), order=torch.tensor([3, 1, 4, 2])), (D,), perturb=0.3
    ),
    "maf_layer_ctx": Case(
        lambda: MAFLayer(D, hidden=(16,), context_dim=C), (D,), (C,), perturb=0.3
    ),
    "iaf_layer": Case(lambda: IAFLayer(D, hidden=(16,)), (D,), perturb=0.3),
    "iaf_layer_ctx": Case(
        lambda: IAFLayer(D, hidden=(16,), context_dim=C), (D,), (C,), perturb=0.3
    ),
    "planar": Case(lambda: Planar(D), (D,), numerical="forward", perturb=0.3),
    "planar_ctx": Case(lambda: Planar(D, C), (D,), (C,), numerical="forward", perturb=0.3),
    "radial": Case(lambda: Radial(D), (D,), perturb=0.3),
    "radial_ctx": Case(lambda: Radial(D, C), (D,), (C,), perturb=0.3),
    "sylvester_householder": Case(
        lambda: Sylvester(D, num_ortho=3, q="householder"), (D,), numerical="forward", perturb=0.3
    ),
    "sylvester_orthogonal": Case(
        lambda: Sylvester(D, num_ortho=2, q="orthogonal"), (D,), numerical="forward", perturb=0.3
    ),
    "sylvester_triangular": Case(
        lambda: Sylvester(D, q="triangular", flip=True), (D,), numerical="forward", perturb=0.3
    ),
    "sylvester_ctx": Case(
        lambda: Sylvester(D, num_ortho=3, context_dim=C),
        (D,),
        (C,),
        numerical="forward",
        perturb=0.3,
    ),
    "rq_coupling": Case(lambda: TransformerCoupling(3, RQSpline(4, 2.0), (8,)), (3,)),
    "rq_coupling_half_ctx": Case(
        lambda: TransformerCoupling(D, RQSpline(3, 1.5), (8,), 1, "half", C), (D,), (C,)
    ),
    "rq_autoregressive": Case(
        lambda: TransformerAutoregressive(D, RQSpline(4, 2.0), (16,)), (D,), perturb=0.3
    ),
    "rq_autoregressive_ctx": Case(
        lambda: TransformerAutoregressive(D, RQSpline(4, 2.0), (16,), context_dim=C),
        (D,),
        (C,),
        perturb=0.3,
    ),
    "cubic_coupling": Case(lambda: TransformerCoupling(3, CubicSpline(4, 2.0), (8,)), (3,)),
    "cubic_autoregressive_ctx": Case(
        lambda: TransformerAutoregressive(D, CubicSpline(3, 2.0), (16,), context_dim=C),
        (D,),
        (C,),
        perturb=0.3,
    ),
    "dsf_autoregressive": Case(
        lambda: TransformerAutoregressive(D, DeepSigmoid(4), (16,)), (D,), perturb=0.3
    ),
    "sos_coupling_ctx": Case(
        lambda: TransformerCoupling(D, SOSPolynomial(2, 2), (8,), context_dim=C), (D,), (C,)
    ),
    "umnn_autoregressive": Case(
        lambda: TransformerAutoregressive(D, UMNN(3, (8,), 80), (16,)), (D,), perturb=0.3
    ),
    "residual_exact": Case(lambda: ResidualBlock(lipschitz_mlp(D, (8,), 0.9), "exact"), (D,)),
    "residual_roulette": Case(lambda: ResidualBlock(lipschitz_mlp(D, (8, 8)), "roulette"), (D,)),
    "residual_truncated_backprop": Case(
        lambda: ResidualBlock(lipschitz_mlp(D, (8,)), "truncated", neumann=False), (D,)
    ),
    "residual_conv": Case(
        lambda: ResidualBlock(lipschitz_convnet(2, 4, (2, 2)), "roulette"), (2, 2, 2)
    ),
    "cnf_exact": Case(
        lambda: CNF(ODENet((2,), (8,)), trace="exact", **ODE_TOL), (2,), solver_atol=1e-6
    ),
    "cnf_hutchinson_adjoint": Case(
        lambda: CNF(ODENet((2,), (8,)), adjoint=True, noise="rademacher", **ODE_TOL),
        (2,),
        solver_atol=1e-6,
        slow=True,
    ),
    # --- architectures ------------------------------------------------------------------------
    "nice_vec": Case(lambda: nice((2,), layers=4, hidden=(8,)), (2,)),
    "nice_img": Case(lambda: nice((1, 4, 4), layers=2, hidden=(8,)), (1, 4, 4)),
    "realnvp_vec": Case(lambda: realnvp((2,), layers=3, hidden=(8,)), (2,)),
    "realnvp_vec_bn": Case(lambda: realnvp((2,), layers=2, hidden=(8,), batch_norm=True), (2,)),
    "realnvp_img": Case(lambda: realnvp((1, 4, 4), levels=2, channels=4, blocks=1), (1, 4, 4)),
    "realnvp_img_cond": Case(
        lambda: realnvp((1, 4, 4), 3, levels=2, channels=4, blocks=1, batch_norm=True),
        (1, 4, 4),
        (3,),
    ),
    "glow_vec": Case(lambda: glow((2,), depth=3, hidden=(8,)), (2,)),
    "glow_img": Case(lambda: glow((1, 4, 4), levels=2, depth=2, channels=4), (1, 4, 4)),
    "glow_img_plain": Case(lambda: glow(IMG, levels=1, depth=2, channels=4, lu=False), IMG),
    "glow_img_additive_shuffle": Case(
        lambda: glow(
            (1, 4, 4), levels=2, depth=2, channels=4, coupling="additive", permutation="shuffle"
        ),
        (1, 4, 4),
    ),
    "glow_img_reverse_cond": Case(
        lambda: glow((1, 4, 4), 3, levels=2, depth=2, channels=4, permutation="reverse"),
        (1, 4, 4),
        (3,),
    ),
    "made": Case(lambda: made((D,), hidden=(16,)), (D,), perturb=0.3),
    "maf": Case(
        lambda: maf((D,), num_layers=3, hidden=(16,), permutation="random"), (D,), perturb=0.3
    ),
    "maf_img": Case(lambda: maf((1, 2, 2), num_layers=2, hidden=(8,)), (1, 2, 2), perturb=0.3),
    "maf_cond": Case(
        lambda: maf((D,), num_layers=2, hidden=(16,), num_classes=C), (D,), (C,), perturb=0.3
    ),
    "iaf": Case(lambda: iaf((D,), num_layers=2, hidden=(16,)), (D,), perturb=0.3),
    "nsf": Case(lambda: stack((D,), partial(RQSpline, 4, 2.0)), (D,)),
    "nsf_ar_img_cond": Case(
        lambda: stack((1, 2, 2), partial(RQSpline, 4, 2.0), "autoregressive", num_classes=C),
        (1, 2, 2),
        (C,),
    ),
    "cubic_spline_flow": Case(lambda: stack((D,), partial(CubicSpline, 4, 2.0)), (D,)),
    "naf": Case(lambda: stack((2,), partial(DeepSigmoid, 4), "autoregressive"), (2,)),
    "sos": Case(lambda: stack((2,), SOSPolynomial), (2,)),
    "umnn_cond": Case(
        lambda: stack((2,), partial(UMNN, 8, (8,), 80), "autoregressive", num_classes=C),
        (2,),
        (C,),
    ),
    "iresnet": Case(lambda: iresnet((D,), num_blocks=2, hidden=(8,)), (D,)),
    "resflow_img": Case(lambda: resflow((1, 4, 4), num_blocks=1, channels=4, levels=2), (1, 4, 4)),
    "ffjord_img": Case(
        lambda: ffjord((1, 2, 2), hidden=(4,), **ODE_TOL), (1, 2, 2), solver_atol=1e-6
    ),
    "planar_flow": Case(
        lambda: planar_flow((D,), num_layers=2), (D,), numerical="forward", perturb=0.3
    ),
    "radial_flow": Case(lambda: radial_flow((D,), num_layers=2), (D,), perturb=0.3),
    "sylvester_flow": Case(
        lambda: sylvester_flow((D,), num_layers=2, q="triangular"),
        (D,),
        numerical="forward",
        perturb=0.3,
    ),
}

NAMES = [
    pytest.param(name, marks=pytest.mark.slow) if case.slow else name
    for name, case in sorted(CASES.items())
]

# Transform subclasses that are interfaces, not transforms of their own.
ABSTRACT = {
    Transform: "the interface",
    ParamLayer: "the parameter head of planar, radial and Sylvester (no map of its own)",
}


def _inputs(case: Case, n: int, dtype=torch.float32, seed: int = 1, shape=None) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    shape = case.shape if shape is None else shape
    if case.unit_domain:
        return (0.05 + 0.9 * torch.rand(n, *shape, generator=g)).to(dtype)
    return torch.randn(n, *shape, generator=g).to(dtype)


def _make(name: str, seed: int = 0, dtype=torch.float32) -> tuple[Transform, Case]:
    """Build, run the data-dependent initialization (ActNorm, batch statistics) on a batch,
    perturb every parameter, and switch to eval mode."""
    case = CASES[name]
    torch.manual_seed(seed)
    t = case.build().train()
    with torch.no_grad():
        t(_inputs(case, 16, seed=seed + 100), random_context(case.context, 16, seed=seed + 200))
    perturb_(t, case.perturb, seed + 7)
    return t.to(dtype).eval(), case


def _directions(case: Case) -> list[str]:
    return [d for d in ("forward", "inverse") if d != case.numerical]


def _call(t: Transform, direction: str):
    return t if direction == "forward" else t.inverse


def _transforms_in(module) -> set[type]:
    return {v for v in vars(module).values() if isinstance(v, type) and issubclass(v, Transform)}


def _transform_classes() -> set[type]:
    """Every Transform subclass exported by ``gens.flows`` or found in one of its modules."""
    found = _transforms_in(gens.flows)
    for info in pkgutil.walk_packages(gens.flows.__path__, "gens.flows."):
        found |= _transforms_in(importlib.import_module(info.name))
    return found


def test_every_transform_has_a_case():
    covered = {type(case.build()) for case in CASES.values()}
    missing = _transform_classes() - covered - set(ABSTRACT)
    assert not missing, (
        f"no contract entry for {sorted(c.__qualname__ for c in missing)}: add one to CASES in "
        "tests/test_flow_contract.py"
    )


def _setup(name: str, n: int = 8, dtype=torch.float32):
    """A prepared transform, its case, ``n`` inputs from its domain and their context."""
    t, case = _make(name, dtype=dtype)
    return t, case, _inputs(case, n, dtype), random_context(case.context, n, dtype)


@pytest.mark.parametrize("name", NAMES)
def test_shapes(name):
    t, case, x, c = _setup(name)
    with torch.no_grad():
        z, ld = t(x, c)
        xr, ild = t.inverse(z, c)
    assert z.shape == (8, *(case.out_shape or case.shape))
    assert xr.shape == x.shape
    assert ld.shape == ild.shape == (8,)


@pytest.mark.parametrize("name", NAMES)
def test_eval_mode_is_deterministic(name):
    t, _, x, c = _setup(name)
    with torch.no_grad():
        z = t(x, c)[0]
        for fn, v in ((t, x), (t.inverse, z)):
            (a, la), (b, lb) = fn(v, c), fn(v, c)
            assert torch.equal(a, b) and torch.equal(la, lb)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_invertibility(name, dtype):
    t, case, x, c = _setup(name, dtype=dtype)
    atol = max(ATOL[dtype], case.solver_atol or 0.0)
    z = _inputs(case, 8, dtype, seed=2, shape=case.out_shape)
    with torch.no_grad():
        for there, back, v in ((t, t.inverse, x), (t.inverse, t, z)):
            out, ld = there(v, c)
            v_back, ld_back = back(out, c)
            torch.testing.assert_close(v_back, v, atol=atol, rtol=0)
            torch.testing.assert_close(ld_back, -ld, atol=atol, rtol=atol)


@pytest.mark.parametrize("name", NAMES)
def test_logdet_matches_autograd_jacobian(name):
    t, case, x, c = _setup(name, 3, torch.float64)
    points = {"forward": x, "inverse": t(x, c)[0].detach()}
    for direction in _directions(case):
        fn = _call(t, direction)
        got = fn(points[direction], c)[1]
        expected = autograd_logdet(lambda v, ci, fn=fn: fn(v, ci)[0], points[direction], c)
        torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-6, msg=direction)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_reach_every_parameter(name):
    """And the input: a transform without parameters still passes gradients through."""
    for direction in _directions(CASES[name]):
        t, case = _make(name)
        t.train()
        shape = case.shape if direction == "forward" else (case.out_shape or case.shape)
        v = _inputs(case, 16, shape=shape).requires_grad_(True)
        out, ld = _call(t, direction)(v, random_context(case.context, 16))
        (-(standard_normal_log_prob(out) + ld).mean()).backward()
        assert_grads_reach_every_parameter(t)
        assert v.grad is not None and torch.isfinite(v.grad).all(), direction
        assert v.grad.abs().sum() > 0, direction


@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip(name):
    t, case, x, c = _setup(name, 4)
    buf = io.BytesIO()
    torch.save(t.state_dict(), buf)
    buf.seek(0)
    torch.manual_seed(123)  # a different random init, overwritten by the load
    fresh = case.build()
    fresh.load_state_dict(torch.load(buf, weights_only=True))
    fresh.eval()
    with torch.no_grad():  # ActNorm must not re-initialize: its flag was loaded
        z = t(x, c)[0]
        for direction, v in (("forward", x), ("inverse", z)):
            for a, b in zip(_call(t, direction)(v, c), _call(fresh, direction)(v, c)):
                torch.testing.assert_close(a, b, msg=direction)
