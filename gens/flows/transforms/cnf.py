"""Continuous normalizing flows with free-form Jacobians: FFJORD (Grathwohl et al. 2019), after
Neural ODEs (Chen et al. 2018).

``dz/dt = f(t, z)`` carries data ``x = z(0)`` to ``z(T)``, and the instantaneous change of
variables gives ``log|det dz(T)/dx| = int_0^T tr(df/dz) dt``, integrated alongside ``z`` by an
adaptive solver (torchdiffeq; ``dopri5`` by default) to ``atol``/``rtol``. The trace is exact
(D vector-Jacobian products per evaluation) or Hutchinson's ``e^T (df/dz) e`` with ``e`` drawn
once per solve and held fixed through every function evaluation, as the estimator requires.
``adjoint=True`` backpropagates by solving the adjoint ODE (constant memory). The end time is
learnt as ``T = sqrt_T^2`` (FFJORD), by solving the rescaled field ``T f(sT, z)`` on ``s`` in
[0, 1].

Options of Finlay et al. 2020 (RNODE), integrated as extra states and exposed in
``regularization`` after a training solve: ``kinetic`` weighs ``int ||v||^2 ds`` and
``jacobian`` weighs ``int ||e^T dv/dz||^2 ds`` of the rescaled field ``v``. ``nfe`` is the
number of function evaluations of the last solve. A solve that needs more than
``max_num_steps`` steps stops with a ``SolverError`` naming the budget. Tolerances below ten
times the float resolution of the data are raised to it.

Example::

    cnf = CNF(ODENet((2,), (16, 16)), trace="exact")
    z, logdet = cnf(torch.randn(8, 2))
"""

from __future__ import annotations

import torch
from torch import nn
from torchdiffeq import odeint, odeint_adjoint

from gens.flows.transforms.base import Transform
from gens.utils.errors import ConfigError, SolverError

__all__ = ["CNF", "ADAPTIVE_SOLVERS"]

ADAPTIVE_SOLVERS = ("dopri5", "dopri8", "bosh3", "fehlberg2", "adaptive_heun")
FIXED_SOLVERS = ("euler", "midpoint", "rk4")


class _Dynamics:
    """The augmented field ``(z, logdet, kinetic, jacobian)`` on ``s`` in [0, 1]; a plain
    callable (the adjoint gets the parameters explicitly), so nothing is registered twice."""

    def __init__(self, cnf: CNF):
        self.cnf = cnf
        self.noise: torch.Tensor | None = None
        self.reg_noise: torch.Tensor | None = None
        self.nfe = 0

    def __call__(self, s: torch.Tensor, state):
        self.nfe += 1
        cnf = self.cnf
        graph = torch.is_grad_enabled()
        z = state[0]
        with torch.enable_grad():
            if not (graph and z.requires_grad):
                z = z.detach().requires_grad_(True)
            end = cnf.end_time()
            v = end * cnf.net(s * end, z)
            if self.noise is None:  # exact: the Jacobian's diagonal, one row at a time
                flat = v.flatten(1)
                div = sum(
                    torch.autograd.grad(flat[:, i].sum(), z, create_graph=True)[0].flatten(1)[:, i]
                    for i in range(flat.shape[1])
                )
                e_j = None
            else:
                e_j = torch.autograd.grad(v, z, self.noise, create_graph=True)[0]
                div = (e_j * self.noise).flatten(1).sum(1)
        out = [v, div]
        if len(state) > 2:
            out.append(v.flatten(1).pow(2).sum(1))
            if e_j is None:
                e_j = torch.autograd.grad(v, z, self.reg_noise, create_graph=True)[0]
            out.append(e_j.flatten(1).pow(2).sum(1))
        return tuple(o if graph else o.detach() for o in out)


class CNF(Transform):
    """One continuous normalizing flow block.

    Args:
        net: the field ``f(t, z)``.
        end_time, learn_end_time: ``T`` and whether it is learnt.
        solver: a torchdiffeq method; ``atol``, ``rtol`` its tolerances (adaptive solvers),
            ``step_size`` for fixed-grid ones; ``max_num_steps`` the step budget.
        adjoint: backpropagate through the adjoint ODE.
        trace: ``hutchinson`` | ``exact``; ``noise``: ``gaussian`` | ``rademacher``.
        kinetic, jacobian: RNODE regularization weights (0: off).
        exact_max_dim: in evaluation, the exact trace up to this many features (deterministic
            densities of low-dimensional data).
    """

    def __init__(
        self,
        net: nn.Module,
        end_time: float = 1.0,
        learn_end_time: bool = True,
        solver: str = "dopri5",
        atol: float = 1e-5,
        rtol: float = 1e-5,
        step_size: float = 0.05,
        max_num_steps: int = 1000,
        adjoint: bool = False,
        trace: str = "hutchinson",
        noise: str = "gaussian",
        kinetic: float = 0.0,
        jacobian: float = 0.0,
        exact_max_dim: int = 16,
    ):
        super().__init__()
        if solver not in ADAPTIVE_SOLVERS + FIXED_SOLVERS:
            raise ConfigError(
                f"unknown ODE solver '{solver}'; choose one of "
                + ", ".join(ADAPTIVE_SOLVERS + FIXED_SOLVERS)
            )
        if not (atol > 0 and rtol > 0):
            raise ConfigError(f"ODE tolerances must be > 0, got atol={atol}, rtol={rtol}")
        if end_time <= 0 or step_size <= 0 or int(max_num_steps) < 1:
            raise ConfigError("end_time and step_size must be > 0 and max_num_steps >= 1")
        if trace not in ("hutchinson", "exact") or noise not in ("gaussian", "rademacher"):
            raise ConfigError(
                f"trace must be hutchinson or exact and noise gaussian or rademacher, "
                f"got {trace}, {noise}"
            )
        if kinetic < 0 or jacobian < 0:
            raise ConfigError("the kinetic and jacobian regularization weights must be >= 0")
        self.net = net
        self.sqrt_end_time = nn.Parameter(
            torch.tensor(float(end_time) ** 0.5), requires_grad=bool(learn_end_time)
        )
        self.solver, self.atol, self.rtol = solver, float(atol), float(rtol)
        self.step_size, self.max_num_steps = float(step_size), int(max_num_steps)
        self.adjoint, self.trace, self.noise = bool(adjoint), trace, noise
        self.kinetic, self.jacobian = float(kinetic), float(jacobian)
        self.exact_max_dim = int(exact_max_dim)
        self.dynamics = _Dynamics(self)
        self.nfe = 0
        self.regularization: torch.Tensor | None = None

    def end_time(self) -> torch.Tensor:
        return self.sqrt_end_time.pow(2)

    def _noise(self, x: torch.Tensor) -> torch.Tensor | None:
        if self.trace == "exact" or (not self.training and x[0].numel() <= self.exact_max_dim):
            return None
        if self.noise == "rademacher":
            return torch.randint_like(x, 2) * 2 - 1
        return torch.randn_like(x)

    def _solve(self, x: torch.Tensor, reverse: bool):
        if torch.is_inference_mode_enabled():  # Lightning evaluates so; the trace needs autograd
            with torch.inference_mode(False), torch.no_grad():
                return self._solve(x.clone(), reverse)
        regularize = self.training and (self.kinetic > 0 or self.jacobian > 0)
        zero = x.new_zeros(len(x))
        state = (x, zero, zero, zero) if regularize else (x, zero)
        s = torch.tensor([1.0, 0.0] if reverse else [0.0, 1.0], dtype=x.dtype, device=x.device)
        self.dynamics.noise, self.dynamics.nfe = self._noise(x), 0
        self.dynamics.reg_noise = torch.randn_like(x) if regularize else None
        if self.solver in ADAPTIVE_SOLVERS:
            options = {"max_num_steps": self.max_num_steps}
        else:
            options = {"step_size": self.step_size}
        # tolerances below the dtype's resolution cannot be met, only chased to the step cap
        floor = 10 * torch.finfo(x.dtype).eps
        atol, rtol = max(self.atol, floor), max(self.rtol, floor)
        kw = dict(rtol=rtol, atol=atol, method=self.solver, options=options)
        try:
            if self.adjoint and torch.is_grad_enabled():
                params = tuple(p for p in self.parameters() if p.requires_grad)
                out = odeint_adjoint(self.dynamics, state, s, adjoint_params=params, **kw)
            else:
                out = odeint(self.dynamics, state, s, **kw)
        except AssertionError as e:
            if "max_num_steps" not in str(e):
                raise
            raise SolverError(
                f"the ODE solve exceeded its step budget of {self.max_num_steps} steps "
                f"(max_num_steps) at atol={self.atol}, rtol={self.rtol}; raise "
                "model.transform.max_num_steps or loosen the tolerances"
            ) from None
        self.nfe = self.dynamics.nfe
        final = [o[-1] for o in out]
        if regularize:
            self.regularization = self.kinetic * final[2].mean() + self.jacobian * final[3].mean()
        return final[0], final[1]

    def forward(self, x, context=None):
        return self._solve(x, reverse=False)

    def inverse(self, z, context=None):
        return self._solve(z, reverse=True)
