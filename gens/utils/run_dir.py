"""One run directory, one run: what a run may write into, and what a resume keeps.

A run directory records one training run (its config, checkpoints, logs, metrics). Two rules
keep that record true (the hydra ``callbacks`` entry of ``configs/hydra/default.yaml``):

- a run refuses a directory that already holds results, unless it resumes a checkpoint from
  that directory (``hydra.run.dir=<old run> ckpt_path=<old run>``);
- a resume in its own directory first copies the record of the run it continues (Hydra's
  ``.hydra/*.yaml``, the CSV logger's files, ``metrics.json``) to ``previous/<n>/``, because
  Hydra rewrites ``.hydra/`` and Lightning's CSV logger deletes ``metrics.csv`` when they start.

``ckpt_path`` may name a run directory; it stands for that run's ``checkpoints/last.ckpt``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from gens.utils.errors import ConfigError

__all__ = [
    "RunDirectoryGuard",
    "resolve_ckpt_path",
    "holds_results",
    "keep_record",
    "restore_record",
]

# What Hydra writes into a run directory before the task starts: not a result.
SETUP_ONLY = {".hydra", "train.log"}
# The record of a run that a resume in the same directory would otherwise overwrite.
RECORD = (
    ".hydra/config.yaml",
    ".hydra/hydra.yaml",
    ".hydra/overrides.yaml",
    "csv/metrics.csv",
    "csv/hparams.yaml",
    "metrics.json",
)


def resolve_ckpt_path(ckpt_path: str | None) -> str | None:
    """``ckpt_path`` as a checkpoint file: a run directory stands for its
    ``checkpoints/last.ckpt``."""
    if not ckpt_path:
        return ckpt_path
    path = Path(str(ckpt_path)).expanduser()
    if not path.is_dir():
        return str(ckpt_path)
    for last in (path / "checkpoints" / "last.ckpt", path / "last.ckpt"):
        if last.is_file():
            return str(last)
    found = sorted(p.name for p in path.glob("checkpoints/*.ckpt"))
    hint = f" (it has {', '.join(found)})" if found else ""
    raise ConfigError(
        f"ckpt_path={ckpt_path} is a directory without checkpoints/last.ckpt{hint}; pass a "
        ".ckpt file or a run directory that has one"
    )


def holds_results(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds anything beyond what Hydra writes before a run starts."""
    return run_dir.is_dir() and any(p.name not in SETUP_ONLY for p in run_dir.iterdir())


def _within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _is_worker_rank() -> bool:
    """DDP ranks > 0 rerun the job in the directory rank 0 set up."""
    return any(os.environ.get(k, "0") not in ("", "0") for k in ("LOCAL_RANK", "RANK"))


# run directory -> the copy ``keep_record`` made in this process
_kept: dict[Path, Path] = {}


def keep_record(run_dir: Path) -> Path | None:
    """Copy the record of the run in ``run_dir`` to ``run_dir/previous/<n>/``; return it."""
    files = [rel for rel in RECORD if (run_dir / rel).is_file()]
    if not files:
        return None
    n = 1
    while (run_dir / "previous" / str(n)).exists():
        n += 1
    dest = run_dir / "previous" / str(n)
    for rel in files:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(run_dir / rel, dest / rel)
    _kept[run_dir.resolve()] = dest
    return dest


def training_started(run_dir: Path) -> None:
    """From here on the resumed run writes its own record: nothing to restore."""
    _kept.pop(Path(run_dir).resolve(), None)


def restore_record(run_dir: Path) -> None:
    """Undo ``keep_record`` for a resume that stopped on bad input before training: the
    directory reads as the run it was."""
    dest = _kept.pop(Path(run_dir).resolve(), None)
    if dest is None or not dest.is_dir():
        return
    for rel in RECORD:
        if (dest / rel).is_file():
            shutil.copy2(dest / rel, run_dir / rel)
    shutil.rmtree(dest)
    if not any(dest.parent.iterdir()):
        dest.parent.rmdir()


class RunDirectoryGuard(Callback):
    """Hydra callback: refuse a run directory that holds another run; keep the record of a
    run that is resumed in its own directory."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        if _is_worker_rank():
            return
        run_dir = Path(str(config.hydra.run.dir))
        if not holds_results(run_dir):
            return
        try:
            ckpt = resolve_ckpt_path(config.get("ckpt_path"))
        except ConfigError:
            ckpt = None  # the task reports a bad ckpt_path in its own words
        if ckpt and _within(Path(ckpt), run_dir):
            dest = keep_record(run_dir)
            if dest is not None:
                print(f"gens: resuming in {run_dir}; its record so far is in {dest}")
            return
        print(
            f"gens: error: hydra.run.dir={run_dir} already holds a run; pick a new directory "
            f"(leave hydra.run.dir unset) or resume that run with ckpt_path={run_dir}",
            file=sys.stderr,
        )
        sys.exit(2)
