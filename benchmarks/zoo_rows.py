"""The rows of the model zoo's report card (``benchmarks.zoo``): one per model config, each on
its natural embedded data set, with its training length at the card's CPU budget.

A data kind fixes the budget (CPU-minutes of one thread for the training batches) and how a
row is scored; a row states its length as an epoch or batch count calibrated to that budget
(the page reports the CPU time each run measured beside the budget). A model added to
``configs/model/`` needs one entry in ``ROWS``; a recipe (``experiment=``) is a row of its own.
"""

from __future__ import annotations

from benchmarks.zoo_kinds import KINDS, Kind, Row, batches, epochs, with_kind

__all__ = [
    "KINDS",
    "RECIPES",
    "REMEDY_ROWS",
    "ROWS",
    "Kind",
    "Row",
    "row_overrides",
    "settings",
    "with_kind",
]


LR6 = (
    "model.optimizer_g.lr=6e-4",
    "model.optimizer_d.lr=6e-4",
)  # the default recipe's short-run lr

ROWS: dict[str, Row] = {
    # GANs on grid25 (100,000 points, batch 100: 1,000 batches an epoch)
    "gan": Row("gan", "grid25", "mixture", epochs(2)),
    "gan_r1": Row(
        "gan_r1",
        "grid25",
        "mixture",
        epochs(2),
        (*LR6, "model.sampling.rejection.gamma_quantile=0.95"),
    ),
    "bigan": Row("bigan", "grid25", "mixture", epochs(2)),
    "veegan": Row("veegan", "grid25", "mixture", epochs(2)),
    "minibatch_disc": Row("minibatch_disc", "grid25", "mixture", epochs(1)),
    "pacgan": Row("pacgan", "grid25", "mixture", epochs(2)),
    "unrolled_gan": Row("unrolled_gan", "grid25", "mixture", batches(300)),
    # recipes for the rows at chance: the default's cures on each (configs/experiment/)
    "gan_r1_cosine": Row("gan", "grid25", "mixture", epochs(2), ("experiment=gan_r1_cosine",)),
    "pacgan4_r1_cosine": Row(
        "pacgan", "grid25", "mixture", epochs(6), ("experiment=pacgan4_r1_cosine",)
    ),
    "bigan_r1_cosine": Row(
        "bigan", "grid25", "mixture", epochs(2), ("experiment=bigan_r1_cosine",)
    ),
    "minibatch_disc_r1_cosine": Row(
        "minibatch_disc",
        "grid25",
        "mixture",
        epochs(2),
        ("experiment=minibatch_disc_r1_cosine",),
    ),
    # image GANs on digits (1,297 training images, the kind's batch 16: 81 batches an epoch)
    "dcgan": Row("dcgan", "digits", "digits_gan", epochs(17)),
    "lsgan": Row("lsgan", "digits", "digits_gan", epochs(17)),
    "wgan": Row("wgan", "digits", "digits_gan", epochs(25)),
    "wgan_gp": Row("wgan_gp", "digits", "digits_gan", epochs(14)),
    "wgan_gp_n_critic2": Row(
        "wgan_gp",
        "digits",
        "digits_gan",
        epochs(13),
        ("model.n_critic=2", "model.optimizer_g.lr=2e-4", "model.optimizer_d.lr=2e-4"),
    ),
    "began": Row(
        "began",
        "digits",
        "digits_gan",
        epochs(11),
        ("model.generator.width=16", "model.discriminator.width=16"),
    ),
    # its recipe for the short budget (configs/experiment/): batch-normalized embedding in D and
    # a faster controller of k_t
    "began_digits": Row("began", "digits", "digits_gan", epochs(11), ("experiment=began_digits",)),
    "pacdcgan": Row("pacdcgan", "digits", "digits_gan", epochs(24)),
    # GANs of labels and codes on digits (its 10 classes)
    "cgan": Row("cgan", "digits", "digits_gan", epochs(14)),
    "acgan": Row("acgan", "digits", "digits_gan", epochs(16)),
    "infogan": Row("infogan", "digits", "digits_gan", epochs(17)),
    "ssgan": Row("ssgan", "digits", "digits_gan", epochs(13), ("data.labels_per_class=10",)),
    # flows by maximum likelihood on 2-D sets (100,000 points, batch 100)
    "realnvp": Row("realnvp", "moons", "flow2d", epochs(1)),
    "nice": Row("nice", "moons", "flow2d", epochs(1)),
    "maf": Row("maf", "checkerboard", "flow2d", epochs(3)),
    "made": Row("made", "moons", "flow2d", epochs(4)),
    "iaf": Row("iaf", "moons", "flow2d", batches(800)),
    # spline, neural-autoregressive, integration, residual and continuous flows: a step costs
    # more, so fewer batches fill the same budget
    "nsf": Row("nsf", "moons", "flow2d", batches(600)),
    "cubic_spline": Row("cubic_spline", "moons", "flow2d", batches(600)),
    "naf": Row("naf", "moons", "flow2d", batches(400)),
    "sos": Row("sos", "moons", "flow2d", batches(400)),
    "umnn": Row("umnn", "moons", "flow2d", batches(300)),
    "iresnet": Row("iresnet", "moons", "flow2d", batches(300)),
    "resflow": Row("resflow", "moons", "flow2d", batches(300)),
    "ffjord": Row(
        "ffjord",
        "moons",
        "flow2d",
        batches(500),
        ("model.transform.atol=1e-3", "model.transform.rtol=1e-3"),
    ),
    # flows fitted to an energy by reverse KL (1,000 steps an epoch)
    "iaf_rkl": Row("iaf_rkl", "energy_u2", "energy", batches(1000)),
    "planar": Row("planar", "energy_u1", "energy", batches(1000)),
    "radial": Row("radial", "energy_u1", "energy", batches(1000)),
    "sylvester": Row("sylvester", "energy_u3", "energy", batches(800)),
    # image flows and the flow VAE on digits
    "glow": Row("glow", "digits", "digits_flow", epochs(8)),
    "vae_planar": Row("vae_planar", "digits", "digits_vae", epochs(60)),
}


# the image GANs on digits at width 32, not DCGAN's 64: about 2.9x the batches fit in the
# budget (DCGAN, seed 0, side by side: 4,050 batches at 32 in 223 CPU-s, 1,377 at 64 in 219).
# Lengths scale the paper rows' by 2.9; PacDCGAN's by 2.4 (at 70 epochs it took 1.23x DCGAN's).
NARROW_EPOCHS = {
    "dcgan": 50,
    "lsgan": 50,
    "wgan": 74,
    "wgan_gp": 41,
    "wgan_gp_n_critic2": 38,
    "pacdcgan": 57,
    "ssgan": 38,
}
for _name, _n in NARROW_EPOCHS.items():
    _row = ROWS[_name]
    _nets = "" if _row.model in ("dcgan", "pacdcgan") else "image."  # by_data_kind networks
    ROWS[f"{_name}_w32"] = Row(
        _row.model,
        _row.data,
        _row.kind,
        epochs(_n),
        (*_row.extra, *(f"model.{n}.{_nets}width=32" for n in ("generator", "discriminator"))),
    )
ROWS["ssgan_nonsat_w32"] = Row(
    "ssgan",
    "digits",
    "digits_gan",
    epochs(38),
    (*ROWS["ssgan_w32"].extra, "model.generator_loss=nonsaturating"),
)
# 2 critic steps cost 1.2x the paper's 5 per batch (seed 0, side by side): 62 epochs, not 74
ROWS["wgan_n_critic2_w32"] = Row(
    "wgan",
    "digits",
    "digits_gan",
    epochs(62),
    (
        *ROWS["wgan_w32"].extra,
        "model.n_critic=2",
        "model.optimizer_g.lr=2e-4",
        "model.optimizer_d.lr=2e-4",
        "model.clip_value=0.02",
    ),
)

# the GAN rows at chance on the mixtures and the recipe that cures each (configs/experiment/)
RECIPES = {
    "gan": "gan_r1_cosine",
    "pacgan": "pacgan4_r1_cosine",
    "bigan": "bigan_r1_cosine",
    "minibatch_disc": "minibatch_disc_r1_cosine",
}
# the recipes and plain GAN on ring8 too, rows of their own: the remedy table's second set
for _name in ("gan", *RECIPES.values()):
    ROWS[f"{_name}_ring8"] = Row(
        ROWS[_name].model, "ring8", "mixture", ROWS[_name].length, ROWS[_name].extra
    )
# the rows of the remedy tables: the paper rows, their recipes, plain GAN on both mixtures
REMEDY_ROWS = [
    *RECIPES,
    *RECIPES.values(),
    "gan_ring8",
    *(f"{r}_ring8" for r in RECIPES.values()),
]


def settings(name: str) -> list[str]:
    """A row's overrides beyond its model, data and length: its own, then its kind's."""
    return with_kind(ROWS[name].kind, ROWS[name].extra)


def row_overrides(name: str, seed: int) -> list[str]:
    """The ``train.py`` overrides of a row's run with ``seed``."""
    row = ROWS[name]
    return [f"model={row.model}", f"data={row.data}", *row.length, *settings(name), f"seed={seed}"]
