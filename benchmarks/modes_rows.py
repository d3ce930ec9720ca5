"""The rows of the mode-collapse benchmark (``benchmarks.modes``) and the budget each trains at.

Each row is a list of ``train.py`` overrides; the budget adds the epochs, learning rates and
learning-rate schedule of a run (``budget_overrides``), read against the row's model config.
"""

from __future__ import annotations

from omegaconf import OmegaConf

from benchmarks import common
from benchmarks.common import PACGAN4, ROOT, pm

DATA = ("ring8", "grid25")

# name -> overrides. Rows follow the PacGAN paper's Table 1 (ALI/BiGAN when its config exists).
ROWS: dict[str, list[str]] = {
    "GAN": ["model=gan"],
    "ALI/BiGAN": ["model=bigan"],
    "Unrolled GAN": ["model=unrolled_gan"],
    "VEEGAN": ["model=veegan"],
    "Minibatch Disc.": ["model=minibatch_disc"],
    # The PacGAN paper's batch of 100 is 100 packs: its reference code draws m x 100 real and
    # m x 100 generated points per step. So data.batch_size = 100 m, and the run trains m
    # epochs of the 100,000 points (see row_epochs): 1,000 D steps per epoch of budget, as for
    # every other row.
    "PacGAN2": ["model=pacgan", "model.discriminator.pack=2", "data.batch_size=200"],
    "PacGAN3": ["model=pacgan", "model.discriminator.pack=3", "data.batch_size=300"],
    "PacGAN4": ["model=pacgan", "model.discriminator.pack=4", "data.batch_size=400"],
    "WGAN-GP": ["model=wgan_gp"],
    # the embedded default's recipe (GAN + lazy R1 + EMA with standing statistics +
    # discriminator rejection sampling), trained at a budget of its own: see OWN_BUDGET
    "gens gan_r1": ["model=gan_r1"],
}
# Rows trained at a budget of their own instead of --epochs/--lr/--schedule. gan_r1: half the
# 14 epochs of `python train.py` at twice its lr (6e-4), its cosine decay over the 7 epochs; on
# grid25 seeds 0-1 this matched the 14-epoch recipe (25 modes, reverse KL 0.014 and 0.010,
# against 0.020 and 0.017) in 2.6 min a run instead of 4.8, which keeps the benchmark within
# its 60 minutes. At the recipe's own lr, 7 epochs lost modes (25 and 23).
OWN_BUDGET = {
    "gens gan_r1": [
        "trainer.max_epochs=7",
        "model.optimizer_g.lr=6e-4",
        "model.optimizer_d.lr=6e-4",
    ]
}
# What --quick uses for a row of OWN_BUDGET instead, on top of the CI-sized limits.
QUICK = {
    "gens gan_r1": [
        "trainer.max_epochs=1",
        "model.sampling.rejection.steps=20",
        "model.sampling.rejection.burn_in=500",
    ]
}
# Relative cost per run on one core, used to schedule the longest multiruns first: a row's
# minutes per data set in docs/benchmarks/modes.md over GAN's (2.85). "gens gan_r1" trains
# 7 epochs; PacGAN draws m x 100 points per step.
COST = {
    "Unrolled GAN": 6.5,
    "gens gan_r1": 4.5,
    "Minibatch Disc.": 1.7,
    "PacGAN4": 1.4,
    "PacGAN3": 1.3,
    "PacGAN2": 1.1,
    "ALI/BiGAN": 1.1,
    "VEEGAN": 1.05,
}
# Rows whose paper (or its reference code) sets G's and D's learning rates apart; every other
# row takes --lr for both. Unrolled GAN: Metz et al.'s reference code, Adam 1e-3 for G and 1e-4
# for D (the D it unrolls must not run away from G).
ROW_LR: dict[str, tuple[float, float]] = {"Unrolled GAN": (1e-3, 1e-4)}


def published_pacgan4(data: str) -> tuple[str, str, str, str]:
    (m, ms), (h, hs), (k, ks) = PACGAN4[data]
    return (
        "PacGAN4 (PacGAN paper)",
        pm(m, ms, "{:.1f}"),
        pm(h, hs, "{:.1f}", 100, " %"),
        pm(k, ks),
    )


# Published numbers (mean +- s.e. where the paper gives them): PacGAN paper (Lin et al. 2018)
# Table 1, and the VEEGAN paper (Srivastava et al. 2017) for unrolled GAN and VEEGAN on the grid.
PUBLISHED = {
    "grid25": [
        ("GAN (PacGAN paper)", "17.3 ± 0.8", "94.8 ± 0.7 %", "0.70 ± 0.07"),
        ("PacGAN2 (PacGAN paper)", "23.8 ± 0.7", "91.3 ± 0.8 %", "0.13 ± 0.04"),
        published_pacgan4("grid25"),
        ("Unrolled GAN (VEEGAN paper)", "23.6", "16 %", "–"),
        ("VEEGAN (VEEGAN paper)", "24.6", "40 %", "–"),
    ],
    "ring8": [
        ("GAN (PacGAN paper)", "6.3 ± 0.5", "98.2 ± 0.2 %", "0.45 ± 0.09"),
        published_pacgan4("ring8"),
    ],
}

# The default budget: EPOCHS passes over the 100,000 points (1,000 batches of 100 per epoch)
# at Adam lr 1e-3 (the papers' 1e-4 needs hundreds of epochs), 5 seeds, 2 jobs. Measured at
# this budget on 2 free cores: see the wall time in docs/benchmarks/modes.md.
EPOCHS = 1
SEEDS = 5
QUICK_BATCHES = 5  # --quick: +trainer.limit_train_batches
COMMON = [
    "logger=csv",
    "callbacks.rich_progress_bar=null",
    "callbacks.sample_plot=null",
    "+trainer.enable_progress_bar=false",
]


def budget_overrides(row: str, args) -> list[str]:
    if row in OWN_BUDGET:
        return QUICK.get(row, []) if args.quick else OWN_BUDGET[row]
    return [
        f"trainer.max_epochs={row_epochs(row, args)}",
        *lr_overrides(row, args.lr),
        *schedule_overrides(row, args),
    ]


def row_setting(row: str, key: str, default):
    """A row's value of ``key`` in its composed config (its overrides on its model config, with
    everything that config inherits), else ``default``."""
    cfg = common.compose(ROWS[row])
    value = OmegaConf.select(cfg, key, default=None)
    return default if value is None else value


def row_epochs(row: str, args) -> int:
    """Epochs of a run: --epochs times the row's pack (1 unless D packs its inputs), since a
    packed row's batch is 100 packs of m points."""
    return args.epochs * int(row_setting(row, "model.discriminator.pack", 1))


def schedule_overrides(row: str, args) -> list[str]:
    """Cosine decay of both learning rates to 0 over the run, stepped after every G step (the
    schedule's length, the run's generator steps, comes from the trainer)."""
    if args.schedule == "constant":
        return []
    return [
        "model.scheduler_interval=step",
        "+schedule@model.scheduler_g=cosine",
        "+schedule@model.scheduler_d=cosine",
    ]


def lr_overrides(row: str, lr: float) -> list[str]:
    if row == "WGAN-GP":
        return []  # its own paper's Adam(1e-4, betas (0, 0.9)) with n_critic = 5
    lr_g, lr_d = ROW_LR.get(row, (lr, lr))
    return [f"model.optimizer_g.lr={lr_g}", f"model.optimizer_d.lr={lr_d}"]


def available_rows() -> list[str]:
    rows = []
    for name, ov in ROWS.items():
        model = ov[0].split("=", 1)[1]
        if (ROOT / "configs" / "model" / f"{model}.yaml").is_file():
            rows.append(name)
    return rows
