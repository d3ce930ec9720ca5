"""The sum-of-squares polynomial transformer: Jaini, Selby & Yu 2019, Sum-of-Squares Polynomial
Flow (eq. 9), in zuko's parameterization:

    y = c + int_0^x [ (1/K) sum_i (1 + sum_{j=0}^{L} a_ij (u / B)^j)^2 + s ] du

a sum of squares is non-negative, and the minimum slope ``s`` makes the map strictly
increasing. The integral is computed exactly, by expanding each square into the coefficients of
a polynomial of degree 2L and integrating term by term (the paper's closed form). The
log-derivative is the log of the integrand at x. Inverse by bisection.
"""

from __future__ import annotations

import torch

from gens.flows.transforms.transformer import Transformer
from gens.utils.errors import ConfigError

__all__ = ["SOSPolynomial"]


class SOSPolynomial(Transformer):
    """``polynomials`` = K squares of ``degree`` = L; P = K (L + 1) + 1 (the last: the shift c)."""

    def __init__(
        self,
        polynomials: int = 4,
        degree: int = 3,
        bound: float = 10.0,
        slope: float = 1e-3,
        tol: float = 1e-10,
    ):
        super().__init__(tol=tol)
        if int(polynomials) < 1 or int(degree) < 0 or bound <= 0 or slope <= 0:
            raise ConfigError(
                "SOS needs polynomials >= 1, degree >= 0, bound > 0 and slope > 0; got "
                f"{polynomials}, {degree}, {bound}, {slope}"
            )
        self.k, self.l, self.bound, self.slope = int(polynomials), int(degree), float(bound), slope
        self.num_params = self.k * (self.l + 1) + 1

    def coefficients(self, params: torch.Tensor) -> torch.Tensor:
        """``[..., K, L+1]`` coefficients of each polynomial in powers of x."""
        a = params[..., :-1].unflatten(-1, (self.k, self.l + 1))
        scale = self.bound ** -torch.arange(self.l + 1, dtype=a.dtype, device=a.device)
        a = a * scale
        return torch.cat([a[..., :1] + 1, a[..., 1:]], dim=-1)

    def forward(self, x, params):
        c = self.coefficients(params)
        powers = x[..., None, None] ** torch.arange(self.l + 1, device=x.device)
        p = (c * powers).sum(-1)  # [..., K]
        deriv = p.pow(2).mean(-1) + self.slope
        # the square of each polynomial, coefficient of x^m = sum_{j + l = m} c_j c_l
        q = x.new_zeros(*c.shape[:-1], 2 * self.l + 1)
        for j in range(self.l + 1):
            q[..., j : j + self.l + 1] += c[..., j : j + 1] * c
        m = torch.arange(2 * self.l + 1, dtype=x.dtype, device=x.device)
        integral = (q.mean(-2) * x[..., None] ** (m + 1) / (m + 1)).sum(-1)
        return params[..., -1] + integral + self.slope * x, deriv.log()
