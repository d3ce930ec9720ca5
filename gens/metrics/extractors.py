"""Choosing the feature extractor of the image metrics from a config value.

- ``digits``: the classifier shipped in ``gens/assets/digits_classifier.pt``;
- ``inception``: the standard InceptionV3 (``inception_weights=`` or the torch hub cache);
- a path to a ``.pt`` written by ``gens-train-classifier`` (e.g. an MNIST classifier);
- ``auto``: a classifier for the data set if one exists (``gens/assets/<set>_classifier.pt`` or
  ``<classifier_dir>/<set>_classifier.pt``), else InceptionV3 if its weights are on disk, else
  nothing (the metrics are skipped with a warning that says how to enable them);
- ``none``: no image metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gens.metrics.features import ASSETS, ClassifierExtractor, FeatureExtractor
from gens.metrics.inception import InceptionExtractor, hub_inception_path
from gens.utils.errors import ConfigError

__all__ = ["ExtractorChoice", "choose_extractor", "load_extractor"]


@dataclass(frozen=True)
class ExtractorChoice:
    kind: str  # "classifier" or "inception"
    name: str  # short name used in cache keys and logs
    path: Path | None


def _classifier_for(data_key: str | None, dirs: Sequence[str | Path]) -> Path | None:
    if not data_key:
        return None
    for d in (ASSETS, *dirs):
        p = Path(d) / f"{data_key}_classifier.pt"
        if p.is_file():
            return p
    return None


def choose_extractor(
    spec: str | None,
    data_key: str | None = None,
    classifier_dirs: Sequence[str | Path] = (),
    inception_weights: str | Path | None = None,
) -> tuple[ExtractorChoice | None, str]:
    """``(choice, reason)``; ``choice`` is ``None`` when no extractor applies (``reason`` says
    why and how to get one). Loads nothing."""
    spec = "none" if spec is None else str(spec)
    if spec == "none":
        return None, "image metrics are off (extractor=none)"
    if spec == "digits":
        return ExtractorChoice("classifier", "digits", ASSETS / "digits_classifier.pt"), ""
    if spec == "inception":
        path = Path(inception_weights) if inception_weights else None
        return ExtractorChoice("inception", "inception", path), ""
    if spec == "auto":
        found = _classifier_for(data_key, classifier_dirs)
        if found is not None:
            return ExtractorChoice("classifier", data_key, found), ""
        path = Path(inception_weights) if inception_weights else hub_inception_path()
        if path.is_file():
            return ExtractorChoice("inception", "inception", path), ""
        return None, (
            f"no feature extractor for data set '{data_key}': no {data_key}_classifier.pt "
            f"(train one with `gens-train-classifier data={data_key} publish=true`) and no "
            f"InceptionV3 weights at {path}; FID/IS/KID are skipped (set "
            "callbacks.image_metrics.extractor=inception to require them)"
        )
    if spec.endswith((".pt", ".pth")):
        return ExtractorChoice("classifier", Path(spec).stem, Path(spec)), ""
    raise ConfigError(
        f"unknown feature extractor '{spec}'; use auto, digits, inception, none or a path to a "
        "classifier .pt written by gens-train-classifier"
    )


def load_extractor(choice: ExtractorChoice, download: bool = True) -> FeatureExtractor:
    if choice.kind == "inception":
        return InceptionExtractor(weights_path=choice.path, download=download)
    return ClassifierExtractor(name=f"gens-{choice.name}", weights_path=choice.path)
