"""Multi-scale architecture with factored-out dimensions: Dinh et al. 2017 (RealNVP, Sec. 3.6)
and Glow's learned split prior (Kingma & Dhariwal 2018, the ``split2d`` of its code).

At each scale: ``before`` (at the current resolution), squeeze, ``after`` (at half resolution,
4x channels), then half of the channels are factored out and only the other half goes on to the
next scale (``inner``). The factored-out half ends as part of z directly, so z keeps x's shape
(the two halves are concatenated and unsqueezed back); as no layer after the split touches it,
its cost is the Gaussian base density, exactly the multi-scale likelihood.

Glow replaces the N(0, I) prior of the factored-out half h2 by N(mu(h1), sigma(h1)^2) learned
from the kept half h1. Written as the transform ``eps = (h2 - mu(h1)) / sigma(h1)``
(``LearnedSplitPrior``, log|det| = -sum log sigma), the base stays N(0, I), and sampling at a
temperature T scales eps, i.e. sigma, as in Glow.
"""

from __future__ import annotations

import torch

from gens.flows.transforms.base import Transform
from gens.flows.transforms.coupling import merge_context
from gens.flows.transforms.reshape import squeeze, unsqueeze
from gens.nets.coupling_nets import ZeroConv2d

__all__ = ["MultiScale", "LearnedSplitPrior"]


class LearnedSplitPrior(Transform):
    """On ``(N, C, H, W)``: channels ``[:keep]`` condition an affine standardization of the rest.

    mu and log sigma come from a zero-initialized conv3x3 of the kept channels (and context), so
    the prior starts as N(0, I).
    """

    def __init__(self, channels: int, keep: int, context_channels: int = 0):
        super().__init__()
        self.keep = int(keep)
        self.net = ZeroConv2d(self.keep + context_channels, 2 * (channels - self.keep))

    def _stats(self, h1, context):
        mu, log_sigma = self.net(merge_context(h1, context)).chunk(2, dim=1)
        return mu, log_sigma

    def forward(self, x, context=None):
        h1, h2 = x[:, : self.keep], x[:, self.keep :]
        mu, log_sigma = self._stats(h1, context)
        eps = (h2 - mu) * (-log_sigma).exp()
        return torch.cat([h1, eps], 1), -log_sigma.flatten(1).sum(1)

    def inverse(self, z, context=None):
        h1, eps = z[:, : self.keep], z[:, self.keep :]
        mu, log_sigma = self._stats(h1, context)
        h2 = mu + eps * log_sigma.exp()
        return torch.cat([h1, h2], 1), log_sigma.flatten(1).sum(1)


class MultiScale(Transform):
    """One scale: before -> squeeze -> after -> [split prior] -> split -> inner(kept half).

    ``keep`` is the number of channels (after squeezing) that go on to ``inner``; the others are
    factored out. ``split_prior`` (optional) acts on the squeezed tensor before the split.
    """

    def __init__(
        self,
        before: Transform | None,
        after: Transform | None,
        inner: Transform | None,
        keep: int,
        split_prior: Transform | None = None,
    ):
        super().__init__()
        self.before, self.after, self.inner = before, after, inner
        self.split_prior = split_prior
        self.keep = int(keep)

    def _steps(self):
        return [t for t in (self.after, self.split_prior) if t is not None]

    def forward(self, x, context=None):
        total = x.new_zeros(len(x))
        if self.before is not None:
            x, ld = self.before(x, context)
            total = total + ld
        h = squeeze(x)
        for t in self._steps():
            h, ld = t(h, context)
            total = total + ld
        h1, h2 = h[:, : self.keep], h[:, self.keep :]
        if self.inner is not None:
            h1, ld = self.inner(h1, context)
            total = total + ld
        return unsqueeze(torch.cat([h1, h2], 1)), total

    def inverse(self, z, context=None):
        total = z.new_zeros(len(z))
        h = squeeze(z)
        h1, h2 = h[:, : self.keep], h[:, self.keep :]
        if self.inner is not None:
            h1, ld = self.inner.inverse(h1, context)
            total = total + ld
        h = torch.cat([h1, h2], 1)
        for t in reversed(self._steps()):
            h, ld = t.inverse(h, context)
            total = total + ld
        x = unsqueeze(h)
        if self.before is not None:
            x, ld = self.before.inverse(x, context)
            total = total + ld
        return x, total
