"""Discriminator Rejection Sampling (Azadi et al. 2019, "Discriminator Rejection Sampling").

If ``D*(x) = log p_data(x) / p_g(x)`` (the logit of the optimal discriminator for a fixed
generator), rejection sampling from ``p_g`` with acceptance ``exp(D*(x) - M)``, ``M >= max D*``,
draws exactly from ``p_data``. DRS makes this practical in three steps, all here:

1. ``D*`` is a discriminator trained *after* the GAN, against the fixed sampling generator (the
   GAN's own D tracked a moving generator and is not optimal for the final one);
2. ``M`` is the largest logit on a burn-in of samples (DRS also raises it whenever sampling
   meets a larger one; here such samples are simply accepted, so that sampling with a seed
   gives the same samples every time);
3. a sample is accepted with probability ``sigmoid(F(x))``,
   ``F(x) = D(x) - M - log(1 - exp(D(x) - M - eps)) - gamma``: ``F`` is the logit of
   ``exp(D - M)`` shifted by ``gamma``, set to the ``gamma_quantile`` of ``F`` on the burn-in so
   that quantile is accepted with probability 1/2. ``gamma`` trades exactness for acceptance
   rate; ``gamma_quantile=null`` keeps ``gamma = 0``, plain rejection sampling.

Azadi et al. keep training the GAN's discriminator; ``discriminator=null`` does that (a copy of
it is trained further). On low-dimensional data a plain MLP discriminator cannot resolve the
thin "bridges" a generator leaves between modes (spectral bias), while one on random Fourier
features (``gens.nets.fourier``) separates them within a few hundred steps; ``model=gan_r1``
therefore gives the sampler a fresh Fourier-feature discriminator.

Everything here draws from generators it is given or seeds itself, never the global RNG.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gens.nets.joint import JointDiscriminator
from gens.utils.errors import ConfigError
from gens.utils.logging import get_logger

__all__ = ["DiscriminatorRejection", "acceptance_probability"]

log = get_logger(__name__)


def acceptance_probability(
    logits: torch.Tensor, log_m: float, gamma: float = 0.0, eps: float = 1e-6
) -> torch.Tensor:
    """``sigmoid(F(x))`` of DRS for discriminator ``logits`` with bound ``log_m``.

    With ``gamma = 0`` (and ``eps -> 0``) this is ``exp(D - M)``, plain rejection sampling."""
    d = (logits - log_m).clamp(max=0.0)
    f = d - torch.log1p(-torch.exp(d - eps)) - gamma
    return torch.sigmoid(f)


def _f_values(logits: torch.Tensor, log_m: float, eps: float) -> torch.Tensor:
    d = (logits - log_m).clamp(max=0.0)
    return d - torch.log1p(-torch.exp(d - eps))


class DiscriminatorRejection(nn.Module):
    """The DRS sampler of a GAN: a discriminator fitted to the final generator, and the bound
    ``log_m`` and shift ``gamma`` of its acceptance rule (buffers, saved in checkpoints).

    Args:
        data_shape: the data's shape (sizes a fresh discriminator).
        discriminator: factory ``(data_shape=, num_classes=) -> nn.Module`` for a fresh
            discriminator; ``None`` trains a copy of the GAN's own (``init_from``).
        steps: discriminator updates in ``fit``.
        batch_size: real and generated samples per update.
        lr, betas: Adam settings of those updates.
        cosine: decay the learning rate to 0 over the ``steps`` (cosine), so the fitted logits
            settle instead of carrying the noise of the last large steps.
        burn_in: generated samples that set ``log_m`` and ``gamma``.
        gamma_quantile: quantile of ``F`` on the burn-in used as ``gamma``; ``None`` for 0.
        eps: the ``eps`` of ``F`` (keeps the log finite at ``D = M``).
        seed: seeds the noise of fitting and burn-in.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int | None = None,
        discriminator: Callable[..., nn.Module] | None = None,
        steps: int = 1500,
        batch_size: int = 100,
        lr: float = 1e-3,
        betas: Sequence[float] = (0.5, 0.999),
        cosine: bool = True,
        burn_in: int = 10_000,
        gamma_quantile: float | None = 0.95,
        eps: float = 1e-6,
        seed: int = 0,
    ):
        super().__init__()
        if num_classes:
            raise ConfigError(
                "model.sampling.rejection (discriminator rejection sampling) supports "
                "unconditional GANs only; set model.sampling.rejection=null or "
                "model.conditional=false"
            )
        for name, value in (("steps", steps), ("batch_size", batch_size), ("burn_in", burn_in)):
            if int(value) < 1:
                raise ConfigError(f"model.sampling.rejection.{name} must be >= 1, got {value}")
        if float(lr) <= 0:
            raise ConfigError(f"model.sampling.rejection.lr must be > 0, got {lr}")
        if gamma_quantile is not None and not 0.0 <= float(gamma_quantile) <= 1.0:
            raise ConfigError(
                "model.sampling.rejection.gamma_quantile must be in [0, 1] or null, got "
                f"{gamma_quantile}"
            )
        self.steps, self.batch_size, self.burn_in = int(steps), int(batch_size), int(burn_in)
        self.lr, self.betas = float(lr), tuple(float(b) for b in betas)
        self.cosine = bool(cosine)
        self.gamma_quantile = None if gamma_quantile is None else float(gamma_quantile)
        self.eps, self.seed = float(eps), int(seed)
        self.copy_discriminator = discriminator is None
        self.net = None if discriminator is None else discriminator(data_shape=tuple(data_shape))
        self.register_buffer("log_m", torch.tensor(-math.inf))
        self.register_buffer("gamma", torch.tensor(0.0))
        # the generator version (the GAN's generator-step count) the sampler was fitted to
        self.register_buffer("fitted_for", torch.tensor(-1, dtype=torch.long))
        self.last_acceptance = float("nan")

    def init_from(self, discriminator: nn.Module) -> None:
        """With ``discriminator=None``: hold a copy of the GAN's discriminator (weights are
        copied again at every ``fit``)."""
        if self.copy_discriminator and self.net is None:
            if isinstance(discriminator, JointDiscriminator):
                raise ConfigError(
                    "model.sampling.rejection cannot copy a discriminator of (x, z) pairs; set "
                    "model.sampling.rejection.discriminator to a network of x alone"
                )
            self.net = copy.deepcopy(discriminator).requires_grad_(True)

    def is_fitted_for(self, version: int) -> bool:
        return int(self.fitted_for) == int(version)

    def fit(
        self,
        real: Iterable,
        propose: Callable[[int, torch.Generator], torch.Tensor],
        version: int,
        source: nn.Module | None = None,
        steps: int | None = None,
    ) -> None:
        """Train the discriminator for ``steps`` updates on batches from ``real`` (an iterable
        of tensors or ``(x, ...)`` tuples, cycled) against ``propose(n, generator)``, then set
        ``log_m`` and ``gamma`` on a burn-in. ``source`` is the GAN's discriminator, copied
        first when ``discriminator=None``; ``steps`` overrides the configured count (a debug run
        fits for one)."""
        if self.net is None:
            raise ConfigError("DiscriminatorRejection has no discriminator; call init_from first")
        if self.copy_discriminator and source is not None:
            self.net.load_state_dict(source.state_dict())
        # Lightning tests under inference mode; fitting needs autograd
        with torch.inference_mode(False), torch.enable_grad():
            self._fit(real, propose, version, self.steps if steps is None else int(steps))

    def _fit(self, real, propose, version: int, steps: int) -> None:
        start = time.perf_counter()
        device = self.log_m.device
        g = torch.Generator(device=device).manual_seed(self.seed)
        opt = torch.optim.Adam(self.net.parameters(), lr=self.lr, betas=self.betas, fused=True)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps) if self.cosine else None
        was_training = self.net.training
        self.net.train()
        batches = _cycle(real)
        for _ in range(steps):
            x_real = next(batches)[: self.batch_size].to(device)
            with torch.no_grad():
                x_fake = propose(len(x_real), g)
            loss = (
                F.softplus(-self.net(x_real, None)).mean()
                + F.softplus(self.net(x_fake, None)).mean()
            )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
        self.net.train(was_training).requires_grad_(False)
        with torch.no_grad():
            logits = torch.cat(
                [
                    self.logits(propose(min(self.batch_size * 10, self.burn_in - i), g))
                    for i in range(0, self.burn_in, self.batch_size * 10)
                ]
            )
            self.log_m.fill_(logits.max())
            q = self.gamma_quantile
            gamma = (
                0.0 if q is None else torch.quantile(_f_values(logits, self.log_m, self.eps), q)
            )
            self.gamma.fill_(float(gamma))
            self.last_acceptance = float(self.accept_prob(logits).mean())
        self.fitted_for.fill_(int(version))
        log.info(
            "discriminator rejection sampling: fitted in %.1f s (%d steps, final loss %.3f), "
            "expected acceptance %.1f %%",
            time.perf_counter() - start,
            steps,
            float(loss.detach()),
            100 * self.last_acceptance,
        )

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        was_training = self.net.training
        self.net.eval()
        out = self.net(x, None).reshape(len(x))
        self.net.train(was_training)
        return out.float()

    def accept_prob(self, logits: torch.Tensor) -> torch.Tensor:
        return acceptance_probability(logits, float(self.log_m), float(self.gamma), self.eps)

    @torch.no_grad()
    def sample(
        self,
        n: int,
        propose: Callable[[int, torch.Generator | None], torch.Tensor],
        generator: torch.Generator | None = None,
        max_proposals: int | None = None,
    ) -> torch.Tensor:
        """``n`` accepted samples from proposals ``propose(m, generator)``."""
        if not self.is_fitted:
            raise ConfigError("the rejection sampler is not fitted; call fit first")
        max_proposals = max_proposals or max(100 * n, 100_000)
        out, drawn, accepted = [], 0, 0
        while accepted < n:
            if drawn >= max_proposals:
                raise RuntimeError(
                    f"discriminator rejection sampling accepted {accepted} of {drawn} proposals "
                    f"(needed {n}); lower model.sampling.rejection.gamma_quantile"
                )
            m = max(2 * (n - accepted), self.batch_size)
            x = propose(m, generator)
            u = torch.rand(m, device=x.device, generator=generator)
            keep = u < self.accept_prob(self.logits(x))
            out.append(x[keep])
            drawn, accepted = drawn + m, accepted + int(keep.sum())
        self.last_acceptance = accepted / drawn
        return torch.cat(out)[:n]

    @property
    def is_fitted(self) -> bool:
        return int(self.fitted_for) >= 0


def _cycle(batches: Iterable):
    while True:
        empty = True
        for b in batches:
            empty = False
            yield b[0] if isinstance(b, list | tuple) else b
        if empty:
            raise ConfigError("the real data for rejection sampling is empty")
