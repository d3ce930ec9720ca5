"""A small convolutional classifier used as a domain feature extractor for FID / IS / KID.

FID (Heusel et al. 2017) and IS (Salimans et al. 2016) were defined on InceptionV3 features; on
small grayscale sets with no ImageNet weights at hand, a classifier trained on the data itself
plays Inception's role (as e.g. the MNIST "FID" of many GAN papers does). Its penultimate
activations are the FID/KID features and its logits feed IS.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ConvClassifier"]


class ConvClassifier(nn.Module):
    """Four 3x3 convolutions with batch norm (three of stride 2), global average pooling, a
    ``feature_dim`` ReLU layer (the features) and a linear layer to ``num_classes`` logits.

    Inputs are float images in [-1, 1] of shape ``(N, in_channels, resolution, resolution)``;
    other sizes are resized bilinearly first.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        resolution: int = 32,
        width: int = 32,
        feature_dim: int = 64,
        dropout: float = 0.2,
    ):
        super().__init__()
        self.in_channels, self.num_classes = int(in_channels), int(num_classes)
        self.resolution, self.feature_dim = int(resolution), int(feature_dim)
        w = int(width)

        def block(cin: int, cout: int, stride: int) -> list[nn.Module]:
            return [
                nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(),
            ]

        self.body = nn.Sequential(
            *block(in_channels, w // 2, 1),
            *block(w // 2, w, 2),
            *block(w, 2 * w, 2),
            *block(2 * w, 2 * w, 2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(2 * w, feature_dim),
            nn.ReLU(),
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(feature_dim, num_classes)

    def resize(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (self.resolution, self.resolution):
            x = F.interpolate(
                x, size=(self.resolution, self.resolution), mode="bilinear", antialias=True
            )
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.resize(x))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(features, logits)``."""
        f = self.features(x)
        return f, self.head(self.dropout(f))
