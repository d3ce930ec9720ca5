"""The standard InceptionV3 of FID / IS / KID (Szegedy et al. 2016; the TF-ported weights that
torch-fidelity and torchmetrics use): 2048-d pool features and 1008 logits.

The weights are read from a configured file or the torch hub cache
(``$TORCH_HOME/hub/checkpoints/``). When they are missing and cannot be downloaded, the error
names the file to get and where to put it.
"""

from __future__ import annotations

import socket
from pathlib import Path

import torch
from torch_fidelity.feature_extractor_inceptionv3 import (
    URL_INCEPTION_V3,
    FeatureExtractorInceptionV3,
)

from gens.metrics.features import OUTPUTS, FeatureExtractor, file_digest
from gens.utils.errors import CheckpointError, DataError

__all__ = ["INCEPTION_FILE", "InceptionExtractor", "inception_weights", "hub_inception_path"]

INCEPTION_FILE = URL_INCEPTION_V3.rsplit("/", 1)[-1]


def hub_inception_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE


def _missing(where: Path, why: str) -> DataError:
    return DataError(
        f"InceptionV3 weights for FID/IS/KID are missing ({why}); get {INCEPTION_FILE} "
        f"(from {URL_INCEPTION_V3}) and put it at {where}, or point "
        "callbacks.image_metrics.inception_weights=<file> at a copy; on digits use "
        "extractor=digits, which needs no download"
    )


def inception_weights(path: str | Path | None = None, download: bool = True) -> Path:
    """The local InceptionV3 weights file: ``path`` if given, else the torch hub cache, which is
    filled from the network when ``download`` and a network allow it."""
    if path:
        path = Path(path)
        if not path.is_file():
            raise _missing(path, f"no file at {path}")
        return path
    target = hub_inception_path()
    if target.is_file():
        return target
    if not download:
        raise _missing(target, "not in the torch hub cache")
    target.parent.mkdir(parents=True, exist_ok=True)
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(20)
    try:
        torch.hub.download_url_to_file(URL_INCEPTION_V3, str(target), progress=False)
    except Exception as e:  # no network, proxy, HTTP error: all say the same to the user
        raise _missing(target, f"download failed: {type(e).__name__}") from None
    finally:
        socket.setdefaulttimeout(old)
    return target


class InceptionExtractor(FeatureExtractor):
    """torch-fidelity's InceptionV3 behind the gens extractor interface (gray images are
    repeated to 3 channels; images are resized to 299 inside the network)."""

    num_classes = 1008

    def __init__(self, name="gens-inception", features_list=OUTPUTS, weights_path=None, **kw):
        super().__init__(name, features_list)
        path = inception_weights(weights_path, download=kw.get("download", True))
        try:  # vet the file without executing code before torch-fidelity loads it
            torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:
            raise CheckpointError(
                f"cannot read InceptionV3 weights {path}: {type(e).__name__} (corrupt or not "
                f"{INCEPTION_FILE}); delete it and fetch it again"
            ) from e
        self.net = FeatureExtractorInceptionV3(
            "inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=path
        )
        self.num_features = 2048
        self.digest = file_digest(path)
        self.requires_grad_(False)
        self.eval()

    def extract(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u8 = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        if u8.shape[1] == 1:
            u8 = u8.expand(-1, 3, -1, -1)
        pool, logits = self.net(u8.to(next(self.net.parameters()).device))
        return pool, logits
