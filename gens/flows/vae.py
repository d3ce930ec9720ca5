"""A VAE whose posterior is refined by a normalizing flow: DLGM + NF (Rezende & Mohamed 2015,
Sec. 4 and 6.2); also the setting of Sylvester flows (van den Berg et al. 2018) and IAF
(Kingma et al. 2016).

Encoder ``x -> (mu, log sigma^2, h)``; ``z_0 = mu + sigma * eps``; ``z_K = f_K o ... o f_1(z_0)``
with every layer's parameters produced from ``h`` (amortized: ``context_dim = |h|``); decoder
``z_K -> Bernoulli logits`` on binarized pixels. The bound (their eq. 20) is
``ELBO = E_q0[log p(x | z_K) + log p(z_K) - log q_0(z_0) + sum_k log|det df_k/dz_{k-1}|]``, and
``-ELBO`` is reported with the importance-sampled NLL
``-log (1/S) sum_s p(x, z_K^s) / q_K(z_K^s | x)`` (Burda et al. 2016), both in nats.

``num_layers = 0`` is the plain VAE (diagonal Gaussian posterior). Data: any data set with
discrete levels (``num_levels``), e.g. ``digits``; pixels are binarized at the middle level
(fixed threshold, so train and test see the same binary images).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.nn import functional as F

from gens.flows.base import FlowModule
from gens.nets.mlp import mlp
from gens.utils.errors import ConfigError, IncompatibleDataError

__all__ = ["FlowVAE"]

LOG_2PI = math.log(2 * math.pi)


class FlowVAE(FlowModule):
    """Args:
    latent_dim: size of z.
    hidden: widths of the encoder's and (reversed) decoder's hidden layers.
    transform: factory ``transform(data_shape=(latent_dim,), context_dim=) -> Transform``,
        e.g. ``gens.flows.planar_flow`` with ``num_layers`` = k.
    warmup_steps: the KL terms are scaled by ``min(1, step / warmup_steps)`` in training
        (deterministic warm-up, as in van den Berg et al.); 0 disables. Metrics always use 1.
    iw_samples: importance samples per example for the test NLL (``val`` uses a tenth).
    optimizer: factory ``(params) -> Optimizer``; ``kwargs`` go to ``FlowModule``
        (``scheduler``, ``scheduler_interval``, ``max_grad_norm``, ``num_classes``,
        ``num_levels``). The base density is the prior N(0, I) on z.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        transform: Callable,
        optimizer: Callable,
        latent_dim: int = 8,
        hidden: Sequence[int] = (256, 256),
        act: str = "relu",
        warmup_steps: int = 0,
        iw_samples: int = 500,
        **kwargs: Any,
    ):
        super().__init__(data_shape, optimizer, base_shape=(int(latent_dim),), **kwargs)
        if self.num_levels is None:
            raise IncompatibleDataError(
                "FlowVAE models binarized pixels and needs discrete data (num_levels), "
                "e.g. data=digits; continuous toy sets are not supported"
            )
        if int(latent_dim) < 1 or int(iw_samples) < 1 or int(warmup_steps) < 0:
            raise ConfigError(
                "model.latent_dim and model.iw_samples must be >= 1, model.warmup_steps >= 0"
            )
        self.latent_dim, self.warmup_steps = int(latent_dim), int(warmup_steps)
        self.iw_samples = int(iw_samples)
        hidden = [int(h) for h in hidden]
        self.encoder = mlp([self.dim, *hidden], act)
        self.to_gauss = torch.nn.Linear(hidden[-1], 2 * self.latent_dim)
        self.flow = transform(data_shape=(self.latent_dim,), context_dim=hidden[-1])
        self.decoder = torch.nn.Sequential(
            mlp([self.latent_dim, *hidden[::-1]], act), torch.nn.Linear(hidden[0], self.dim)
        )

    # --- model ---------------------------------------------------------------------------------
    def binarize(self, x: torch.Tensor) -> torch.Tensor:
        return (x.reshape(len(x), self.dim) > 0).to(x.dtype)

    def posterior(self, xb: torch.Tensor, samples: int = 1):
        """``samples`` draws ``z_K`` per example (``[samples * N, L]``) with ``log q_K(z_K | x)``
        and the context, repeated to match (sample-major order)."""
        h = self.encoder(xb)
        mu, log_var = self.to_gauss(h).chunk(2, dim=1)
        mu, log_var, h = (t.repeat(samples, 1) for t in (mu, log_var, h))
        eps = torch.randn_like(mu)
        z0 = mu + torch.exp(0.5 * log_var) * eps
        log_q0 = -0.5 * (eps.square() + log_var + LOG_2PI).sum(1)
        zk, logdet = self.flow.inverse(z0, h)
        return zk, log_q0 - logdet

    def log_joint(self, xb: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """``log p(x | z) + log p(z)``; ``xb`` repeated to match ``z``."""
        logits = self.decoder(z)
        log_px = -F.binary_cross_entropy_with_logits(logits, xb, reduction="none").sum(1)
        return log_px, self.base_log_prob(z)

    def elbo(self, x: torch.Tensor, kl_weight: float = 1.0) -> torch.Tensor:
        xb = self.binarize(x)
        z, log_q = self.posterior(xb)
        log_px, log_pz = self.log_joint(xb, z)
        return log_px + kl_weight * (log_pz - log_q)

    @torch.no_grad()
    def iw_nll(self, x: torch.Tensor, samples: int, chunk: int = 100) -> torch.Tensor:
        """Importance-sampled ``-log p(x)`` per example with ``samples`` draws from ``q_K``."""
        xb = self.binarize(x)
        logs = []
        for start in range(0, samples, chunk):
            s = min(chunk, samples - start)
            z, log_q = self.posterior(xb, s)
            log_px, log_pz = self.log_joint(xb.repeat(s, 1), z)
            logs.append((log_px + log_pz - log_q).view(s, len(x)))
        return -(torch.logsumexp(torch.cat(logs), 0) - math.log(samples))

    @torch.no_grad()
    def sample(self, n: int, y=None, generator=None, temperature: float = 1.0, **kwargs):
        """Decoder means (pixel probabilities mapped to [-1, 1]) for ``z ~ N(0, T^2 I)``."""
        z = self.base_sample(n, temperature, generator)
        p = torch.sigmoid(self.decoder(z))
        return (2 * p - 1).view(n, *self.data_shape)

    # --- training ------------------------------------------------------------------------------
    def kl_weight(self) -> float:
        return 1.0 if not self.warmup_steps else min(1.0, self.global_step / self.warmup_steps)

    def training_step(self, batch, batch_idx):
        loss = -self.elbo(batch[0], self.kl_weight()).mean()
        self.check_finite({"train/loss": loss})
        self.log_dict({"train/loss": loss, "train/kl_weight": self.kl_weight()}, prog_bar=True)
        return loss

    def _eval(self, batch, split: str, samples: int) -> None:
        x = batch[0]
        n = len(x)
        neg_elbo = -self.elbo(x).mean()
        nll = self.iw_nll(x, samples).mean()
        self.log_dict({f"{split}/neg_elbo": neg_elbo, f"{split}/nll": nll}, batch_size=n)

    def validation_step(self, batch, batch_idx):
        self._eval(batch, "val", max(1, self.iw_samples // 10))

    def test_step(self, batch, batch_idx):
        self._eval(batch, "test", self.iw_samples)
