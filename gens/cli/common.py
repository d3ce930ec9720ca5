"""What the command-line tools share: one-line errors with exit code 2 (as ``train.py``),
checks of their options that name the key and the fix, and reading whole data splits."""

from __future__ import annotations

import functools
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from omegaconf import DictConfig, ListConfig, OmegaConf

from gens.cli import CONFIG_DIR
from gens.utils.errors import ConfigError, GensError
from gens.utils.quiet import silence_known_noise

__all__ = [
    "app",
    "gens_errors",
    "index_list",
    "integer",
    "number",
    "required",
    "split_tensors",
]


def _remove_empty_run_dir() -> None:
    """The Hydra run directory of a failed command, when it holds nothing but Hydra's own
    ``.hydra`` folder (no result), and the folders above it that are left empty (up to the
    working directory): removed, so a failure leaves nothing behind."""
    try:
        run_dir = Path(HydraConfig.get().runtime.output_dir).resolve()
    except ValueError:  # not inside a Hydra app
        return
    cwd = Path.cwd().resolve()
    if run_dir == cwd or not run_dir.is_dir():
        return
    if any(p.name != ".hydra" for p in run_dir.iterdir()):
        return
    shutil.rmtree(run_dir, ignore_errors=True)
    for parent in run_dir.parents:
        if parent == cwd or not parent.is_relative_to(cwd) or any(parent.iterdir()):
            break
        parent.rmdir()


def gens_errors(fn: Callable) -> Callable:
    """Run ``fn``; a ``GensError`` (also inside a Hydra instantiation error) becomes
    ``gens: error: ...`` on stderr and exit code 2, and an empty run directory is removed."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        silence_known_noise()
        try:
            return fn(*args, **kwargs)
        except (GensError, InstantiationException) as e:
            err = e
            while isinstance(err, InstantiationException) and err.__cause__ is not None:
                err = err.__cause__
            if not isinstance(err, GensError):
                raise
            _remove_empty_run_dir()
            print(f"gens: error: {err}", file=sys.stderr)
            sys.exit(2)

    return wrapper


def app(config_name: str, task: Callable[[DictConfig], object]) -> Callable[[], None]:
    """The console command that runs ``task`` on ``configs/<config_name>`` (a Hydra app, so
    ``--help`` and ``key=value`` overrides work), with one-line errors."""
    return hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name=config_name)(
        gens_errors(task)
    )


def required(cfg: DictConfig, key: str, example: str) -> str:
    """``cfg[key]`` as a string; a missing or empty value names the key and an example."""
    if OmegaConf.is_missing(cfg, key) or cfg[key] in (None, ""):
        raise ConfigError(f"{key} is required: pass {key}={example}")
    return str(cfg[key])


def integer(
    cfg: DictConfig, key: str, low: int | None = None, optional: bool = False, example=None
):
    """``cfg[key]`` as an int of at least ``low`` (``None`` allowed when ``optional``); the
    error's fix shows ``example`` (default: the smallest allowed value)."""
    value = cfg[key]
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
        bound = "" if low is None else f" >= {low}"
        null = " (or null)" if optional else ""
        if example is None:
            example = 0 if low is None else low
        raise ConfigError(
            f"{key} must be an integer{bound}{null}, got {value!r}; pass e.g. {key}={example}"
        )
    return value


def number(cfg: DictConfig, key: str, positive: bool = False, optional: bool = False):
    """``cfg[key]`` as a float (> 0 when ``positive``; ``None`` allowed when ``optional``)."""
    value = cfg[key]
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or (positive and value <= 0):
        kind = "a positive number" if positive else "a number"
        null = " (or null)" if optional else ""
        raise ConfigError(f"{key} must be {kind}{null}, got {value!r}; pass e.g. {key}=1.5")
    return float(value)


def index_list(value, key: str, example: str) -> list[int]:
    """A list of integer indices (``[1, 4]``), naming ``key`` and an example when it is not."""
    if isinstance(value, ListConfig | list) and all(
        isinstance(i, int) and not isinstance(i, bool) for i in value
    ):
        return [int(i) for i in value]
    raise ConfigError(f"{key} must be a list of indices, got {value!r}; pass e.g. {example}")


def split_tensors(dm, split: str):
    """``(x, y)`` of a whole split of a set-up data module (in-memory ``splits`` when the module
    has them, else concatenated from its data loader)."""
    import torch

    splits = getattr(dm, "splits", None)
    if isinstance(splits, dict) and split in splits:
        return splits[split][0], splits[split][1]
    loader = getattr(dm, f"{split}_dataloader")()
    xs, ys = zip(*((b[0], b[1]) for b in loader))
    return torch.cat(xs), torch.cat(ys)
