"""One generic property test over every flow transform (zuko's habit): invertibility,
log|det J| against the autograd Jacobian, gradients to every parameter, save/load round trip."""

from __future__ import annotations

import io
from functools import partial

import pytest
import torch

from gens.flows import (
    ActNorm,
    BatchNormFlow,
    Compose,
    Coupling,
    DiagonalScaling,
    Flatten,
    Inverse,
    Invertible1x1Conv,
    LearnedSplitPrior,
    MultiScale,
    Reverse,
    Shuffle,
    Squeeze,
    Squeezed,
    glow,
    nice,
    realnvp,
    standard_normal_log_prob,
)
from gens.nets import CouplingMLP, CouplingResNet, GlowNet

MLP = partial(CouplingMLP, hidden=(8,))
RES = partial(CouplingResNet, channels=4, blocks=1)
GNET = partial(GlowNet, channels=4)
IMG = (2, 4, 4)

# name -> (factory, per-example shape, context size or None)
CASES = {
    "actnorm_vec": (lambda: ActNorm(3), (3,), None),
    "actnorm_img": (lambda: ActNorm(2), IMG, None),
    "conv1x1_plain": (lambda: Invertible1x1Conv(2, lu=False, seed=1), IMG, None),
    "conv1x1_lu": (lambda: Invertible1x1Conv(2, lu=True, seed=1), IMG, None),
    "linear_lu_vec": (lambda: Invertible1x1Conv(3, lu=True, seed=1), (3,), None),
    "reverse": (lambda: Reverse(3), (3,), None),
    "shuffle": (lambda: Shuffle(2, seed=3), IMG, None),
    "affine_alternate": (lambda: Coupling((3,), MLP, "alternate", 0), (3,), None),
    "affine_half_p1": (lambda: Coupling((3,), MLP, "half", 1), (3,), None),
    "additive_alternate": (lambda: Coupling((3,), MLP, "alternate", 1, "additive"), (3,), None),
    "affine_sigmoid": (lambda: Coupling((3,), MLP, "half", 0, scale="sigmoid"), (3,), None),
    "affine_noclamp": (lambda: Coupling((2,), MLP, "alternate", 0, clamp=None), (2,), None),
    "affine_checkerboard": (lambda: Coupling(IMG, RES, "checkerboard", 0), IMG, None),
    "affine_checker_1ch": (lambda: Coupling((1, 4, 4), RES, "checkerboard", 1), (1, 4, 4), None),
    "affine_channel": (lambda: Coupling(IMG, RES, "channel", 1), IMG, None),
    "additive_channel": (lambda: Coupling(IMG, GNET, "channel", 0, "additive"), IMG, None),
    "coupling_ctx_vec": (lambda: Coupling((2,), MLP, "alternate", 0, context_channels=3), (2,), 3),
    "coupling_ctx_img": (lambda: Coupling(IMG, RES, "channel", 0, context_channels=3), IMG, 3),
    "batchnorm_flow": (lambda: BatchNormFlow(2), IMG, None),
    "diagonal_scaling": (lambda: DiagonalScaling((3,)), (3,), None),
    "squeeze": (lambda: Squeeze(), IMG, None),
    "squeezed": (lambda: Squeezed(Coupling((8, 2, 2), RES, "channel", 0)), IMG, None),
    "flatten": (lambda: Flatten(IMG, Coupling((32,), MLP, "alternate", 0)), IMG, None),
    "split_prior": (lambda: LearnedSplitPrior(4, 2), (4, 2, 2), None),
    "multiscale": (
        lambda: MultiScale(
            Coupling((1, 4, 4), RES, "checkerboard", 0),
            Coupling((4, 2, 2), RES, "channel", 0),
            Coupling((2, 2, 2), RES, "checkerboard", 1),
            keep=2,
            split_prior=LearnedSplitPrior(4, 2),
        ),
        (1, 4, 4),
        None,
    ),
    "inverse": (lambda: Inverse(Coupling((2,), MLP, "alternate", 0)), (2,), None),
    "compose": (lambda: Compose([ActNorm(2), Reverse(2), ActNorm(2)]), (2,), None),
    "nice_vec": (lambda: nice((2,), layers=4, hidden=(8,)), (2,), None),
    "nice_img": (lambda: nice((1, 4, 4), layers=2, hidden=(8,)), (1, 4, 4), None),
    "realnvp_vec": (lambda: realnvp((2,), layers=3, hidden=(8,)), (2,), None),
    "realnvp_vec_bn": (lambda: realnvp((2,), layers=2, hidden=(8,), batch_norm=True), (2,), None),
    "realnvp_img": (lambda: realnvp((1, 4, 4), levels=2, channels=4, blocks=1), (1, 4, 4), None),
    "realnvp_img_cond": (
        lambda: realnvp((1, 4, 4), 3, levels=2, channels=4, blocks=1, batch_norm=True),
        (1, 4, 4),
        3,
    ),
    "glow_vec": (lambda: glow((2,), depth=3, hidden=(8,)), (2,), None),
    "glow_img": (lambda: glow((1, 4, 4), levels=2, depth=2, channels=4), (1, 4, 4), None),
    "glow_img_plain": (
        lambda: glow((2, 4, 4), levels=1, depth=2, channels=4, lu=False),
        IMG,
        None,
    ),
    "glow_img_additive_shuffle": (
        lambda: glow(
            (1, 4, 4), levels=2, depth=2, channels=4, coupling="additive", permutation="shuffle"
        ),
        (1, 4, 4),
        None,
    ),
    "glow_img_reverse_cond": (
        lambda: glow((1, 4, 4), 3, levels=2, depth=2, channels=4, permutation="reverse"),
        (1, 4, 4),
        3,
    ),
}


def _context(ctx: int | None, n: int):
    if ctx is None:
        return None
    return torch.nn.functional.one_hot(torch.arange(n) % ctx, ctx).float()


def _make(name: str, seed: int = 0):
    """Build, run data-dependent init on a batch, perturb every parameter (zero-initialized
    last layers would otherwise make couplings the identity), switch to eval."""
    factory, shape, ctx = CASES[name]
    torch.manual_seed(seed)
    t = factory()
    x = torch.randn(16, *shape)
    t.train()
    with torch.no_grad():
        t(x, _context(ctx, 16))
        g = torch.Generator().manual_seed(seed + 7)
        for p in t.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=g))
    return t.eval(), shape, ctx


@pytest.mark.parametrize("name", sorted(CASES))
def test_inverse_of_forward_is_identity(name):
    t, shape, ctx = _make(name)
    x = torch.randn(8, *shape)
    c = _context(ctx, 8)
    with torch.no_grad():
        z, ld = t(x, c)
        xr, ild = t.inverse(z, c)
    assert ld.shape == (8,)
    assert z.shape == x.shape or name == "squeeze"  # every flow keeps x's shape
    torch.testing.assert_close(xr, x, atol=1e-4, rtol=0)
    torch.testing.assert_close(ild, -ld, atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_logdet_matches_autograd_jacobian(name):
    t, shape, ctx = _make(name)
    t = t.double()
    x = torch.randn(3, *shape, dtype=torch.float64)
    c = _context(ctx, 3)
    c = None if c is None else c.double()
    _, ld = t(x, c)
    for i in range(3):
        ci = None if c is None else c[i : i + 1]

        def f(xi, ci=ci):
            return t(xi.view(1, *shape), ci)[0].flatten()

        jac = torch.autograd.functional.jacobian(f, x[i].flatten())
        expected = torch.linalg.slogdet(jac)[1]
        torch.testing.assert_close(ld[i], expected, atol=1e-6, rtol=1e-6)
        # inverse direction at the image point
        z = t(x[i : i + 1], ci)[0]

        def g(zi, ci=ci, zshape=z.shape):
            return t.inverse(zi.view(zshape), ci)[0].flatten()

        jac_inv = torch.autograd.functional.jacobian(g, z.flatten())
        torch.testing.assert_close(
            t.inverse(z, ci)[1][0], torch.linalg.slogdet(jac_inv)[1], atol=1e-6, rtol=1e-6
        )


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_reach_every_parameter(name):
    t, shape, ctx = _make(name)
    if not list(t.parameters()):
        pytest.skip("no parameters")
    t.train()
    x = torch.randn(16, *shape)
    z, ld = t(x, _context(ctx, 16))
    (-(standard_normal_log_prob(z) + ld).mean()).backward()
    for pname, p in t.named_parameters():
        assert p.grad is not None, f"{pname} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{pname} has a non-finite gradient"
        assert p.grad.abs().sum() > 0, f"{pname} got a zero gradient"


@pytest.mark.parametrize("name", sorted(CASES))
def test_save_load_round_trip(name):
    t, shape, ctx = _make(name, seed=0)
    buf = io.BytesIO()
    torch.save(t.state_dict(), buf)
    buf.seek(0)
    factory = CASES[name][0]
    torch.manual_seed(123)  # a different random init, overwritten by the load
    fresh = factory()
    fresh.load_state_dict(torch.load(buf, weights_only=True))
    fresh.eval()
    x = torch.randn(4, *shape)
    c = _context(ctx, 4)
    with torch.no_grad():
        z1, ld1 = t(x, c)
        z2, ld2 = fresh(x, c)  # ActNorm must not re-initialize: its flag was loaded
    torch.testing.assert_close(z1, z2)
    torch.testing.assert_close(ld1, ld2)
