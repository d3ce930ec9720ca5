"""The flow training system: maximum likelihood with the change-of-variables formula.

    log p(x) = log N(f(x); 0, I) + log|det df/dx|          (Dinh et al. 2014, NICE, eq. 1)

``f`` is any :class:`~gens.flows.transforms.Transform` built by a ``_partial_`` factory
``transform(data_shape=, num_classes=)``; the base is a standard normal over every dimension
(``FlowModule``), so ``z`` has the shape of ``x``. Discrete data (images with ``num_levels``) is
dequantized and optionally logit-transformed (see :mod:`gens.flows.transforms.preprocess`), and
``log_prob`` then returns the dequantization bound on the log-probability of the discrete image,
so ``bits_per_dim`` is directly comparable to the bits/dim reported by RealNVP and Glow.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gens.flows.base import FlowModule
from gens.flows.transforms.base import Transform
from gens.flows.transforms.cnf import CNF
from gens.flows.transforms.preprocess import LogitTransform, UniformDequantization, to_levels
from gens.utils.errors import ConfigError

__all__ = ["FlowModel"]

# Rounds of redrawing base points that have no preimage, and candidates per missing point: a
# round costs about as much as the first whatever its size (an autoregressive inverse makes D
# passes), so each draws several candidates and keeps the first that has a preimage.
REDRAWS, CANDIDATES = 3, 4


class FlowModel(FlowModule):
    """A normalizing flow trained by maximum likelihood.

    Args:
        transform: factory ``(data_shape=, num_classes=) -> Transform`` mapping the (pre-
            processed) data to z (``num_classes`` is passed only when ``conditional``).
        optimizer: factory ``(params) -> Optimizer``; ``kwargs`` go to ``FlowModule``
            (``scheduler``, ``scheduler_interval``, ``max_grad_norm``, ``num_classes``,
            ``num_levels``).
        dequantization: ``uniform`` | ``variational`` | ``none``; used when the data is
            discrete (``num_levels`` set). ``dequantizer`` is the factory of the variational one
            ``(data_shape=) -> module(k, num_levels) -> (u, log q)``.
        logit_alpha: RealNVP's logit pre-processing of images in [0, 1]; ``null`` centers them
            at 0 instead (Glow).
        conditional: feed one-hot labels to the transform as ``context`` (class-conditional).
    """

    def __init__(
        self,
        transform: Callable[..., Transform],
        optimizer: Callable[..., torch.optim.Optimizer],
        *,
        data_shape,
        dequantization: str = "uniform",
        dequantizer: Callable[..., nn.Module] | None = None,
        logit_alpha: float | None = 0.05,
        conditional: bool = False,
        log_every_n_steps: int = 50,
        **kwargs: Any,
    ):
        super().__init__(data_shape, optimizer, **kwargs)
        if conditional and not self.num_classes:
            raise ConfigError(
                "model.conditional=true needs a labeled data set (data with num_classes); "
                "pick a labeled data= or set model.conditional=false"
            )
        if dequantization not in ("uniform", "variational", "none"):
            raise ConfigError(
                f"model.dequantization must be uniform, variational or none, got {dequantization}"
            )
        self.conditional = bool(conditional)
        self.discrete = self.is_image and self.num_levels is not None and dequantization != "none"
        kwargs = {"data_shape": self.data_shape}
        if self.conditional:
            kwargs["num_classes"] = self.num_classes
        self.transform = transform(**kwargs)
        if not isinstance(self.transform, Transform):
            raise ConfigError(
                f"model.transform built a {type(self.transform).__name__}, not a "
                "gens.flows.Transform; point it at a flow factory"
            )
        self.dequantizer: nn.Module | None = None
        if self.discrete:
            if dequantization == "variational":
                if dequantizer is None:
                    raise ConfigError(
                        "model.dequantization=variational needs model.dequantizer "
                        "(e.g. gens.flows.VariationalDequantization)"
                    )
                self.dequantizer = dequantizer(data_shape=self.data_shape)
            else:
                self.dequantizer = UniformDequantization()
        self.preprocess = LogitTransform(logit_alpha) if self.is_image else None
        self.log_every_n_steps = max(1, int(log_every_n_steps))

    # --- densities -----------------------------------------------------------------------
    def _context(self, y: torch.Tensor | None, n: int) -> torch.Tensor | None:
        if not self.conditional:
            return None
        if y is None:
            raise ConfigError("this flow is class-conditional: pass labels y")
        return F.one_hot(y.long(), self.num_classes).to(self.dtype)

    def flow_log_prob(self, h: torch.Tensor, context: torch.Tensor | None = None):
        """log density of the flow's own input ``h`` (after pre-processing)."""
        z, logdet = self.transform(h, context)
        return self.base_log_prob(z) + logdet

    def _to_flow_space(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Data -> flow input ``h`` and the log-density correction: log p(x) = log p(h) + c."""
        if self.preprocess is None:
            return x, x.new_zeros(len(x))
        if self.discrete:
            k = to_levels(x, self.num_levels)
            u, log_q = self.dequantizer(k, self.num_levels)
            correction = -log_q - self.dim * math.log(self.num_levels)
        else:  # continuous image in [-1, 1] -> u in [0, 1]
            u, correction = (x + 1) / 2, x.new_full((len(x),), -self.dim * math.log(2.0))
        h, ld = self.preprocess(u)
        return h, correction + ld

    def log_prob(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """log p(x) in nats per example. For discrete images: the (single-sample) dequantization
        lower bound on log P(x) of the discrete image; otherwise the exact log density."""
        if self.preprocess is None:  # vectors: no correction to allocate and add per call
            return self.flow_log_prob(x, self._context(y, len(x)))
        h, correction = self._to_flow_space(x)
        return self.flow_log_prob(h, self._context(y, len(x))) + correction

    def bits_per_dim(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """-log2 p(x) / D per example."""
        return -self.log_prob(x, y) / (self.dim * math.log(2.0))

    @torch.no_grad()
    def sample(
        self,
        n: int,
        y: torch.Tensor | None = None,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
        **kwargs: Any,
    ) -> torch.Tensor:
        """``n`` samples in data space; ``temperature`` scales the base std (Glow Sec. 5)."""
        if self.conditional and y is None:
            y = torch.randint(self.num_classes, (n,), device=self.device, generator=generator)
        context = self._context(y, n)
        h, _ = self.transform.inverse(self.base_sample(n, temperature, generator), context)
        # A flow with bounded layers (NAF's squeezed logit) has base points outside its image,
        # which its inverse returns as NaN: its density integrates to the base mass of that
        # image, and redrawing those points samples exactly that normalised density.
        for _ in range(REDRAWS):
            rows = (~torch.isfinite(h.flatten(1)).all(1)).nonzero().squeeze(1)
            if not len(rows):
                break
            z = self.base_sample(CANDIDATES * len(rows), temperature, generator)
            ctx = None if context is None else context[rows].repeat(CANDIDATES, 1)
            cand = self.transform.inverse(z, ctx)[0].unflatten(0, (CANDIDATES, len(rows)))
            ok = torch.isfinite(cand.flatten(2)).all(2)  # [candidate, row]
            first, found = ok.int().argmax(0), ok.any(0)
            h[rows[found]] = cand[first[found], found.nonzero().squeeze(1)]
        if self.preprocess is None:
            return h
        return (self.preprocess.inverse(h)[0] * 2 - 1).clamp(-1, 1)

    # --- training --------------------------------------------------------------------------
    def _nll(self, batch) -> torch.Tensor:
        x, y = batch
        return -self.log_prob(x, y if self.conditional else None)

    def training_step(self, batch, batch_idx):
        nll = self._nll(batch).mean()
        blocks = [m for m in self.transform.modules() if isinstance(m, CNF)]
        terms = [b.regularization for b in blocks if b.regularization is not None]
        reg = sum(terms[1:], terms[0]) if terms else None
        self.check_finite({"train/nll": nll} if reg is None else {"train/nll": nll, "reg": reg})
        if batch_idx % self.log_every_n_steps == 0:
            self.log("train/nll", nll, prog_bar=True)
            if self.is_image:
                self.log("train/bpd", nll / (self.dim * math.log(2.0)))
            if blocks:  # continuous flows: the solver's work, summed over blocks
                self.log("train/nfe", float(sum(b.nfe for b in blocks)))
            if reg is not None:
                self.log("train/ode_reg", reg)
        # Per-dimension loss: the same optimum, gradients of a size independent of D.
        loss = nll / self.dim
        return loss if reg is None else loss + reg

    def _eval_step(self, batch, split: str) -> None:
        nll = self._nll(batch)
        n = len(nll)
        self.log(f"{split}/nll", nll.mean(), on_epoch=True, batch_size=n, sync_dist=True)
        if self.is_image:
            bpd = nll.mean() / (self.dim * math.log(2.0))
            self.log(f"{split}/bpd", bpd, on_epoch=True, batch_size=n, sync_dist=True)

    def validation_step(self, batch, batch_idx):
        self._eval_step(batch, "val")

    def test_step(self, batch, batch_idx):
        self._eval_step(batch, "test")
