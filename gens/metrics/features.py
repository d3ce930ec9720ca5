"""Feature extractors for FID / IS / KID, usable by torchmetrics and by torch-fidelity.

An extractor maps images to two outputs: ``pool`` features (FID, KID; Heusel et al. 2017,
Binkowski et al. 2018) and class ``logits`` (IS; Salimans et al. 2016). It subclasses
torch-fidelity's ``FeatureExtractorBase``, so ``torch_fidelity.calculate_metrics`` accepts it
once registered, and ``head("pool")`` / ``head("logits")`` are the single-output modules that
torchmetrics' ``FrechetInceptionDistance(feature=...)`` and friends take.

Inputs are NCHW images, float in [-1, 1] (gens' data space) or uint8 in [0, 255] (what
torch-fidelity's data sets yield).

``ClassifierExtractor`` wraps a ``ConvClassifier`` trained by ``gens-train-classifier``;
the digits one ships in ``gens/assets/``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from torch import nn
from torch_fidelity.feature_extractor_base import FeatureExtractorBase

from gens.nets.classifier import ConvClassifier
from gens.utils.errors import CheckpointError, ConfigError

__all__ = [
    "ASSETS",
    "ClassifierExtractor",
    "FeatureExtractor",
    "FeatureHead",
    "file_digest",
    "to_unit_range",
]

ASSETS = Path(__file__).resolve().parents[1] / "assets"
OUTPUTS = ("pool", "logits")


def to_unit_range(x: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1]; float input is taken to be in [-1, 1] already."""
    if x.dtype == torch.uint8:
        return x.float() / 127.5 - 1.0
    return x.float()


def file_digest(path: str | Path, n: int = 12) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:n]


class FeatureExtractor(FeatureExtractorBase):
    """Base class: subclasses implement ``extract(x in [-1, 1]) -> (pool, logits)`` and set
    ``num_features`` (pool size) and ``digest`` (identifies the weights in cache keys)."""

    num_features: int = 0
    digest: str = ""

    def __init__(self, name: str, features_list=OUTPUTS):
        super().__init__(name, list(features_list))
        self._memo: tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]] | None = None

    @staticmethod
    def get_provided_features_list():
        return OUTPUTS

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return "logits" if metric == "isc" else "pool"

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return None

    def train(self, mode: bool = True):
        return super().train(False)  # always in evaluation mode

    def extract(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    @torch.no_grad()
    def both(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(pool, logits)`` of ``x``; a repeated call on the same tensor reuses the result, so
        FID, KID and IS fed the same batch run the network once."""
        if self._memo is not None and self._memo[0] is x:
            return self._memo[1]
        out = self.extract(to_unit_range(x))
        self._memo = (x, out)
        return out

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = dict(zip(OUTPUTS, self.both(x)))
        return tuple(out[k] for k in self.features_list)

    def head(self, which: str) -> FeatureHead:
        return FeatureHead(self, which)

    def forget(self) -> None:
        self._memo = None


class FeatureHead(nn.Module):
    """One output of a ``FeatureExtractor`` as a module: the ``feature=`` of torchmetrics.

    Returns float64 (KID's polynomial kernel is a difference of large sums). A 2-D input is
    taken to be features computed earlier (cached real statistics) and passed through.
    """

    def __init__(self, extractor: FeatureExtractor, which: str):
        super().__init__()
        if which not in OUTPUTS:
            raise ConfigError(f"feature head must be one of {OUTPUTS}, got {which!r}")
        self.extractor, self.which = extractor, which
        self.num_features = extractor.num_features if which == "pool" else extractor.num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            return x.double()
        return self.extractor.both(x)[OUTPUTS.index(self.which)].double()


class ClassifierExtractor(FeatureExtractor):
    """Features of a ``ConvClassifier`` saved by ``gens-train-classifier``.

    The file holds ``{"config": {...ConvClassifier args}, "state_dict": {...}}`` and is read
    with ``weights_only=True``. Images with 3 channels are averaged to gray for a 1-channel
    classifier (and gray ones repeated for a 3-channel one); other sizes are resized.
    """

    def __init__(self, name: str = "gens-digits", features_list=OUTPUTS, weights_path=None, **kw):
        super().__init__(name, features_list)
        # torch-fidelity passes its own keyword for the weights file
        path = weights_path or kw.get("feature_extractor_weights_path")
        path = Path(path) if path else ASSETS / "digits_classifier.pt"
        if not path.is_file():
            raise ConfigError(
                f"classifier weights not found: {path}; train them with "
                "`gens-train-classifier data=<set> out=<file>`"
            )
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
            self.net = ConvClassifier(**blob["config"])
            self.net.load_state_dict({k: v.float() for k, v in blob["state_dict"].items()})
        except Exception as e:
            raise CheckpointError(
                f"cannot read classifier weights {path}: {type(e).__name__}: "
                f"{str(e).splitlines()[0] if str(e) else ''} (corrupt or not written by "
                "gens-train-classifier)"
            ) from e
        self.path = path
        self.num_features = self.net.feature_dim
        self.num_classes = self.net.num_classes
        self.digest = file_digest(path)
        self.requires_grad_(False)
        self.eval()

    def extract(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.net.in_channels
        if x.shape[1] != c:
            if c == 1:
                x = x.mean(dim=1, keepdim=True)
            elif x.shape[1] == 1:
                x = x.expand(-1, c, -1, -1)
            else:
                raise ConfigError(
                    f"the {self.name} extractor takes {c}-channel images, got {x.shape[1]}"
                )
        return self.net(x.to(next(self.net.parameters()).device))
