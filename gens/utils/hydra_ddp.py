"""DDP worker processes that run *this* Hydra job, in multiruns and sweeps too.

Lightning's DDP launcher on one machine (``strategy=ddp*`` without SLURM/torchrun) starts ranks
1..N-1 by re-running ``sys.argv`` with ``hydra.run.dir`` set. Under ``-m`` (or an Optuna
sweep, or submitit's local executor, where ``sys.argv`` is submitit's own worker) that re-runs
the whole sweep in every worker: extra jobs, extra output directories, ranks that never meet.
``patch_ddp_launcher`` swaps in a command that runs exactly the current job: the repository's
``train.py`` with this job's overrides (the swept values included), in RUN mode, in this job's
output directory, without rewriting its ``.hydra/``.

Sequential multirun jobs share one launcher process, and Lightning leaves the process group
and its rendezvous variables (``LOCAL_RANK``, ``MASTER_PORT``, ...) behind after a DDP job, so
the next job would join the dead group of the previous one. ``ddp_job_scope`` wraps one job:
it applies the patch and, on the way out, destroys the process group and restores those
variables, so every job starts its own workers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import torch

__all__ = ["job_subprocess_cmd", "patch_ddp_launcher", "ddp_job_scope"]

# Set by Lightning's launchers / cluster environments for the ranks of one job.
_RENDEZVOUS_VARS = ("LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def _entry_command() -> list[str]:
    import gens

    script = Path(gens.__file__).resolve().parents[1] / "train.py"
    if script.is_file():  # a checkout: its train.py puts this tree's gens on sys.path
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "gens.train"]


def job_subprocess_cmd(local_rank: int) -> tuple[Sequence[str], str]:
    """(command, cwd) that starts DDP rank ``local_rank`` of the current Hydra job."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.utils import get_original_cwd

    hc = HydraConfig.get()
    out = str(hc.runtime.output_dir).replace("\\", "\\\\").replace('"', '\\"')
    command = _entry_command() + list(hc.overrides.task)
    command += [
        "hydra.mode=RUN",
        f'hydra.run.dir="{out}"',
        f"hydra.job.name={hc.job.name}_ddp_rank_{local_rank}",
        "hydra.output_subdir=null",
    ]
    return command, get_original_cwd()


def patch_ddp_launcher() -> bool:
    """Make Lightning's subprocess DDP launcher use ``job_subprocess_cmd``; ``False`` if this
    Lightning version has no such hook (then the stock behaviour applies)."""
    try:
        from pytorch_lightning.strategies.launchers import subprocess_script
    except ImportError:
        return False
    if not hasattr(subprocess_script, "_hydra_subprocess_cmd"):
        return False
    subprocess_script._hydra_subprocess_cmd = job_subprocess_cmd
    return True


@contextmanager
def ddp_job_scope() -> Iterator[None]:
    """Run one Hydra job so that DDP starts afresh for it and leaves nothing to the next one."""
    patch_ddp_launcher()
    before = {k: os.environ.get(k) for k in _RENDEZVOUS_VARS}
    try:
        yield
    finally:
        if before["LOCAL_RANK"] is None:  # this process launched the workers: clean up
            dist = torch.distributed
            if dist.is_available() and dist.is_initialized():
                dist.destroy_process_group()
            for k, v in before.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
