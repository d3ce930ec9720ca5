"""Drawing samples from a loaded model for the scripts: seeded, batched, with the options the
model's ``sample`` supports (``truncation`` for GANs, ``temperature`` for flows), keeping the
latents when the model has them."""

from __future__ import annotations

import inspect

import torch

from gens.sampling.truncation import truncate
from gens.utils.errors import ConfigError

__all__ = ["draw", "has_latent", "labels_for", "sample_options"]


def sample_options(model, **options) -> dict:
    """The non-null ``options`` after checking that ``model.sample`` takes them."""
    params = inspect.signature(model.sample).parameters
    out = {}
    for name, value in options.items():
        if value is None:
            continue
        if name not in params:
            raise ConfigError(
                f"{type(model).__name__} does not support {name}= (its sample() takes "
                f"{', '.join(p for p in params if p not in ('n', 'kwargs'))}); drop the option"
            )
        out[name] = value
    return out


def has_latent(model) -> bool:
    return hasattr(model, "latent_dim") and "z" in inspect.signature(model.sample).parameters


def labels_for(model, n: int, label: int | None = None) -> torch.Tensor | None:
    """Labels for a conditional model: ``label`` for all, else classes in turn (balanced)."""
    if not getattr(model, "conditional", False):
        if label is not None:
            raise ConfigError(f"label={label} needs a conditional model; this one is not")
        return None
    k = int(model.num_classes)
    if label is not None and not 0 <= int(label) < k:
        raise ConfigError(f"label must be in 0..{k - 1}, got {label}")
    y = torch.full((n,), int(label)) if label is not None else torch.arange(n) % k
    return y.to(model.device)


@torch.no_grad()
def draw(model, n: int, seed: int = 0, batch_size: int = 500, label=None, **options):
    """``(x, y, z)``: ``n`` samples (CPU), labels (or ``None``) and latents (or ``None``)."""
    if int(n) < 1:
        raise ConfigError(f"n must be >= 1, got {n}")
    opts = sample_options(model, **options)
    g = torch.Generator(device=model.device).manual_seed(int(seed))
    y = labels_for(model, n, label)
    z = None
    # a rejection sampler draws its own latents (it keeps only some): no z to return then
    sampler = getattr(model, "sampler", None)
    if has_latent(model) and getattr(sampler, "rejection", None) is None:
        z = model.noise(n, generator=g)
        t = opts.pop("truncation", None)
        t = getattr(sampler, "truncation", None) if t is None else t
        if t is not None:
            z = truncate(z, float(t), g)
    xs = []
    for i in range(0, n, batch_size):
        m = min(batch_size, n - i)
        yb = None if y is None else y[i : i + m]
        if z is not None:
            xs.append(model.sample(m, y=yb, z=z[i : i + m], **opts).cpu())
        else:
            kw = {"y": yb} if yb is not None else {}
            xs.append(model.sample(m, generator=g, **kw, **opts).cpu())
    return torch.cat(xs), (None if y is None else y.cpu()), (None if z is None else z.cpu())
