"""Exact resume: a run resumed from its checkpoint at an epoch boundary ends with the same
weights, optimizer, scheduler, extra and RNG state as the uninterrupted run, bit for bit on CPU.
Used by ``tests/reliability/test_resume.py`` (every model config) and by tests of variants."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gens.train import train
from gens.utils.checkpoint import read_checkpoint
from tests.helpers.compat import COMPATIBLE
from tests.helpers.configs import choices

__all__ = ["check_exact_resume"]

# The first of these each model takes: toy 2-D points, embedded images, an energy (reverse KL).
CANDIDATES = ("ring8", "digits", "energy_u1")
DATA = [d for d in CANDIDATES if d in choices("data")]
SMALL = {
    "ring8": ["data.n_train=2000"],
    # image metrics (FID on thousands of samples) dominate the cost; they draw from their own
    # seeded generator, like the vector metrics that stay on for ring8
    "digits": [
        "trainer.limit_train_batches=2",
        "data.batch_size=16",
        "callbacks.image_metrics=null",
    ],
    "energy_u1": ["data.eval_batch_size=500"],
}
BUDGET = ["trainer.limit_train_batches=3", "test=false"]  # data-specific overrides come later


def _assert_same(a, b, where: str) -> None:
    if torch.is_tensor(a):
        assert torch.is_tensor(b) and a.shape == b.shape, where
        assert torch.equal(a, b), f"{where} differs (max abs diff {(a - b).abs().max()})"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: keys {set(a) ^ set(b)}"
        for k in a:
            _assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _data_for(model_overrides: list[str]) -> str:
    """The first candidate the compatibility table (asserted by ``test_compat``) lists."""
    model = next(o.split("=", 1)[1] for o in model_overrides if o.startswith("model="))
    data = [d for d in DATA if d in COMPATIBLE[model]]
    if not data:
        pytest.skip(f"{model_overrides} takes none of {DATA}")
    return data[0]


def check_exact_resume(cfg_factory, model_overrides: list[str]) -> None:
    data = _data_for(model_overrides)
    base = [*model_overrides, f"data={data}", *BUDGET, *SMALL[data]]

    # one uninterrupted run, whose last.ckpt at the end of epoch 1 is what a run preempted at
    # that boundary would leave (schedules span the run's whole budget)
    keep = [
        "+callbacks.keep._target_=tests.reliability.helpers.KeepLastCheckpoint",
        "+callbacks.keep.dirpath=${paths.output_dir}/checkpoints",
    ]
    full = cfg_factory([*base, "trainer.max_epochs=2", *keep], sub="full")
    train(full)
    ckpt = Path(full.paths.output_dir) / "checkpoints" / "preempted.ckpt"
    resumed = cfg_factory([*base, "trainer.max_epochs=2", f"ckpt_path={ckpt}"], sub="resumed")
    train(resumed)

    a = read_checkpoint(Path(full.paths.output_dir) / "checkpoints" / "last.ckpt")
    b = read_checkpoint(Path(resumed.paths.output_dir) / "checkpoints" / "last.ckpt")
    assert a["global_step"] == b["global_step"] > read_checkpoint(ckpt)["global_step"]
    assert a["epoch"] == b["epoch"]
    _assert_same(a["state_dict"], b["state_dict"], "state_dict")
    _assert_same(a["optimizer_states"], b["optimizer_states"], "optimizer_states")
    _assert_same(a.get("lr_schedulers", []), b.get("lr_schedulers", []), "lr_schedulers")
    _assert_same(a["gens"]["extra"], b["gens"]["extra"], "gens.extra")
    _assert_same(a["gens"]["rng"], b["gens"]["rng"], "gens.rng")
