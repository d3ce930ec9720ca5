"""A multirun sent to SLURM from a machine without SLURM stops before any job, in one line.

Hydra callback (``configs/hydra/default.yaml``): submitit's SLURM launcher submits with
``sbatch``; without it every job would fail with submitit's traceback after the sweep started.
"""

from __future__ import annotations

import shutil
import sys

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

__all__ = ["LauncherCheck"]


class LauncherCheck(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        target = str(config.hydra.launcher.get("_target_", ""))
        if "Slurm" in target and shutil.which("sbatch") is None:
            print(
                "gens: error: hydra/launcher=slurm submits with sbatch, which is not on this "
                "machine's PATH; run the sweep on a SLURM login node, or drop "
                "hydra/launcher=slurm (or use hydra/launcher=local_parallel) to run it here",
                file=sys.stderr,
            )
            sys.exit(2)
