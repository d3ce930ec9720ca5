"""FID, IS and KID of generated images, computed by torchmetrics with a gens feature extractor.

- FID: Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local
  Nash Equilibrium" (Frechet distance of Gaussians fitted to pool features).
- IS: Salimans et al. 2016, "Improved Techniques for Training GANs" (exp E KL(p(y|x) || p(y))).
- KID: Binkowski et al. 2018, "Demystifying MMD GANs" (unbiased MMD^2, cubic polynomial kernel,
  averaged over random subsets).

The statistics are torchmetrics'; this module only feeds them. Real features are passed as a
precomputed ``(N, D)`` matrix so they can be cached on disk (``gens.metrics.real_stats``);
random subsets (KID) and splits (IS) use a seeded RNG that leaves the global one untouched.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import torch
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.inception import InceptionScore
from torchmetrics.image.kid import KernelInceptionDistance

from gens.metrics.features import FeatureExtractor
from gens.utils.errors import ConfigError

__all__ = ["FidelityMetrics", "extract_features"]


@torch.no_grad()
def extract_features(
    extractor: FeatureExtractor, batches: Iterable[torch.Tensor], device=None
) -> torch.Tensor:
    """Pool features (float64, on CPU) of every image in ``batches``."""
    device = device or next(extractor.parameters()).device
    out = [extractor.both(x.to(device))[0].double().cpu() for x in batches]
    extractor.forget()
    return torch.cat(out)


class FidelityMetrics(nn.Module):
    """Accumulate generated images, then ``compute()`` -> ``{"fid", "is", "is_std", "kid",
    "kid_std"}`` against the real features given to ``set_real``.

    Args:
        extractor: a ``FeatureExtractor`` (pool features for FID/KID, logits for IS).
        kid_subsets, kid_subset_size: KID subsets (the subset size is capped at the number of
            samples, so small evaluations still work).
        is_splits: IS splits.
    """

    def __init__(
        self,
        extractor: FeatureExtractor,
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
        is_splits: int = 10,
    ):
        super().__init__()
        if int(kid_subsets) < 1 or int(kid_subset_size) < 2 or int(is_splits) < 1:
            raise ConfigError(
                "image metrics need kid_subsets >= 1, kid_subset_size >= 2 and is_splits >= 1"
            )
        self.extractor = extractor
        pool, logits = extractor.head("pool"), extractor.head("logits")
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
        self.fid = FrechetInceptionDistance(feature=pool, reset_real_features=False)
        self.kid = KernelInceptionDistance(
            feature=pool,
            subsets=int(kid_subsets),
            subset_size=int(kid_subset_size),
            reset_real_features=False,
        )
        self.isc = InceptionScore(feature=logits, splits=int(is_splits))
        self.kid_subset_size = int(kid_subset_size)
        self.n_real = 0
        self.n_fake = 0

    def set_real(self, features: torch.Tensor) -> None:
        """Use these pool features (``(N, D)``) as the real distribution."""
        if features.dim() != 2 or features.shape[1] != self.extractor.num_features:
            raise ConfigError(
                f"real features must be (N, {self.extractor.num_features}), "
                f"got {tuple(features.shape)}"
            )
        self.fid.reset_real_features = self.kid.reset_real_features = True
        self.fid.reset()
        self.kid.reset()
        self.fid.reset_real_features = self.kid.reset_real_features = False
        feats = features.to(self.fid.real_features_sum.device)
        self.fid.update(feats, real=True)
        self.kid.update(feats, real=True)
        self.n_real, self.n_fake = len(features), 0

    @torch.no_grad()
    def update(self, fake: torch.Tensor) -> None:
        """Add a batch of generated images (NCHW, float in [-1, 1] or uint8)."""
        fake = fake.to(self.fid.real_features_sum.device)
        self.fid.update(fake, real=False)  # the extractor runs once; KID and IS reuse it
        self.kid.update(fake, real=False)
        self.isc.update(fake)
        self.extractor.forget()
        self.n_fake += len(fake)

    def reset(self) -> None:
        """Drop the generated images; the real features stay."""
        self.fid.reset()
        self.kid.reset()
        self.isc.reset()
        self.n_fake = 0

    @torch.no_grad()
    def compute(self, seed: int = 0) -> dict[str, float]:
        if self.n_real < 2 or self.n_fake < 2:
            raise ConfigError(
                f"FID/KID need at least 2 real and 2 generated images (got {self.n_real} real, "
                f"{self.n_fake} generated)"
            )
        self.kid.subset_size = min(self.kid_subset_size, self.n_real, self.n_fake)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            fid = self.fid.compute()
            kid_mean, kid_std = self.kid.compute()
            with warnings.catch_warnings():  # std of a single split
                warnings.filterwarnings("ignore", message=".*degrees of freedom.*")
                is_mean, is_std = self.isc.compute()
        return {
            "fid": float(fid),
            "is": float(is_mean),
            "is_std": float(is_std),
            "kid": float(kid_mean),
            "kid_std": float(kid_std),
        }
