"""The outcome of a multirun: one line per failed job, and an exit code that tells the truth.

Every job of a multirun (``-m``, an Optuna sweep, a submitit launcher) appends one JSON line
to ``<sweep dir>/jobs.jsonl``: its number, overrides, and the error that stopped it, if any. A
failed job prints ``gens: error: job <n> (<overrides>): <error>`` and the sweep goes on to
its next job; the traceback of a crash goes to that job's ``train.log``. At the end
(``SweepReport``, a Hydra callback in ``configs/hydra/default.yaml``):

- a grid sweep with a failed job exits with code 2 (all failures were bad input) or 1;
- an Optuna sweep (``optimized_metric`` set) goes on past failed trials, which report the worst
  value (``gens.utils.sweep``), and exits non-zero only when no trial succeeded.
"""

from __future__ import annotations

import json
import math
import sys
import traceback
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

__all__ = ["SweepReport", "job_done", "job_failed", "record_job", "JOBS_FILE"]

JOBS_FILE = "jobs.jsonl"


def _sweep_dir() -> Path | None:
    try:
        hc = HydraConfig.get()
    except ValueError:
        return None
    return Path(str(hc.sweep.dir))


def record_job(error: BaseException | None = None, user_error: bool = False) -> str:
    """Append this job's outcome to the sweep's ``jobs.jsonl``; return its label
    (``job <n> (<overrides>)``)."""
    hc = HydraConfig.get()
    overrides = " ".join(hc.overrides.task)
    label = f"job {hc.job.num} ({overrides})"
    entry = {"num": hc.job.num, "overrides": overrides, "ok": error is None}
    if error is not None:
        entry.update(error=" ".join(str(error).split()), user_error=bool(user_error))
    sweep_dir = _sweep_dir()
    sweep_dir.mkdir(parents=True, exist_ok=True)
    # one short line per write: appends from parallel jobs do not interleave
    with open(sweep_dir / JOBS_FILE, "a") as f:
        f.write(json.dumps(entry) + "\n")
    return label


def job_failed(
    err: BaseException, user_error: bool, output_dir: Path, reported: float | None = None
) -> None:
    """Record and print a failed job in one line (with the value a search trial reports
    instead, if any); a crash's traceback goes to the job's ``traceback.txt``."""
    shown = err
    if not user_error:
        output_dir.mkdir(parents=True, exist_ok=True)
        trace = output_dir / "traceback.txt"
        trace.write_text("".join(traceback.format_exception(err)))
        shown = f"{type(err).__name__}: {' '.join(str(err).split())} (traceback: {trace})"
    label = record_job(err, user_error)
    instead = "" if reported is None else f"; reporting {reported} to the sweeper"
    print(f"gens: error: {label}: {shown}{instead}", file=sys.stderr)


def job_done(cfg: DictConfig, metrics: dict, value: float | None) -> None:
    """Record a finished job; a search trial whose metric is not finite counts as failed."""
    name = cfg.get("optimized_metric")
    if name and value is not None and not math.isfinite(float(metrics.get(name, math.nan))):
        record_job(ValueError(f"{name} = {metrics.get(name)}"), user_error=False)
    else:
        record_job()


def read_jobs(sweep_dir: Path) -> list[dict]:
    path = sweep_dir / JOBS_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class SweepReport(Callback):
    """Hydra callback: sums up a multirun and ends it non-zero when it failed."""

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        jobs = read_jobs(sweep_dir)
        failed = [j for j in jobs if not j["ok"]]
        if not failed:
            return
        where = sweep_dir / JOBS_FILE
        code = 2 if all(j.get("user_error") for j in failed) else 1
        if config.get("optimized_metric"):
            if len(failed) < len(jobs):
                print(f"gens: {len(failed)} of {len(jobs)} trials failed (see {where})")
                return
            print(
                f"gens: error: no trial succeeded ({len(failed)} failed; see {where}); the "
                "sweep found no value of its optimized_metric",
                file=sys.stderr,
            )
            sys.exit(code)
        print(
            f"gens: error: {len(failed)} of {len(jobs)} jobs failed: "
            + "; ".join(f"job {j['num']} ({j['overrides']})" for j in failed)
            + f" (see {where})",
            file=sys.stderr,
        )
        sys.exit(code)
