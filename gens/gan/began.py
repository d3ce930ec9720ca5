"""BEGAN: Berthelot, Schumm & Metz 2017, BEGAN: Boundary Equilibrium Generative Adversarial
Networks.

D is an autoencoder with reconstruction loss L(v) = |v - D(v)|^eta (pixel mean). The game:

    L_D = L(x) - k_t L(G(z_D)),      L_G = L(G(z_G)),
    k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z_G))), 0, 1),

where gamma = E[L(G(z))] / E[L(x)] is the diversity ratio the equilibrium aims at and k_t
(starting at 0) controls how much D focuses on generated samples. The convergence measure
M_global = L(x) + |gamma L(x) - L(G(z_G))| is logged (``train/m_global``, ``val/m_global``).
Defaults follow the paper: gamma = 0.5, lambda_k = 0.001, eta = 1, Adam lr 1e-4.

Here D and G update in turn on the same batch (D first), and k_t moves after G's step using
that iteration's L(x) and L(G(z_G)), averaged across devices. The controller of k_t is a part of
its own (``Equilibrium``, ``model.equilibrium``); k_t is saved in checkpoints.
"""

from __future__ import annotations

from typing import Any

import torch

from gens.gan.game import GAN
from gens.gan.regularizers import Drift, Judged, Regularizer
from gens.utils.errors import ConfigError

__all__ = ["BEGAN", "Equilibrium", "update_k"]


def update_k(k: float, l_real: float, l_fake: float, gamma: float, lambda_k: float) -> float:
    """One proportional-control step of k_t towards gamma L(x) = L(G(z)), clipped to [0, 1]."""
    return min(max(k + lambda_k * (gamma * l_real - l_fake), 0.0), 1.0)


class Equilibrium:
    """The proportional controller of k_t (Sec. 3.4) and the convergence measure M_global.

    Args:
        gamma: diversity ratio in (0, 1]; lower gives sharper, less diverse samples.
        lambda_k: learning rate of k_t.
        k_init: initial k_0 (0 in the paper).
    """

    def __init__(self, gamma: float = 0.5, lambda_k: float = 0.001, k_init: float = 0.0):
        if not 0.0 < float(gamma) <= 1.0:
            raise ConfigError(f"model.equilibrium.gamma must be in (0, 1], got {gamma}")
        if float(lambda_k) < 0 or not 0.0 <= float(k_init) <= 1.0:
            raise ConfigError(
                "need model.equilibrium.lambda_k >= 0 and 0 <= model.equilibrium.k_init <= 1; "
                f"got {lambda_k} and {k_init}"
            )
        self.gamma, self.lambda_k, self.k = float(gamma), float(lambda_k), float(k_init)

    def step(self, l_real: float, l_fake: float) -> float:
        self.k = update_k(self.k, l_real, l_fake, self.gamma, self.lambda_k)
        return self.k

    def m_global(self, l_real: torch.Tensor, l_fake: torch.Tensor) -> torch.Tensor:
        return l_real + (self.gamma * l_real - l_fake).abs()


class BEGAN(GAN):
    """Boundary-equilibrium GAN with an autoencoder discriminator.

    Args:
        equilibrium: the controller of k_t (default: the paper's gamma 0.5, lambda_k 0.001).
        eta: exponent of the reconstruction loss (1 or 2).
    """

    def __init__(self, *args, equilibrium: Equilibrium | None = None, eta: float = 1.0, **kwargs):
        if kwargs.get("loss") is not None:
            raise ConfigError(
                "BEGAN's objective is the autoencoder one (L(x) - k_t L(G(z))); "
                "model.loss does not apply, remove it"
            )
        if kwargs.get("conditional"):
            raise ConfigError("BEGAN is unconditional here; set model.conditional=false")
        if kwargs.get("n_critic", 1) != 1:
            raise ConfigError("BEGAN updates D and G once per batch; set model.n_critic=1")
        # the controller's options given flat, as in checkpoints written before it was a part
        flat = {k: kwargs.pop(k) for k in ("gamma", "lambda_k", "k_init") if k in kwargs}
        if flat and equilibrium is not None:
            raise ConfigError(f"give {sorted(flat)} inside model.equilibrium, not beside it")
        super().__init__(*args, **kwargs)
        if float(eta) <= 0:
            raise ConfigError(f"model.eta must be > 0, got {eta}")
        self.equilibrium = equilibrium if equilibrium is not None else Equilibrium(**flat)
        self.eta = float(eta)
        self._l_real: torch.Tensor | None = None

    @property
    def k(self) -> float:
        return self.equilibrium.k

    def check_regularizer(self, name: str, reg: Regularizer) -> None:
        super().check_regularizer(name, reg)
        if reg.input_gradients or isinstance(reg, Drift):
            raise ConfigError(
                f"model.regularizers.{name}: BEGAN's discriminator is an autoencoder with no "
                "critic value to penalize; remove it (orthogonal regularization applies)"
            )

    def recon_loss(self, x: torch.Tensor) -> torch.Tensor:
        """L(v) = mean |v - D(v)|^eta over pixels and examples."""
        err = (x - self.discriminator(x)).abs()
        return err.mean() if self.eta == 1.0 else err.pow(self.eta).mean()

    def d_objective(self, real, y):
        with torch.no_grad():
            fake = self.generator(self.noise(len(real)))
        l_real, l_fake = self.recon_loss(real), self.recon_loss(fake)
        self._l_real = l_real.detach()
        loss = l_real - self.k * l_fake
        logs = {"d_loss": loss, "l_real": l_real.detach(), "l_fake": l_fake.detach()}
        return loss, logs, Judged((real,), (fake,), None, None)

    def g_objective(self, real, y):
        l_g = self.recon_loss(self.generator(self.noise(len(real))))
        l_real = self._mean_over_devices(self._l_real)
        l_fake = self._mean_over_devices(l_g.detach())
        k = torch.tensor(self.equilibrium.step(float(l_real), float(l_fake)), device=self.device)
        m_global = self.equilibrium.m_global(l_real, l_fake)
        return l_g, {"g_loss": l_g, "k": k, "m_global": m_global}

    def _mean_over_devices(self, value: torch.Tensor) -> torch.Tensor:
        if self._trainer is not None and self.trainer.world_size > 1:
            return self.trainer.strategy.reduce(value, reduce_op="mean")
        return value

    @torch.no_grad()
    def eval_losses(self, real, y, generator: torch.Generator) -> dict[str, torch.Tensor]:
        l_real = self.recon_loss(real)
        l_fake = self.recon_loss(self.generator(self.noise(len(real), generator)))
        m_global = self.equilibrium.m_global(l_real, l_fake)
        return {"l_real": l_real, "l_fake": l_fake, "m_global": m_global}

    def extra_state(self) -> dict[str, Any]:
        return {**super().extra_state(), "k": self.k}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        super().load_extra_state(state)
        self.equilibrium.k = float(state.get("k", self.k))
