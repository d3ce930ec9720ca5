"""Regularizers as parts the GAN loop applies: each has a weight, a lazy interval and a player.

A model config lists them by name, and every GAN applies all of them (or refuses one it cannot
take with a one-line error, e.g. an input-gradient penalty on BEGAN's autoencoder)::

    regularizers:
      r1: {_target_: gens.gan.regularizers.R1, gamma: 0.1, every: 16}

The loop adds ``weight * every * penalty`` to the player's loss on every ``every``-th step of that
player (lazy regularization, Karras et al. 2020, StyleGAN2: the same penalty per step on average)
and logs the unweighted penalty as ``train/<name>``.

- ``R1`` / ``R2``: Mescheder et al. 2018, gamma / 2 * E||grad D||^2 on real / generated data.
- ``GradientPenalty``: Gulrajani et al. 2017 (WGAN-GP), lambda * E[(||grad D(x_hat)|| - 1)^2].
- ``Drift``: Karras et al. 2018 (ProGAN), eps_drift * E[D(x)^2], keeps critic values near 0.
- ``Orthogonal``: Brock et al. 2019 (BigGAN), beta * sum_W ||W W^T * (1 - I)||_F^2 over the
  weight matrices of one network (convolutions as out x (in * k * k)).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gens.gan.penalties import grad_sq_norm, gradient_penalty
from gens.utils.errors import ConfigError

__all__ = ["Drift", "GradientPenalty", "Judged", "Orthogonal", "R1", "R2", "Regularizer"]


@dataclass
class Judged:
    """What the discriminator judged in one step: its inputs on the data side (``real``, e.g.
    ``(x, y)`` or BiGAN's ``(x, E(x))``) and the generator side (``fake``), and its outputs."""

    real: tuple
    fake: tuple
    real_out: torch.Tensor | None
    fake_out: torch.Tensor | None


class Regularizer:
    """Base part. ``player`` is ``"d"`` or ``"g"``, the loss the penalty joins;
    ``input_gradients`` says it differentiates D's output w.r.t. its inputs (double backward)."""

    player: str = "d"
    input_gradients: bool = False

    def __init__(self, weight: float, every: int = 1):
        if not float(weight) >= 0:
            raise ConfigError(f"{type(self).__name__} weight must be >= 0, got {weight}")
        if int(every) < 1:
            raise ConfigError(f"{type(self).__name__} every must be >= 1, got {every}")
        self.weight, self.every = float(weight), int(every)

    def due(self, step: int) -> bool:
        return self.weight > 0 and step % self.every == 0

    def penalty(self, gan, judged: Judged | None, scaler=None) -> torch.Tensor:
        raise NotImplementedError


class R1(Regularizer):
    """gamma / 2 * E_x ||grad D(x)||^2 on real data."""

    input_gradients = True

    def __init__(self, gamma: float = 10.0, every: int = 1):
        super().__init__(0.5 * float(gamma), every)

    def penalty(self, gan, judged, scaler=None):
        return grad_sq_norm(gan.discriminator, judged.real, scaler)


class R2(R1):
    """gamma / 2 * E_z ||grad D(G(z))||^2 on generated data."""

    def penalty(self, gan, judged, scaler=None):
        return grad_sq_norm(gan.discriminator, judged.fake, scaler)


class GradientPenalty(Regularizer):
    """weight * E[(||grad D(x_hat)|| - center)^2] on random interpolates of real and fake."""

    input_gradients = True

    def __init__(self, weight: float = 10.0, center: float = 1.0, every: int = 1):
        super().__init__(weight, every)
        self.center = float(center)

    def penalty(self, gan, judged, scaler=None):
        return gradient_penalty(
            gan.discriminator, judged.real, judged.fake, self.center, scaler=scaler
        )


class Drift(Regularizer):
    """weight * E_x[D(x)^2]: the drift term of ProGAN's critic (weight 0.001 there)."""

    def __init__(self, weight: float = 0.001, every: int = 1):
        super().__init__(weight, every)

    def penalty(self, gan, judged, scaler=None):
        return judged.real_out.float().pow(2).mean()


class Orthogonal(Regularizer):
    """beta * sum ||W W^T * (1 - I)||_F^2 over the weight matrices of ``network``.

    BigGAN applies it to G (beta = 1e-4); its reference code adds the gradient of half this sum,
    so its ``G_ortho`` equals beta / 2 here. Biases, gains and 1-D parameters are skipped."""

    def __init__(self, weight: float = 1e-4, network: str = "generator", every: int = 1):
        super().__init__(weight, every)
        if network not in ("generator", "discriminator"):
            raise ConfigError(
                f"Orthogonal network must be 'generator' or 'discriminator', got {network!r}"
            )
        self.network = network
        self.player = "g" if network == "generator" else "d"

    def penalty(self, gan, judged, scaler=None):
        net: nn.Module = getattr(gan, self.network)
        total = None
        for p in net.parameters():
            if p.dim() < 2 or not p.requires_grad:
                continue
            w = p.reshape(len(p), -1).float()
            gram = w @ w.t()
            term = (gram * (1 - torch.eye(len(w), device=w.device))).pow(2).sum()
            total = term if total is None else total + term
        if total is None:
            raise ConfigError(f"Orthogonal: the {self.network} has no weight matrices")
        return total
