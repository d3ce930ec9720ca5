"""Normalization choices for convolutional nets and spectral normalization of weights.

- ``batch``: BatchNorm (Ioffe & Szegedy 2015), as in DCGAN;
- ``layer``: layer norm over (C, H, W) per example (Ba et al. 2016) as a one-group GroupNorm,
  the BatchNorm-free choice WGAN-GP recommends for critics;
- ``instance``: InstanceNorm with affine parameters;
- ``none``.

``apply_spectral_norm`` wraps every conv / linear weight with spectral normalization
(Miyato et al. 2018), the discriminator option SNGAN and BigGAN use.
"""

from __future__ import annotations

from torch import nn

from gens.utils.errors import ConfigError

__all__ = ["NORMS", "norm2d", "apply_spectral_norm"]

NORMS = ("batch", "layer", "instance", "none")


def norm2d(name: str, channels: int) -> nn.Module:
    if name == "batch":
        return nn.BatchNorm2d(channels)
    if name == "layer":
        return nn.GroupNorm(1, channels)
    if name == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if name in ("none", None):
        return nn.Identity()
    raise ConfigError(f"unknown norm '{name}'; choose one of {', '.join(NORMS)}")


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectrally normalize the weight of every Conv / ConvTranspose / Linear layer in place."""
    from torch.nn.utils.parametrizations import spectral_norm

    for m in list(module.modules()):
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            spectral_norm(m)
    return module
