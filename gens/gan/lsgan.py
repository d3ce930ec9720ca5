"""LSGAN: Mao et al. 2017, Least Squares Generative Adversarial Networks.

min_D 1/2 E_x[(D(x) - b)^2] + 1/2 E_z[(D(G(z)) - a)^2],  min_G 1/2 E_z[(D(G(z)) - c)^2].
With b - c = 1 and b - a = 2 (e.g. a=-1, b=1, c=0) minimizing the objective minimizes the
Pearson chi^2 divergence between p_data + p_g and 2 p_g (Sec. 3.2); the 0-1 coding a=0, b=1,
c=1 (the default) makes G want D to call its samples real. D outputs raw values (no sigmoid).
"""

from __future__ import annotations

from functools import partial

from gens.gan.game import GAN
from gens.gan.losses import d_least_squares, g_least_squares
from gens.utils.errors import ConfigError

__all__ = ["LSGAN"]


class LSGAN(GAN):
    """A GAN with the least-squares objective and configurable targets ``a``, ``b``, ``c``."""

    def __init__(self, *args, a: float = 0.0, b: float = 1.0, c: float = 1.0, **kwargs):
        loss = kwargs.setdefault("loss", {"d": "least_squares", "g": "least_squares"})
        if loss is not None and dict(loss) != {"d": "least_squares", "g": "least_squares"}:
            raise ConfigError(
                "LSGAN's objective is the least-squares one; drop model.loss (or use "
                "model=dcgan with model.loss.d=... for another loss)"
            )
        super().__init__(*args, **kwargs)
        if float(a) == float(b):
            raise ConfigError(f"LSGAN needs a != b (fake and real targets), got a=b={a}")
        self.a, self.b, self.c = float(a), float(b), float(c)
        self.d_loss_fn = partial(d_least_squares, a=self.a, b=self.b)
        self.g_loss_fn = partial(g_least_squares, c=self.c)
