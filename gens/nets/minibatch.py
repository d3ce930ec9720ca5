"""Discriminator features computed across the minibatch, so D can see a collapsed batch.

- ``MinibatchDiscrimination``: Salimans et al. 2016 (Improved Techniques for Training GANs),
  Sec. 3.2. Features f(x_i) in R^A are multiplied by a tensor T in R^{A x B x C} to matrices
  M_i in R^{B x C}; c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1) (L1 over the C columns) and
  o(x_i)_b = sum_{j != i} c_b(x_i, x_j). The B values o(x_i) (plus a learned bias per kernel,
  as in the paper's code) are appended to f(x_i). ``data_init=True`` adds the code's
  data-dependent init: on the first training batch each kernel's scale is set so that half
  the mean nearest-neighbour L1 distance is 1 and the bias centres o. Off by default: on the
  2-D mixtures, whose real batches hold many near-duplicates (tight modes), it tunes every
  kernel to the within-mode distances and D wins at once (single-seed ring8 probes: 0 modes
  with it, 8 without, at 1 epoch with cosine decay from G 1e-3 / D 1e-4).
- ``MinibatchStdDev``: Karras et al. 2018 (Progressive Growing of GANs), Sec. 3: the standard
  deviation of every feature over a group of samples, averaged to one number, appended as one
  more feature (for images, one more constant channel).
- ``MinibatchDiscriminator``: wraps any discriminator that exposes ``features(x, y)``,
  ``feature_dim`` and a ``head`` (e.g. ``MLPDiscriminator``), appends the minibatch features to
  its penultimate features and judges them with a new linear head.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.distributed as dist
from hydra.utils import get_class
from torch import nn

from gens.utils.errors import ConfigError

__all__ = ["MinibatchDiscrimination", "MinibatchStdDev", "MinibatchDiscriminator"]


def _mean_over_ranks(t: torch.Tensor) -> torch.Tensor:
    """Average over DDP processes, so every rank initializes to the same parameters."""
    if dist.is_available() and dist.is_initialized():
        t = t.clone()
        dist.all_reduce(t)
        t /= dist.get_world_size()
    return t


class MinibatchDiscrimination(nn.Module):
    """``(N, A) -> (N, A + B)``: features followed by the B minibatch similarities o(x_i)."""

    def __init__(
        self, in_features: int, num_kernels: int = 50, kernel_dim: int = 5, data_init: bool = False
    ):
        super().__init__()
        self.in_features, self.num_kernels, self.kernel_dim = in_features, num_kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, num_kernels * kernel_dim) * 0.1)
        self.log_scale = nn.Parameter(torch.zeros(num_kernels))
        self.bias = nn.Parameter(torch.zeros(num_kernels))
        # checkpointed, so a resumed or loaded model is not initialized again; mirrored in a
        # Python flag so that forward never reads the tensor (a device sync on GPU)
        self.register_buffer("initialized", torch.tensor(not data_init))
        self._pending_init = bool(data_init)

    @property
    def out_features(self) -> int:
        return self.in_features + self.num_kernels

    def _l1(self, f: torch.Tensor) -> torch.Tensor:
        """(B, N, N): ||M_i,b - M_j,b||_1 with the per-kernel scale applied to M."""
        m = (f @ self.T).view(len(f), self.num_kernels, self.kernel_dim)  # M_i: (N, B, C)
        m = m * self.log_scale.exp()[:, None]
        m = m.transpose(0, 1)  # (B, N, C)
        return torch.cdist(m, m, p=1)

    @torch.no_grad()
    def _data_init(self, f: torch.Tensor) -> None:
        l1 = self._l1(f) + torch.eye(len(f), dtype=f.dtype, device=f.device) * 1e30
        half_min = _mean_over_ranks(0.5 * l1.min(dim=2).values.mean(dim=1))  # (B,)
        # a kernel that sees identical features (a collapsed batch) keeps its scale
        self.log_scale.sub_(torch.where(half_min > 0, half_min.clamp_min(1e-30).log(), 0.0))
        o = torch.exp(-self._l1(f)).sum(2).t() - 1.0
        self.bias.copy_(-_mean_over_ranks(o.mean(0)))
        self.initialized.fill_(True)
        self._pending_init = False

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self._pending_init = not bool(self.initialized)

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        if self._pending_init and self.training and len(f) > 1:
            self._data_init(f.detach())
        o = torch.exp(-self._l1(f)).sum(2).t() - 1.0  # (N, B); drop j = i, c_b(x_i, x_i) = 1
        return torch.cat([f, o + self.bias], dim=1)


class MinibatchStdDev(nn.Module):
    """Append the mean (over features) of the per-feature std over groups of ``group_size``
    samples: ``(N, A) -> (N, A + 1)``, ``(N, C, H, W) -> (N, C + 1, H, W)``.

    The batch must be a multiple of the group size (the whole batch when it is smaller)."""

    def __init__(self, group_size: int = 4, eps: float = 1e-8):
        super().__init__()
        if int(group_size) < 1:
            raise ConfigError(f"minibatch stddev group_size must be >= 1, got {group_size}")
        self.group_size, self.eps = int(group_size), float(eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(x)
        g = min(self.group_size, n)
        if n % g:
            raise ConfigError(
                f"minibatch stddev needs a batch divisible by group_size={g}, got {n}; "
                "change data.batch_size or the discriminator's group_size"
            )
        grouped = x.reshape(g, n // g, *x.shape[1:])  # sample i is in group i % (n // g)
        std = (grouped.var(dim=0, unbiased=False) + self.eps).sqrt()  # (n // g, ...)
        stat = std.reshape(n // g, -1).mean(1)  # one number per group
        stat = stat.repeat(g)  # back to (n,), sample i -> group i % (n // g)
        shape = (n, 1, *x.shape[2:])
        return torch.cat([x, stat.view(n, *([1] * (x.dim() - 1))).expand(shape)], dim=1)


class MinibatchDiscriminator(nn.Module):
    """A discriminator whose penultimate features get minibatch features appended.

    Args:
        data_shape, num_classes: the data description, passed to the inner network.
        kind: ``"mbd"`` (minibatch discrimination, Salimans et al. 2016) or ``"stddev"``
            (minibatch standard deviation, Karras et al. 2018).
        num_kernels, kernel_dim: B and C of the minibatch-discrimination tensor T.
        data_init: set the kernels' scales and biases from the first training batch.
        group_size: group size of the minibatch stddev.
        network: the inner discriminator, an import path (configs) or a factory
            ``(data_shape=, num_classes=, **network_kwargs) -> nn.Module`` whose result has
            ``features(x, y)`` and ``feature_dim`` (e.g. ``MLPDiscriminator``).
        **network_kwargs: the inner network's own arguments.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int | None = None,
        kind: str = "mbd",
        num_kernels: int = 50,
        kernel_dim: int = 5,
        group_size: int = 4,
        data_init: bool = False,
        network: str | Callable[..., nn.Module] = "gens.nets.MLPDiscriminator",
        **network_kwargs,
    ):
        super().__init__()
        factory = get_class(network) if isinstance(network, str) else network
        self.inner = factory(data_shape=data_shape, num_classes=num_classes, **network_kwargs)
        if not (hasattr(self.inner, "features") and hasattr(self.inner, "feature_dim")):
            raise ConfigError(
                f"{type(self.inner).__name__} has no features()/feature_dim for minibatch "
                "features; use a discriminator with a separate feature stack (MLPDiscriminator)"
            )
        dim = int(self.inner.feature_dim)
        if kind == "mbd":
            self.minibatch = MinibatchDiscrimination(
                dim, int(num_kernels), int(kernel_dim), bool(data_init)
            )
            out = self.minibatch.out_features
        elif kind == "stddev":
            self.minibatch = MinibatchStdDev(int(group_size))
            out = dim + 1
        else:
            raise ConfigError(
                f"minibatch discriminator kind must be 'mbd' or 'stddev', got {kind}"
            )
        self.kind = kind
        # The inner head is unused: the minibatch features change the head's input size.
        self.inner.head = nn.Identity()
        self.head = nn.Linear(out, 1)

    def features(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.minibatch(self.inner.features(x, y))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x, y)).squeeze(-1)
