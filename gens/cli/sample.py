"""Sample a trained model: ``gens-sample ckpt_path=... n=1000 out=samples.npz``.

Writes the samples (``x``; ``y`` for conditional models; ``z`` for models with a latent) and a
PNG next to them: an image grid (one class per row for conditional models), or a scatter plot
/ histogram for vector data.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from gens.cli.common import app, integer, number, required
from gens.utils.errors import ConfigError

__all__ = ["sample", "main"]


def check(cfg: DictConfig) -> None:
    """Every option of ``sample.yaml``, before anything is loaded or written."""
    required(cfg, "ckpt_path", "<run dir>/checkpoints/last.ckpt")
    if not str(cfg.out).endswith(".npz"):
        raise ConfigError(f"out must end in .npz, got {cfg.out}; pass e.g. out=samples.npz")
    integer(cfg, "n", 1, example=1000)
    integer(cfg, "seed")
    integer(cfg, "batch_size", 1, example=500)
    integer(cfg, "grid", 1, example=64)
    integer(cfg, "label", 0, optional=True, example=3)
    number(cfg, "truncation", positive=True, optional=True)
    number(cfg, "temperature", positive=True, optional=True)


def save_class_rows(x, y, num_classes: int, grid: int, png: Path) -> None:
    """An image grid with one class per row, ``grid // num_classes`` samples each."""
    import torch

    from gens.utils.plots import save_image_grid

    per = max(1, grid // num_classes)
    rows = [torch.nonzero(y == c).flatten()[:per] for c in range(num_classes)]
    per = min(per, min(len(r) for r in rows))
    save_image_grid(x[torch.cat([r[:per] for r in rows])], png, nrow=per)


def sample(cfg: DictConfig) -> Path:
    check(cfg)
    # torch and Lightning load after the checks: a mistyped option fails in a second, not ten
    from gens.utils.checkpoint import fit_sampler, load_model
    from gens.utils.io import atomic_write_bytes
    from gens.utils.plots import save_samples_figure
    from gens.utils.sampling import draw

    out = Path(str(cfg.out))
    model = load_model(cfg.ckpt_path)
    if fit_sampler(model):  # e.g. rejection sampling, fitted to these weights on the run's data
        print("fitted the sampler to the checkpoint's weights on its run's training data")
    x, y, z = draw(
        model,
        int(cfg.n),
        seed=int(cfg.seed),
        batch_size=int(cfg.batch_size),
        label=cfg.label,
        truncation=cfg.truncation,
        temperature=cfg.temperature,
    )
    arrays = {"x": x.numpy().astype(np.float32)}
    if y is not None:
        arrays["y"] = y.numpy()
    if z is not None:
        arrays["z"] = z.numpy().astype(np.float32)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(out, buf.getvalue())
    png = out.with_suffix(".png")
    if x.dim() == 4 and y is not None and cfg.label is None:
        save_class_rows(x, y, int(model.num_classes), int(cfg.grid), png)
    else:
        shown = x[: int(cfg.grid)] if x.dim() == 4 else x
        save_samples_figure(shown, png, title=f"{type(model).__name__}: {len(x)} samples")
    print(f"wrote {len(x)} samples to {out} and {png}")
    return out


main = app("sample.yaml", sample)


if __name__ == "__main__":
    main()
