"""Held-out losses of a GAN: the discriminator's objective on validation / test data against
fresh samples, logged as ``val/...`` and ``test/...`` (sample-based metrics such as FID or
mode coverage come from callbacks). Mixed into ``gens.gan.GAN``; subclasses with their own
objective override ``eval_losses``."""

from __future__ import annotations

import torch

from gens.gan.losses import d_wasserstein

__all__ = ["HeldOutLosses"]


class HeldOutLosses:
    def validation_step(self, batch, batch_idx):
        """Held-out discriminator losses; sample-based metrics come from callbacks."""
        self._log_eval(batch, batch_idx, "val")

    def test_step(self, batch, batch_idx):
        self._log_eval(batch, batch_idx, "test")

    @torch.no_grad()
    def eval_losses(self, real, y, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """The D objective on held-out data against fresh samples (for Wasserstein critics,
        ``wdist`` = -loss estimates the distance, the curve Arjovsky et al. 2017 track)."""
        y = y if self.conditional else None
        fake = self.generator(self.noise(len(real), generator), self._gen_labels(y))
        d_loss = self.d_loss_fn(self.discriminator(real, y), self.discriminator(fake, y))
        out = {"d_loss": d_loss}
        if self.d_loss_fn is d_wasserstein:
            out["wdist"] = -d_loss
        return out

    def _log_eval(self, batch, batch_idx, prefix: str) -> None:
        # A seeded generator: evaluation must not move the training RNG.
        g = torch.Generator(device=self.device).manual_seed(10_000 + batch_idx)
        losses = self.eval_losses(batch[0], batch[1], g)
        self.log_dict(
            {f"{prefix}/{k}": v.float() for k, v in losses.items()},
            on_epoch=True,
            batch_size=len(batch[0]),
        )
