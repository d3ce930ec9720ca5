"""The divergence error and its message: which step, which loss or gradient, the likely cause.

A NaN or Inf in a loss or a gradient is caught before the optimizer step it would poison
(``GensModule.check_finite`` records the losses, ``gens.callbacks.DivergenceGuard`` checks them
and the gradients), so the weights in memory and in ``last.ckpt`` are still the last good ones.
The advice on learning rates quotes the model's own optimizer keys and the values its config
ships with, so a flow is not told a GAN's learning rates.
"""

from __future__ import annotations

from pathlib import Path

from gens.utils.errors import GensError

__all__ = ["DivergenceError", "divergence_message", "likely_cause", "optimizer_lrs"]

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


class DivergenceError(GensError, FloatingPointError):
    """A loss or gradient became NaN or Inf, or a loss exploded."""


def _lrs(module) -> list[float]:
    trainer = getattr(module, "_trainer", None)
    if trainer is None:
        return []
    return [float(g["lr"]) for opt in trainer.optimizers for g in opt.param_groups if "lr" in g]


def optimizer_lrs(model_cfg) -> dict[str, float]:
    """``{"model.<key>.lr": lr}`` for every optimizer factory in a model config."""
    out = {}
    for key, node in (model_cfg or {}).items():
        target = str(node.get("_target_", "")) if hasattr(node, "get") else ""
        if target.startswith("torch.optim.") and node.get("lr") is not None:
            out[f"model.{key}.lr"] = float(node["lr"])
    return out


def _shipped_lrs() -> tuple[str, dict[str, float]]:
    """The model config this run was composed from and the learning rates it ships with
    (empty when the run did not come from Hydra)."""
    try:
        from hydra import compose, initialize_config_dir
        from hydra.core.global_hydra import GlobalHydra
        from hydra.core.hydra_config import HydraConfig

        name = HydraConfig.get().runtime.choices.get("model")
        if not name:
            return "", {}
        overrides = [f"model={name}"]
        if GlobalHydra.instance().is_initialized():
            cfg = compose(config_name="train.yaml", overrides=overrides)
        else:
            with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
                cfg = compose(config_name="train.yaml", overrides=overrides)
        return f"configs/model/{name}.yaml", optimizer_lrs(cfg.model)
    except Exception:  # advice only: a config that cannot be composed again gives none
        return "", {}


def _lr_advice(module) -> str:
    mine = optimizer_lrs(getattr(module, "gens_meta", {}).get("model"))
    if not mine:
        return "lower the optimizer's learning rate"
    source, shipped = _shipped_lrs()
    ships = {k: v for k, v in shipped.items() if k in mine}
    advice = f"lower {' and '.join(mine)}"
    if ships:
        advice += f" ({source} trains at " + ", ".join(f"{k}={v:g}" for k, v in ships.items())
        advice += ")"
    return advice


def likely_cause(module) -> str:
    top = max(_lrs(module), default=0.0)
    if top >= 0.1:
        return f"learning rate {top:g} is far too high for this model; {_lr_advice(module)}"
    trainer = getattr(module, "_trainer", None)
    precision = str(getattr(trainer, "precision", "")) if trainer is not None else ""
    if precision.startswith("16"):
        return "fp16 overflow; use trainer.precision=bf16-mixed or 32-true"
    return (
        f"learning rate too high or an unstable loss; {_lr_advice(module)}, add a regularizer "
        "(e.g. a gradient penalty), or set divergence.policy=skip"
    )


def _kept(module) -> str:
    """What is on disk: the last checkpoint if one was written, else that none was."""
    trainer = getattr(module, "_trainer", None)
    for cb in getattr(trainer, "checkpoint_callbacks", None) or []:
        for path in (getattr(cb, "last_model_path", ""), getattr(cb, "best_model_path", "")):
            if path and Path(path).is_file():
                shown = f"{Path(path).parent.name}/{Path(path).name}"
                return f"the last good checkpoint ({shown}) is kept"
    return "no checkpoint had been written yet; the run directory keeps its log"


def divergence_message(
    module,
    what: str,
    step: int | None = None,
    epoch: int | None = None,
    stopped: str = "Stopped before the optimizer step",
) -> str:
    """One line: step, epoch, the offending quantity, the likely cause, what was kept.
    ``stopped`` says what happened to the weights (a guard that reads the device late says
    which updates it skipped)."""
    step = module.global_step if step is None else step
    epoch = module.current_epoch if epoch is None else epoch
    return (
        f"training diverged at global step {step} (epoch {epoch}): {what}; likely cause: "
        f"{likely_cause(module)}. {stopped}; {_kept(module)}"
    )
