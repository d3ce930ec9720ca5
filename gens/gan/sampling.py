"""The sampling side of a GAN LightningModule: its latent prior, labels, ``sample()`` through the
``gens.sampling.GeneratorSampler`` pipeline, and the explicit fit of that pipeline's rejection
sampler (``fit_sampler``). Mixed into ``gens.gan.GAN``, which sets ``latent_dim``,
``conditional``, ``generator`` and ``sampler``."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["GeneratorSampling"]


class GeneratorSampling:
    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, device=self.device, generator=generator)

    def random_labels(self, n: int, generator: torch.Generator | None = None):
        if not self.conditional:
            return None
        return torch.randint(0, self.num_classes, (n,), device=self.device, generator=generator)

    @property
    def generator_ema(self) -> nn.Module | None:
        return self.sampler.ema

    def sample(
        self,
        n: int,
        y: torch.Tensor | None = None,
        z: torch.Tensor | None = None,
        truncation: float | None = None,
        use_ema: bool = True,
        generator: torch.Generator | None = None,
        batch_size: int = 1000,
        rejection: bool | None = None,
        raw: bool = False,
    ) -> torch.Tensor:
        """``n`` samples in data space through the sampling pipeline (``GeneratorSampler``):
        labels are drawn uniformly if not given (with ``z`` given, classes in turn: 0, 1, ...);
        ``z`` maps each latent to its own sample;
        ``truncation`` overrides the configured threshold; ``use_ema=False`` samples the
        training weights; ``rejection=False`` or ``raw=True`` (no truncation either) skip
        rejection sampling, which is otherwise used once fitted (``fit_sampler``)."""
        return self.sampler.sample(
            self, n, y, z, truncation, use_ema, generator, batch_size, rejection, raw
        )

    def sampler_fit_needed(self) -> bool:
        return self.sampler.rejection is not None and not self.sampler.fitted(self)

    def fit_sampler(self, real_batches, use_ema: bool = True, steps: int | None = None) -> None:
        """Fit the rejection sampler (if configured) to the current weights on real data."""
        if self.sampler.rejection is not None:
            self.sampler.fit(self, real_batches, use_ema, steps)

    def on_load_checkpoint(self, checkpoint) -> None:
        super().on_load_checkpoint(checkpoint)
        self.sampler.on_load_checkpoint()
