"""Latent walks and latent vector arithmetic of a trained generator, as PNG grids.

Linear and spherical (slerp) interpolation between random or given latents, and
``mean(z[a]) - mean(z[b]) + mean(z[c])`` as in DCGAN (Radford et al. 2016, Sec. 6.3).
``gens-interpolate ckpt_path=... [latents=samples.npz] [pairs=[[0,5]]]
[+arithmetic.a=[1,4] +arithmetic.b=[2] +arithmetic.c=[7]]``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, ListConfig

from gens.cli.common import app, index_list, integer, required
from gens.utils.checkpoint import load_model
from gens.utils.errors import ConfigError, DataError
from gens.utils.latent import arithmetic, walk
from gens.utils.plots import save_image_grid
from gens.utils.sampling import has_latent, labels_for

__all__ = ["interpolate", "main"]

MODES = {"both": ["linear", "slerp"], "linear": ["linear"], "slerp": ["slerp"]}
PAIRS_EXAMPLE = "pairs=[[0,5],[3,9]]"
ARITHMETIC_EXAMPLE = "+arithmetic.a=[1,4] +arithmetic.b=[2] +arithmetic.c=[7]"


def check(cfg: DictConfig) -> tuple[list[list[int]] | None, dict[str, list[int]] | None]:
    """Every option of ``interpolate.yaml``, before anything is loaded or written; returns the
    walk endpoints (``pairs``) and the arithmetic groups, as plain lists."""
    required(cfg, "ckpt_path", "<run dir>/checkpoints/last.ckpt")
    if cfg.mode not in MODES:
        raise ConfigError(f"mode must be linear, slerp or both, got {cfg.mode!r}; pass mode=both")
    integer(cfg, "steps", 2, example=10)
    integer(cfg, "seed")
    integer(cfg, "variants", 0, example=7)
    integer(cfg, "label", 0, optional=True, example=3)
    pairs = None
    if cfg.pairs is not None:
        if not isinstance(cfg.pairs, ListConfig) or not all(
            isinstance(p, ListConfig) and len(p) == 2 for p in cfg.pairs
        ):
            raise ConfigError(
                f"pairs must be a list of index pairs, got {cfg.pairs!r}; pass e.g. "
                f"{PAIRS_EXAMPLE}, or drop pairs= for random ones"
            )
        pairs = [index_list(p, "pairs", PAIRS_EXAMPLE) for p in cfg.pairs]
    if isinstance(cfg.walks, int) and not isinstance(cfg.walks, bool) and cfg.walks < 1:
        raise ConfigError(
            f"walks={cfg.walks} draws no walk: pass walks=<number of walks, >= 1> (each between "
            f"a random pair of latents), or give the endpoints as {PAIRS_EXAMPLE}"
        )
    integer(cfg, "walks", 1, example=8)
    groups = None
    if cfg.arithmetic:
        if not isinstance(cfg.arithmetic, DictConfig) or set(cfg.arithmetic) - {"a", "b", "c"}:
            raise ConfigError(
                f"arithmetic takes groups a, b and c of latent indices, got {cfg.arithmetic!r}; "
                f"pass e.g. {ARITHMETIC_EXAMPLE}"
            )
        groups = {
            k: index_list(cfg.arithmetic.get(k) or [], f"arithmetic.{k}", ARITHMETIC_EXAMPLE)
            for k in ("a", "b", "c")
        }
    return pairs, groups


def _latents(cfg: DictConfig, model, needed: int) -> torch.Tensor:
    if cfg.latents:
        path = Path(cfg.latents)
        try:
            with np.load(path, allow_pickle=False) as f:
                z = torch.from_numpy(f["z"].astype(np.float32))
        except FileNotFoundError:
            raise DataError(f"latents file not found: {path}") from None
        except Exception as e:
            raise DataError(
                f"cannot read latents from {path} ({type(e).__name__}); pass an .npz with a 'z' "
                "array, e.g. from gens-sample"
            ) from None
        if z.dim() != 2 or z.shape[1] != model.latent_dim:
            raise DataError(f"{path}: z must be (N, {model.latent_dim}), got {tuple(z.shape)}")
        return z
    g = torch.Generator().manual_seed(int(cfg.seed))
    return torch.randn(max(needed, 1), model.latent_dim, generator=g)


def _render(model, z: torch.Tensor, label) -> torch.Tensor:
    if getattr(model, "conditional", False) and label is None:
        label = 0  # one class for the whole grid, so only the latent changes
    y = labels_for(model, len(z), label)
    return model.sample(len(z), y=y, z=z.to(model.device)).cpu()


def interpolate(cfg: DictConfig) -> list[Path]:
    pairs, groups = check(cfg)
    model = load_model(cfg.ckpt_path)
    if not has_latent(model):
        raise ConfigError(
            f"{type(model).__name__} has no latent z to walk (interpolate needs a model whose "
            "sample() takes z=, e.g. a GAN)"
        )
    if len(model.data_shape) != 3:
        raise ConfigError("interpolate draws image grids; this model makes vectors")
    out = Path(str(cfg.out))
    z = _latents(cfg, model, 2 * int(cfg.walks))
    if pairs is None:
        if len(z) < 2:
            raise ConfigError(
                f"latents={cfg.latents} holds {len(z)} latent; a walk needs 2: pass an .npz with "
                "more rows of z, or drop latents= to draw them from seed="
            )
        g = torch.Generator().manual_seed(int(cfg.seed) + 1)
        pairs = [torch.randperm(len(z), generator=g)[:2].tolist() for _ in range(cfg.walks)]
    for p in pairs:
        if not all(0 <= int(i) < len(z) for i in p):
            raise ConfigError(f"each pair must be two indices in 0..{len(z) - 1}, got {p}")
    written = []
    for mode in MODES[cfg.mode]:
        path = out.with_name(f"{out.stem}_{mode}.png")
        zs = torch.cat([walk(z[int(i)], z[int(j)], int(cfg.steps), mode) for i, j in pairs])
        save_image_grid(_render(model, zs, cfg.label), path, nrow=int(cfg.steps))
        written.append(path)
    if groups is not None:
        result = arithmetic(z, groups["a"], groups["b"], groups["c"])
        g = torch.Generator().manual_seed(int(cfg.seed) + 2)
        noise = 0.25 * torch.randn(int(cfg.variants), model.latent_dim, generator=g)
        rows = [z[groups[k]] for k in ("a", "b", "c")]
        rows.append(torch.cat([result[None], result[None] + noise]))
        width = max(len(r) for r in rows)
        images = []
        for r in rows:
            imgs = _render(model, r, cfg.label)
            pad = torch.full((width - len(r), *imgs.shape[1:]), -1.0)
            images.append(torch.cat([imgs, pad]))
        path = out.with_name(f"{out.stem}_arithmetic.png")
        save_image_grid(torch.cat(images), path, nrow=width)
        written.append(path)
    for p in written:
        print(f"wrote {p}")
    return written


main = app("interpolate.yaml", interpolate)


if __name__ == "__main__":
    main()
