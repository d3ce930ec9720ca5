"""DCGAN networks: Radford, Metz & Chintala 2015, Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks.

The paper's architecture guidelines: strided convolutions in D and fractionally-strided
convolutions in G instead of pooling; no fully connected hidden layers (G's first layer is a
matrix multiplication reshaped to a 4-D tensor, D's last conv is flattened into one output);
BatchNorm in both, except on G's output and D's input; ReLU in G with a tanh output; LeakyReLU
(slope 0.2) in D. Weights start from N(0, 0.02).

Depth adapts to the data: sides are halved while they stay even and >= 4, giving the base
resolution (4x4 for 16, 32, 64, 128 px; 7x7 for MNIST's 28 px) and the number of 2x stages.
Channels double at each stage towards the base, as in the paper's 64 -> 1024 stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import torch
from torch import nn

from gens.nets.mlp import with_label
from gens.nets.norm import NORMS, apply_spectral_norm, norm2d
from gens.utils.errors import ConfigError, IncompatibleDataError

__all__ = ["DCGANGenerator", "DCGANDiscriminator", "conv_stages", "dcgan_init"]


def conv_stages(data_shape: Sequence[int], min_base: int = 4, model: str = "DCGAN"):
    """``(num_stages, (h0, w0))``: how many 2x stages lead from ``(h0, w0)`` to the image."""
    if len(data_shape) != 3:
        raise IncompatibleDataError(
            f"{model} networks need image data (C, H, W), got data of shape {tuple(data_shape)}; "
            "pick an image data= (e.g. digits, mnist, cifar10) or a model for vectors (e.g. gan)"
        )
    _, h, w = data_shape
    k = 0
    while h % 2 == 0 and w % 2 == 0 and h // 2 >= min_base and w // 2 >= min_base:
        h, w, k = h // 2, w // 2, k + 1
    if k == 0:
        raise IncompatibleDataError(
            f"{model} networks need image sides that halve at least once to >= {min_base} px, "
            f"got {tuple(data_shape[1:])}; resize the images (data.image_size=32)"
        )
    return k, (h, w)


def dcgan_init(module: nn.Module, std: float = 0.02) -> None:
    """The paper's initialization: N(0, 0.02) weights; BatchNorm scales N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d | nn.GroupNorm) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


def _widths(base: int, k: int, cap: int) -> list[int]:
    """Channel widths from the image side (``base``) to the deepest stage, doubling."""
    return [min(base * 2**i, cap) for i in range(k)]


class DCGANGenerator(nn.Module):
    """z (+ one-hot label) -> projection to ``(C0, h0, w0)`` -> ``k`` fractionally-strided
    4x4 convs (stride 2) with BatchNorm + ReLU -> tanh image.

    Args:
        width: channels of the last hidden stage (the paper's 64 for 64 px: 1024-512-256-128).
        max_width: cap on channels at the deepest stage.
        norm: ``batch`` (the paper) or another of ``NORMS``.
    """

    def __init__(
        self,
        latent_dim: int,
        data_shape: Sequence[int],
        num_classes: int | None = None,
        width: int = 64,
        max_width: int = 1024,
        norm: str = "batch",
        init_std: float | None = 0.02,
    ):
        super().__init__()
        k, (h0, w0) = conv_stages(data_shape)
        if norm not in NORMS:
            raise ConfigError(f"unknown norm '{norm}'; choose one of {', '.join(NORMS)}")
        self.latent_dim, self.data_shape = int(latent_dim), tuple(int(s) for s in data_shape)
        self.num_classes = num_classes
        widths = _widths(int(width), k, int(max_width))[::-1]  # deepest first
        self.base = (widths[0], h0, w0)
        in_dim = self.latent_dim + (num_classes or 0)
        # "Just a matrix multiplication, reshaped into a 4-dimensional tensor" (Sec. 3).
        self.project = nn.Linear(in_dim, prod(self.base), bias=norm == "none")
        self.project_act = nn.Sequential(norm2d(norm, widths[0]), nn.ReLU(True))
        layers: list[nn.Module] = []
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [
                nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=norm == "none"),
                norm2d(norm, c_out),
                nn.ReLU(True),
            ]
        layers += [nn.ConvTranspose2d(widths[-1], self.data_shape[0], 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)
        if init_std:
            dcgan_init(self, float(init_std))

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        z = with_label(z, y, self.num_classes)
        h = self.project_act(self.project(z).view(len(z), *self.base))
        return self.body(h)


class DCGANDiscriminator(nn.Module):
    """Image (+ one-hot label planes) -> ``k`` strided 4x4 convs with LeakyReLU(0.2) (no norm on
    the first) -> flatten -> one logit (critic value for Wasserstein losses).

    Args:
        width: channels of the first conv (doubling per stage, capped at ``max_width``).
        norm: ``batch`` (DCGAN), ``layer`` or ``none`` (critics with a gradient penalty must not
            use BatchNorm: the penalty is per example), or ``instance``.
        spectral_norm: spectrally normalize every conv / linear weight (Miyato et al. 2018).
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int | None = None,
        width: int = 64,
        max_width: int = 1024,
        norm: str = "batch",
        spectral_norm: bool = False,
        init_std: float | None = 0.02,
    ):
        super().__init__()
        k, (h0, w0) = conv_stages(data_shape)
        if norm not in NORMS:
            raise ConfigError(f"unknown norm '{norm}'; choose one of {', '.join(NORMS)}")
        self.data_shape = tuple(int(s) for s in data_shape)
        self.num_classes = num_classes
        widths = _widths(int(width), k, int(max_width))
        c_in = self.data_shape[0] + (num_classes or 0)
        layers: list[nn.Module] = []
        for i, c_out in enumerate(widths):
            use_norm = i > 0 and norm != "none"
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not use_norm)]
            if use_norm:
                layers.append(norm2d(norm, c_out))
            layers.append(nn.LeakyReLU(0.2, True))
            c_in = c_out
        self.body = nn.Sequential(*layers)
        self.feature_dim = widths[-1] * h0 * w0
        self.head = nn.Linear(self.feature_dim, 1)
        if init_std:
            dcgan_init(self, float(init_std))
        if spectral_norm:
            apply_spectral_norm(self)

    def features(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes:
            planes = nn.functional.one_hot(y, self.num_classes).to(x.dtype)
            planes = planes[:, :, None, None].expand(-1, -1, *x.shape[2:])
            x = torch.cat([x, planes], 1)
        return self.body(x).flatten(1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x, y)).squeeze(-1)
