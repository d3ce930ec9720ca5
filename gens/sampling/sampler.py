"""The sampling pipeline of a GAN: what turns its trained generator into samples.

Four optional parts, applied in this order:

1. **weights**: an EMA copy of the generator (Karras et al. 2018; Yazici et al. 2019), updated
   after every generator step, or the training weights;
2. **standing statistics** (Brock et al. 2019, BigGAN): BatchNorm statistics recomputed for the
   weights being sampled, whenever they changed;
3. **latents**: N(0, I), truncated to [-t, t] (the truncation trick, BigGAN);
4. **rejection**: discriminator rejection sampling (Azadi et al. 2019), which keeps each sample
   with a probability set by a discriminator fitted to the final generator. It is fitted
   explicitly, ``fit(gan, real_batches)``, with the real data passed in.

``sample(..., raw=True)`` skips parts 3 and 4: the generator's own distribution, which the
sample plots draw beside the sampled one when these parts change it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn

from gens.sampling.ema import make_ema, update_ema
from gens.sampling.standing_stats import has_batch_norm, recompute_batch_norm_stats
from gens.sampling.truncation import truncate
from gens.utils.errors import ConfigError

__all__ = ["GeneratorSampler"]


class GeneratorSampler(nn.Module):
    """Args:
    generator: the GAN's generator (copied for the EMA; not held otherwise).
    discriminator: the GAN's discriminator (copied when the rejection sampler trains a copy).
    data_shape, num_classes: the data description (sizes the rejection discriminator).
    ema_decay: keep an EMA copy with this decay and sample from it; ``None`` disables it.
    ema_start: generator steps during which the EMA copy just follows the weights.
    standing_stats: noise batches for standing statistics; 0 keeps the running statistics.
    truncation: default truncation threshold; ``None`` samples N(0, I).
    rejection: factory ``(data_shape=, num_classes=) -> DiscriminatorRejection`` or ``None``.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        data_shape: Sequence[int],
        num_classes: int | None = None,
        ema_decay: float | None = None,
        ema_start: int = 0,
        standing_stats: int = 0,
        truncation: float | None = None,
        rejection: Callable[..., nn.Module] | None = None,
    ):
        super().__init__()
        if ema_decay is not None and not 0.0 <= float(ema_decay) < 1.0:
            raise ConfigError(
                f"model.sampling.ema_decay must be in [0, 1) or null, got {ema_decay}"
            )
        if int(standing_stats) < 0:
            raise ConfigError(f"model.sampling.standing_stats must be >= 0, got {standing_stats}")
        if truncation is not None and not float(truncation) > 0:
            raise ConfigError(f"model.sampling.truncation must be > 0 or null, got {truncation}")
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.ema_start = int(ema_start)
        self.standing_stats = int(standing_stats)
        self.truncation = None if truncation is None else float(truncation)
        self.ema = make_ema(generator) if self.ema_decay is not None else None
        self.rejection = None
        if rejection is not None:
            self.rejection = rejection(data_shape=tuple(data_shape), num_classes=num_classes)
            self.rejection.init_from(discriminator)
        self.stats_stale = True

    # --- training-time upkeep ------------------------------------------------------------
    def update(self, generator: nn.Module, g_steps: int) -> None:
        """After a generator step: move the EMA copy; the standing statistics are stale."""
        self.stats_stale = True
        if self.ema is not None:
            decay = self.ema_decay if g_steps > self.ema_start else 0.0
            update_ema(self.ema, generator, decay)

    def network(self, generator: nn.Module, use_ema: bool = True) -> nn.Module:
        return self.ema if use_ema and self.ema is not None else generator

    # --- rejection -----------------------------------------------------------------------
    @staticmethod
    def version(gan, use_ema: bool) -> int:
        """Which weights a rejection fit belongs to: the generator-step count and EMA flag."""
        return 2 * int(gan.g_steps) + int(use_ema)

    def fitted(self, gan, use_ema: bool = True) -> bool:
        return self.rejection is not None and self.rejection.is_fitted_for(
            self.version(gan, use_ema)
        )

    def fit(self, gan, real: Iterable, use_ema: bool = True, steps: int | None = None) -> None:
        """Fit the rejection sampler to the current weights on batches of real data."""
        if self.rejection is None:
            raise ConfigError("this GAN has no rejection sampler (model.sampling.rejection)")
        net = self.network(gan.generator, use_ema)
        self.rejection.fit(
            real,
            lambda m, g: self._generate(gan, net, gan.noise(m, g), None, 1000),
            self.version(gan, use_ema),
            source=gan.discriminator,
            steps=steps,
        )

    def _use_rejection(self, gan, rejection: bool | None, use_ema: bool) -> bool:
        if self.rejection is None:
            if rejection:
                raise ConfigError(
                    "sample(rejection=True) needs a rejection sampler; set "
                    "model.sampling.rejection (e.g. the one of configs/model/gan_r1.yaml)"
                )
            return False
        if rejection is False:
            return False
        if self.fitted(gan, use_ema):
            return True
        if rejection is None and gan.fitting:  # validation during training sees the generator
            return False
        raise ConfigError(
            "the rejection sampler is not fitted to these weights; call "
            "model.fit_sampler(<DataLoader of real data>) first, or sample(raw=True)"
        )

    # --- sampling ------------------------------------------------------------------------
    @torch.no_grad()
    def _generate(self, gan, net: nn.Module, z, y, batch_size: int) -> torch.Tensor:
        if self.standing_stats and self.stats_stale and has_batch_norm(net):
            recompute_batch_norm_stats(
                net,
                lambda n, g: (gan.noise(n, g), gan.random_labels(n, g)),
                self.standing_stats,
                500,
                device=gan.device,
            )
            self.stats_stale = False
        was_training = net.training
        net.eval()
        out = []
        for i in range(0, len(z), batch_size):
            yb = None if y is None else y[i : i + batch_size].to(gan.device)
            out.append(net(z[i : i + batch_size].to(gan.device), yb))
        net.train(was_training)
        return torch.cat(out).float()

    def changes_samples(self, gan, truncation: float | None = None) -> bool:
        """Whether truncation or rejection make samples differ from the generator's own."""
        t = self.truncation if truncation is None else truncation
        return t is not None or self.fitted(gan)

    def describe(self, gan, truncation: float | None = None) -> str:
        """What the pipeline does to the generator's samples, for figure labels."""
        t = self.truncation if truncation is None else truncation
        parts = [] if t is None else [f"truncation {t:g}"]
        if self.fitted(gan):
            acc = self.rejection.last_acceptance
            parts.append(f"rejection sampling (acceptance {100 * acc:.1f} %)")
        return ", ".join(parts) or "the generator"

    @torch.no_grad()
    def sample(self, gan, n, y, z, truncation, use_ema, generator, batch_size, rejection, raw):
        """The pipeline behind ``GAN.sample`` (see its arguments there)."""
        net = self.network(gan.generator, use_ema)
        t = None if raw else (self.truncation if truncation is None else float(truncation))
        if z is not None:  # each given latent maps to its own sample: no resampling
            if y is None and getattr(gan, "conditional", False):  # classes in turn
                y = torch.arange(len(z), device=z.device) % gan.num_classes
            return self._generate(gan, net, z, y, batch_size)

        def latents(m: int, g: torch.Generator | None) -> torch.Tensor:
            zz = gan.noise(m, g)
            return zz if t is None else truncate(zz, t, g)

        if not raw and self._use_rejection(gan, rejection, use_ema):
            propose = lambda m, g: self._generate(gan, net, latents(m, g), None, batch_size)  # noqa: E731
            return self.rejection.sample(n, propose, generator).float()
        zz = latents(n, generator)
        if y is None:
            y = gan.random_labels(n, generator)
        return self._generate(gan, net, zz, y, batch_size)

    def on_load_checkpoint(self) -> None:
        self.stats_stale = True
