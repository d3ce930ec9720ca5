"""Latent walks and latent vector arithmetic of a trained generator, as PNG grids.

Linear and spherical (slerp) interpolation between random or given latents, and
``mean(z[a]) - mean(z[b]) + mean(z[c])`` as in DCGAN (Radford et al. 2016, Sec. 6.3).
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gens.utils.checkpoint import load_model  # noqa: E402
from gens.utils.cli import gens_errors  # noqa: E402
from gens.utils.errors import ConfigError, DataError  # noqa: E402
from gens.utils.latent import arithmetic, walk  # noqa: E402
from gens.utils.plots import save_image_grid  # noqa: E402
from gens.utils.sampling import has_latent, labels_for  # noqa: E402

CONFIG_DIR = str(Path(__file__).resolve().parents[1] / "configs")


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
                "array, e.g. from scripts/sample.py"
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
    model = load_model(cfg.ckpt_path)
    if not has_latent(model):
        raise ConfigError(
            f"{type(model).__name__} has no latent z to walk (interpolate.py needs a model whose "
            "sample() takes z=, e.g. a GAN)"
        )
    if len(model.data_shape) != 3:
        raise ConfigError("interpolate.py draws image grids; this model makes vectors")
    out = Path(str(cfg.out))
    modes = {"both": ["linear", "slerp"], "linear": ["linear"], "slerp": ["slerp"]}
    if cfg.mode not in modes:
        raise ConfigError(f"mode must be linear, slerp or both, got {cfg.mode!r}")
    pairs = OmegaConf.to_container(cfg.pairs) if cfg.pairs else None
    z = _latents(cfg, model, 2 * int(cfg.walks))
    if pairs is None:
        if len(z) < 2:
            raise ConfigError("need at least 2 latents to walk between")
        g = torch.Generator().manual_seed(int(cfg.seed) + 1)
        pairs = [torch.randperm(len(z), generator=g)[:2].tolist() for _ in range(cfg.walks)]
    for p in pairs:
        if len(p) != 2 or not all(0 <= int(i) < len(z) for i in p):
            raise ConfigError(f"each pair must be two indices in 0..{len(z) - 1}, got {p}")
    written = []
    for mode in modes[cfg.mode]:
        path = out.with_name(f"{out.stem}_{mode}.png")
        zs = torch.cat([walk(z[int(i)], z[int(j)], int(cfg.steps), mode) for i, j in pairs])
        save_image_grid(_render(model, zs, cfg.label), path, nrow=int(cfg.steps))
        written.append(path)
    if cfg.arithmetic:
        groups = {k: list(cfg.arithmetic.get(k) or []) for k in ("a", "b", "c")}
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


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="interpolate.yaml")
@gens_errors
def main(cfg: DictConfig) -> None:
    interpolate(cfg)


if __name__ == "__main__":
    main()
