"""Sample figures: a scatter plot over the data for 2-D sets, a histogram for 1-D sets, an image
grid for images. Written as PNG under ``dirpath`` and sent to the logger.

During training the figures show the model as validation sees it. ``final.png`` shows the
samples the test metrics score: the same call, seed and count as ``VectorMetrics`` at test
time (for images, ``n_images`` drawn the same way), through the model's whole sampling
pipeline. When that pipeline changes the samples (a GAN's truncation or rejection sampling),
the raw generator is drawn beside them, both panels labelled.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gens.callbacks.periodic import PeriodicFigure
from gens.callbacks.seeds import evaluation_samples
from gens.utils.logging import log_image
from gens.utils.plots import save_image_grid, save_sample_panels, save_samples_figure

__all__ = ["SamplePlot"]


class SamplePlot(PeriodicFigure):
    """Plot ``n`` samples (``n_images`` for images) every ``every_n_steps`` global steps, at the
    end of training, and after testing (``final.png``).

    During training, GANs draw images from their fixed evaluation noise (so frames are
    comparable across steps); other models and vector data use a generator seeded by ``seed``.
    """

    def __init__(
        self, dirpath: str, every_n_steps: int = 2000, n: int = 2500, n_images: int = 64, seed=0
    ):
        super().__init__(dirpath, every_n_steps)
        self.n, self.n_images, self.seed = int(n), int(n_images), int(seed)

    def _count(self, pl_module) -> int:
        return self.n_images if pl_module.is_image else self.n

    def _real(self, trainer, pl_module):
        dm = trainer.datamodule
        if not pl_module.is_image and dm is not None and "train" in getattr(dm, "splits", {}):
            return dm.splits["train"][0][: self.n]
        return None

    def plot(self, trainer, pl_module, tag: str) -> Path | None:
        if not trainer.is_global_zero:
            return None
        n = self._count(pl_module)
        fixed = getattr(pl_module, "fixed_z", None)
        path = self.dirpath / f"{tag}.png"
        conditional = getattr(pl_module, "conditional", False)
        if conditional and pl_module.is_image:
            per = max(1, n // pl_module.num_classes)
            y = torch.arange(pl_module.num_classes, device=pl_module.device)
            y = y.repeat_interleave(per)
            z = fixed[: len(y)] if fixed is not None and len(y) <= len(fixed) else None
            g = torch.Generator(device=pl_module.device).manual_seed(self.seed)
            x = pl_module.sample(len(y), y=y, z=z, generator=g)
            save_image_grid(x.cpu(), path, nrow=per)
            log_image(trainer, "samples", path)
            return path
        if fixed is not None and pl_module.is_image and n <= len(fixed):
            x = pl_module.sample(n, z=fixed[:n])
        else:
            g = torch.Generator(device=pl_module.device).manual_seed(self.seed)
            x = pl_module.sample(n, generator=g)
        real = self._real(trainer, pl_module)
        save_samples_figure(x.cpu(), path, real=real, title=f"step {trainer.global_step}")
        log_image(trainer, "samples", path)
        return path

    def on_test_epoch_end(self, trainer, pl_module) -> None:
        if not trainer.is_global_zero:
            return
        n = self._count(pl_module)
        x = evaluation_samples(trainer, pl_module, n, self.seed, "test").cpu()
        panels = [("samples (as scored by test/*)", x)]
        sampler = getattr(pl_module, "sampler", None)
        if sampler is not None and sampler.changes_samples(pl_module):
            raw = evaluation_samples(trainer, pl_module, n, self.seed, "test", raw=True).cpu()
            panels = [("sampled: " + sampler.describe(pl_module), x), ("raw generator", raw)]
        path = self.dirpath / "final.png"
        save_sample_panels(panels, path, real=self._real(trainer, pl_module))
        log_image(trainer, "samples/final", path)
        if hasattr(pl_module, "reconstruct"):
            self.plot_reconstructions(trainer, pl_module)

    def plot_reconstructions(self, trainer, pl_module) -> Path | None:
        """Held-out data x beside G(E(x)): images in row pairs (data above its
        reconstruction), vectors as two scatter panels over the data."""
        from gens.cli.common import split_tensors

        dm = trainer.datamodule
        if dm is None:
            return None
        x = split_tensors(dm, "test")[0]
        x = x[: 32 if pl_module.is_image else self.n].to(pl_module.device)
        rec = pl_module.reconstruct(x).cpu()
        x = x.cpu()
        path = self.dirpath / "reconstructions.png"
        if pl_module.is_image:
            rows = 8
            pairs = [
                t for i in range(0, len(x), rows) for t in (x[i : i + rows], rec[i : i + rows])
            ]
            save_image_grid(torch.cat(pairs), path, nrow=rows)
        else:
            save_sample_panels([("data x", x), ("G(E(x))", rec)], path, real=x)
        log_image(trainer, "samples/reconstructions", path)
        return path
