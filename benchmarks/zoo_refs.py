"""The report card's reference points: each data kind's floor (real held-out data, or the true
or a fitted density, scored the way a model is) and its chance level (uniform noise; the
untrained model comes from the rows' own runs), plus the digits classifier's view of images.

Classifier view (the two halves Inception Score mixes, Salimans et al. 2016): *sharpness* is
the mean max-probability of the shipped digits classifier on the samples, *coverage* the KL of
the histogram of its predicted classes from uniform (0 when every class is as frequent).
FID and IS are computed by the project's FID/IS code (Heusel et al. 2017) on the same
classifier's features, against every training image.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from gens.data import DigitsDataModule
from gens.data.energy import energy_u, log_partition
from gens.data.toy import sample_toy, toy_modes
from gens.metrics.extractors import choose_extractor, load_extractor
from gens.metrics.fidelity import FidelityMetrics, extract_features
from gens.metrics.modes import mode_metrics
from gens.metrics.real_stats import real_batches

__all__ = [
    "DigitsScorer",
    "binary_digits",
    "digits_levels",
    "energy_refs",
    "flow2d_refs",
    "mixture_refs",
]

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
N_2D = 2500  # the VEEGAN / PacGAN protocol's sample count


def mixture_refs(data: str, seeds: int = 3) -> dict[str, dict[str, float]]:
    """``floor``: real test points; ``noise``: uniform on the box holding every high-quality
    disk (the modes' bounding box widened by 3 std). Means over ``seeds`` draws."""
    means, std = toy_modes(data)
    means = torch.as_tensor(means, dtype=torch.float32)
    lo, hi = means.min(0).values - 3 * std, means.max(0).values + 3 * std
    floor, noise = [], []
    for s in range(seeds):
        floor.append(mode_metrics(sample_toy(data, N_2D, 10_000 + s)[0], means, std))
        u = torch.rand(N_2D, means.shape[1], generator=torch.Generator().manual_seed(s))
        noise.append(mode_metrics(lo + (hi - lo) * u, means, std))

    def avg(runs):
        out = {k: sum(r[k] for r in runs) / len(runs) for k in runs[0]}
        out["hq_recall"] = sum(r["hq"] * r["modes"] / len(means) for r in runs) / len(runs)
        return out

    return {"floor": avg(floor), "noise": avg(noise)}


def flow2d_refs(data: str) -> dict[str, dict[str, float]]:
    """Test NLL (nats) of ``floor``: the true density where it is known (checkerboard: uniform
    on 8 squares of side 2), else a 50-component Gaussian mixture fitted to 20,000 training
    points; ``noise``: uniform on the training points' bounding box."""
    from sklearn.mixture import GaussianMixture

    train = sample_toy(data, 20_000, 0)[0].double()
    test = sample_toy(data, N_2D, 10_000)[0].double()
    if data == "checkerboard":
        floor = math.log(8 * 4.0)
        how = "true density"
    else:
        gmm = GaussianMixture(50, covariance_type="full", random_state=0, max_iter=200)
        floor = -float(gmm.fit(train.numpy()).score(test.numpy()))
        how = "50-component Gaussian mixture fitted to the training points"
    lo, hi = train.min(0).values, train.max(0).values
    inside = ((test >= lo) & (test <= hi)).all(1).float().mean().item()
    noise = float(torch.log(hi - lo).sum()) if inside == 1.0 else math.inf
    return {"floor": {"nll": floor, "how": how}, "noise": {"nll": noise}}


def energy_refs(data: str, n: int = 20_000) -> dict[str, dict[str, float]]:
    """Reverse KL (nats) against the energy of ``configs/data/<data>.yaml``: ``floor`` 0 (the
    target itself; its log Z by quadrature); ``noise``, the flows' base N(0, I) before any
    layer moves it: ``E_q[log q + U] + log Z``."""
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(CONFIGS / "data" / f"{data}.yaml")
    name, bound = str(cfg.energy), cfg.get("bound", 4.0)
    base = torch.distributions.MultivariateNormal(torch.zeros(2), torch.eye(2))
    z = torch.randn(n, 2, generator=torch.Generator().manual_seed(0))
    kl = (base.log_prob(z) + energy_u(name, z, bound)).mean().item() + log_partition(name, bound)
    return {"floor": {"kl": 0.0}, "noise": {"kl": kl, "how": "the base N(0, I)"}}


def _digits() -> DigitsDataModule:
    dm = DigitsDataModule()
    dm.setup()
    return dm


def digits_levels() -> dict[str, dict[str, float]]:
    """Test bits/dim on the 17 gray levels (uniformly dequantized): ``floor``, a Gaussian with
    full covariance fitted to the dequantized training images (a reference a flow should
    beat); ``noise``, the uniform distribution over the levels (log2 17 bits/dim)."""
    dm = _digits()
    levels = dm.num_levels
    g = torch.Generator().manual_seed(0)

    def deq(x):  # [-1, 1] -> level units k + u
        k = torch.round((x.flatten(1).double() + 1) / 2 * (levels - 1))
        return k + torch.rand(k.shape, generator=g, dtype=torch.float64)

    train, test = deq(dm.splits["train"][0]), deq(dm.splits["test"][0])
    mu = train.mean(0)
    cov = torch.cov(train.T) + 1e-6 * torch.eye(train.shape[1], dtype=torch.float64)
    gauss = torch.distributions.MultivariateNormal(mu, covariance_matrix=cov)
    d = train.shape[1]
    bpd = -gauss.log_prob(test).mean().item() / (d * math.log(2))
    return {"floor": {"bpd": bpd}, "noise": {"bpd": math.log2(levels)}}


def binary_digits() -> dict[str, dict[str, float]]:
    """Test NLL (nats) of the binarized digits (pixels > 0, as the flow VAE sees them):
    ``floor``, independent pixels with their training frequencies (a reference: a model of the
    images must beat the pixel marginals); ``noise``, fair coins (D log 2)."""
    dm = _digits()
    train = (dm.splits["train"][0].flatten(1) > 0).double()
    test = (dm.splits["test"][0].flatten(1) > 0).double()
    p = ((train.sum(0) + 1) / (len(train) + 2)).clamp(1e-6, 1 - 1e-6)
    ll = test * p.log() + (1 - test) * (1 - p).log()
    return {
        "floor": {"nll": -ll.sum(1).mean().item()},
        "noise": {"nll": train.shape[1] * math.log(2)},
    }


class DigitsScorer:
    """FID, IS, sharpness and coverage of images on the digits classifier's features, against
    every training image; ``refs()`` scores real held-out images and uniform noise."""

    def __init__(self):
        self.dm = _digits()
        choice, _ = choose_extractor("digits")
        self.ex = load_extractor(choice)
        self.metrics = FidelityMetrics(self.ex, kid_subsets=10, kid_subset_size=500)
        self.metrics.set_real(extract_features(self.ex, real_batches(self.dm, "train", 10_000)))

    @torch.no_grad()
    def score(self, x: torch.Tensor) -> dict[str, float]:
        self.metrics.reset()
        probs = []
        for i in range(0, len(x), 500):
            b = x[i : i + 500].float().clamp(-1, 1)
            probs.append(self.ex.both(b)[1].softmax(1))
            self.metrics.update(b)  # reuses the features just computed
        m = self.metrics.compute(seed=0)
        p = torch.cat(probs)
        hist = p.argmax(1).bincount(minlength=p.shape[1]).double() / len(p)
        nz = hist[hist > 0]
        cover = float((nz * (nz * p.shape[1]).log()).sum())
        return {
            "fid": m["fid"],
            "is": m["is"],
            "sharpness": float(p.max(1).values.mean()),
            "coverage_kl": cover,
        }

    def refs(self, n_noise: int = 1000) -> dict[str, dict[str, float]]:
        """``floor``: the 500 held-out images (validation and test); ``noise``: ``n_noise``
        uniform images in [-1, 1]."""
        held = torch.cat([self.dm.splits["val"][0], self.dm.splits["test"][0]])
        g = torch.Generator().manual_seed(0)
        noise = torch.rand((n_noise, *held.shape[1:]), generator=g) * 2 - 1
        return {"floor": self.score(held), "noise": self.score(noise)}
