"""Exact resume: an epoch-boundary resume ends with the same weights as the uninterrupted run.

Parametrized over every ``configs/model/*.yaml`` (on ring8, digits for image-only models, or an
energy for reverse-KL flows), so a new model is covered without editing this file. Compared
bit for bit on CPU: every tensor of the state dict (generator, discriminator, EMA, buffers such
as BatchNorm statistics or ActNorm's initialized flag), the optimizer and scheduler states, the
model's extra state (counters, BEGAN's k_t, ...), the global step and the RNG state.
"""

from __future__ import annotations

import pytest

from tests.helpers.configs import choices, model_configs
from tests.helpers.resume import check_exact_resume

MODELS = choices("model")

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
