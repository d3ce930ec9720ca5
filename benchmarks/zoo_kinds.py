"""The data kinds of the model zoo's report card and the type of its rows: a kind fixes the CPU
budget of a run and the metric its verdict reads; a row (``benchmarks.zoo_rows``) names a model,
its data, its length at the kind's budget and its own overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["KINDS", "Kind", "Row", "batches", "epochs", "with_kind"]


@dataclass(frozen=True)
class Kind:
    """A data kind: its CPU budget per run (minutes) and the metric its verdict reads."""

    budget_min: float
    metric: str  # the key of the row's scores the verdict reads
    higher_is_better: bool
    log_scale: bool  # progress measured on log(metric): FID spans orders of magnitude
    title: str
    overrides: tuple[str, ...] = ()  # every row of the kind runs with these (a row may override)


KINDS = {
    "mixture": Kind(1.0, "hq_recall", True, False, "GANs on the 2-D mixtures"),
    # batch 16: at this budget more steps of smaller batches train further (DCGAN at 3
    # CPU-minutes, seed 0: FID 8.4 in 500 batches of the config's 64, 6.9 in 840 of 32, 6.1 in
    # 1,377 of 16)
    "digits_gan": Kind(
        3.0, "fid", False, True, "image GANs on digits (32x32)", ("data.batch_size=16",)
    ),
    "flow2d": Kind(0.5, "nll", False, False, "flows by maximum likelihood on 2-D sets"),
    "energy": Kind(0.5, "kl", False, False, "flows fitted to the energies by reverse KL"),
    "digits_flow": Kind(1.5, "bpd", False, False, "image flows on digits (32x32)"),
    "digits_vae": Kind(1.5, "nll", False, False, "flow VAE on binarized digits"),
}


@dataclass(frozen=True)
class Row:
    """``train.py`` overrides of one row: ``model``, ``data``, the length at the kind's
    budget and anything else the row needs (an experiment, a learning rate)."""

    model: str
    data: str
    kind: str
    length: tuple[str, ...]
    extra: tuple[str, ...] = field(default=())


def epochs(n: int) -> tuple[str, ...]:
    return (f"trainer.max_epochs={n}",)


def batches(n: int) -> tuple[str, ...]:
    """``n`` training batches in one epoch (for rows whose batch is expensive)."""
    return ("trainer.max_epochs=1", f"+trainer.limit_train_batches={n}")


def with_kind(kind: str, own: tuple[str, ...] | list[str]) -> list[str]:
    """``own``, then the kind's overrides; a key in ``own`` wins over the kind's value of it
    (Hydra refuses a key given twice)."""
    keys = {o.split("=", 1)[0] for o in own}
    return [*own, *(o for o in KINDS[kind].overrides if o.split("=", 1)[0] not in keys)]
