"""Exact resume: an epoch-boundary resume ends with the same weights as the uninterrupted run.

Parametrized over every ``configs/model/*.yaml`` (on ring8, digits for image-only models, or an
energy for reverse-KL flows), so a new model is covered without editing this file. Compared
bit for bit on CPU: every tensor of the state dict (generator, discriminator, EMA, buffers such
as BatchNorm statistics or ActNorm's initialized flag), the optimizer and scheduler states, the
model's extra state (counters, BEGAN's k_t, ...), the global step and the RNG state.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gens.train import train
from gens.utils.checkpoint import read_checkpoint
from tests.helpers.compat import COMPATIBLE
from tests.helpers.configs import model_configs

ROOT = Path(__file__).resolve().parents[2]
MODELS = sorted(p.stem for p in (ROOT / "configs" / "model").glob("*.yaml"))
# The first of these each model takes: toy 2-D points, embedded images, an energy (reverse KL).
CANDIDATES = ("ring8", "digits", "energy_u1")
DATA = [d for d in CANDIDATES if (ROOT / "configs" / "data" / f"{d}.yaml").is_file()]
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

# Extra variants that exercise state the default configs leave off.
SCHED = "{_target_:torch.optim.lr_scheduler.StepLR,_partial_:true,step_size:1,gamma:0.5}"
VARIANTS = {
    "gan+ema+schedulers": [
        "model=gan",
        "model.sampling.ema_decay=0.9",
        f"model.scheduler_g={SCHED}",
        f"model.scheduler_d={SCHED}",
    ],
    "wgan_gp+step_scheduler": [
        "model=wgan_gp",
        "model.scheduler_interval=step",
        f"model.scheduler_g={SCHED}",
    ],
    "gan+cosine_over_the_run": [
        "model=gan",
        "model.scheduler_interval=step",
        "+schedule@model.scheduler_g=cosine",
        "+schedule@model.scheduler_d=cosine",
    ],
}


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

    full = cfg_factory([*base, "trainer.max_epochs=2"], sub="full")
    train(full)
    # the same run, preempted after its first epoch (schedules span the run's whole budget)
    stop = [
        "+callbacks.stop._target_=tests.reliability.helpers.StopAfterEpochs",
        "+callbacks.stop.epochs=1",
    ]
    first = cfg_factory([*base, "trainer.max_epochs=2", *stop], sub="first")
    train(first)
    ckpt = Path(first.paths.output_dir) / "checkpoints" / "last.ckpt"
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


# The default suite resumes one config of each model class, and a second where configs of one
# class carry different state (EMA, standing statistics, lazy R1 and a cosine schedule in
# gan_r1; BatchNorm in dcgan; ActNorm's initialization in glow); `make test-all` resumes every
# config. BEGAN's image budget costs 15-200 s here, like the flows whose sampling metrics go
# through bisection, fixed-point or ODE inverses, so those classes resume in test-all only.
DEFAULT = {
    "acgan",
    "bigan",
    "dcgan",
    "gan_r1",
    "glow",
    "infogan",
    "lsgan",
    "maf",
    "planar",
    "ssgan",
    "unrolled_gan",
    "vae_planar",
    "veegan",
    "wgan",
}
SLOW_CLASSES = {"gens.gan.BEGAN"}


def test_the_default_resumes_cover_every_model_class():
    classes = model_configs()
    assert {classes[m] for m in DEFAULT} == set(classes.values()) - SLOW_CLASSES


@pytest.mark.parametrize(
    "model", [m if m in DEFAULT else pytest.param(m, marks=pytest.mark.slow) for m in MODELS]
)
def test_epoch_boundary_resume_is_exact(cfg_factory, model):
    check_exact_resume(cfg_factory, [f"model={model}"])


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_exact_resume_with_ema_and_schedulers(cfg_factory, variant):
    check_exact_resume(cfg_factory, VARIANTS[variant])
