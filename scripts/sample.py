"""Sample a trained model: ``python scripts/sample.py ckpt_path=... n=1000 out=samples.npz``.

Writes the samples (``x``; ``y`` for conditional models; ``z`` for models with a latent) and a
PNG next to them: an image grid, or a scatter plot / histogram for vector data.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import hydra
import numpy as np
from omegaconf import DictConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gens.utils.checkpoint import load_model  # noqa: E402
from gens.utils.cli import gens_errors  # noqa: E402
from gens.utils.errors import ConfigError  # noqa: E402
from gens.utils.io import atomic_write_bytes  # noqa: E402
from gens.utils.plots import save_samples_figure  # noqa: E402
from gens.utils.sampling import draw  # noqa: E402

CONFIG_DIR = str(Path(__file__).resolve().parents[1] / "configs")


def sample(cfg: DictConfig) -> Path:
    out = Path(str(cfg.out))
    if out.suffix != ".npz":
        raise ConfigError(f"out must end in .npz, got {out}")
    model = load_model(cfg.ckpt_path)
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
    shown = x[: int(cfg.grid)] if x.dim() == 4 else x
    save_samples_figure(shown, png, title=f"{type(model).__name__}: {len(x)} samples")
    print(f"wrote {len(x)} samples to {out} and {png}")
    return out


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="sample.yaml")
@gens_errors
def main(cfg: DictConfig) -> None:
    sample(cfg)


if __name__ == "__main__":
    main()
