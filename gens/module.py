"""The base LightningModule of every gens model: what the framework relies on.

- ``sample(n, y=None)`` returns samples in data space (images in [-1, 1], NCHW; vectors N x D).
- Checkpoints carry the model's config (``gens_meta``) so ``gens.utils.checkpoint.load_model``
  rebuilds any model from its checkpoint alone, plus the RNG states and model counters, so a
  resumed run continues exactly.
- ``check_finite`` records the losses of the coming optimizer step on the device
  (``checked_losses``), without waiting for them; ``gens.callbacks.DivergenceGuard`` checks
  them and the gradients, and stops training with a message naming step and loss or skips the
  step (``divergence.policy``).
- What callbacks need is declared, never guessed: ``monitor`` (the metric a best checkpoint
  tracks, from the model config), ``double_backward_networks`` (networks that gradient
  penalties differentiate twice, which ``torch.compile`` cannot).
"""

from __future__ import annotations

import inspect
import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch

from gens.optim.schedules import run_length
from gens.utils.divergence import DivergenceError
from gens.utils.errors import IncompatibleDataError

__all__ = ["GensModule", "DivergenceError"]


def _rng_state() -> dict[str, Any]:
    py_state = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "python": list(py_state[1]),
        "python_version": py_state[0],
        "python_gauss": py_state[2],
        "numpy": torch.from_numpy(np.random.get_state()[1].astype(np.int64)),
        "numpy_pos": int(np.random.get_state()[2]),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    py = tuple(int(v) for v in state["python"])
    random.setstate((state["python_version"], py, state["python_gauss"]))
    np.random.set_state(("MT19937", state["numpy"].numpy().astype(np.uint32), state["numpy_pos"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class GensModule(pl.LightningModule):
    """Holds the data description every model sizes itself from."""

    #: data-module kinds the model trains on (``vector``, ``image``, ``energy``)
    data_kinds: tuple[str, ...] = ("vector", "image")

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int | None = None,
        num_levels: int | None = None,
        monitor: str | None = None,
    ):
        super().__init__()
        self.data_shape = tuple(int(s) for s in data_shape)
        self.num_classes = None if num_classes is None else int(num_classes)
        self.num_levels = None if num_levels is None else int(num_levels)
        #: the validation metric (minimized) a best checkpoint of this model tracks; None
        #: leaves it to the data config (``callbacks.model_checkpoint.monitor``)
        self.monitor = monitor
        #: the losses of the last ``check_finite``: (names, values as one float32 tensor)
        self.checked_losses: tuple[tuple[str, ...], torch.Tensor] | None = None
        self.gens_meta: dict[str, Any] = {}
        self._pending_rng: dict[str, Any] | None = None

    # --- what every model provides -------------------------------------------------------
    def sample(self, n: int, y: torch.Tensor | None = None, **kwargs) -> torch.Tensor:
        raise NotImplementedError

    @property
    def is_image(self) -> bool:
        return len(self.data_shape) == 3

    @property
    def double_backward_networks(self) -> tuple[str, ...]:
        """Names of sub-networks whose input gradients are penalized (double backward)."""
        return ()

    @property
    def fitting(self) -> bool:
        """Whether a trainer is fitting this model now (validation during training included)."""
        return self._trainer is not None and self.trainer.state.fn == "fit"

    def grad_scaler(self):
        """The GradScaler of fp16 mixed precision (for penalties on input gradients), or None."""
        return getattr(self.trainer.precision_plugin, "scaler", None) if self._trainer else None

    # --- sampling with a fitted part ------------------------------------------------------
    def sampler_fit_needed(self) -> bool:
        """Whether ``sample()`` needs ``fit_sampler`` first (e.g. a GAN's rejection sampler
        not fitted to the current weights)."""
        return False

    def fit_sampler(self, real_batches) -> None:
        """Fit what sampling needs from real data (an iterable of batches); nothing here."""

    # --- learning-rate schedules over the run --------------------------------------------
    def optimizer_steps_per_batch(self) -> float:
        """Optimizer steps per training batch (how ``trainer.max_steps`` counts)."""
        return 1.0

    def scheduler_steps_per_batch(self) -> float:
        """Scheduler steps per training batch at ``interval="step"``."""
        return 1.0

    def build_scheduler(self, factory: Callable, optimizer, interval: str):
        """``factory(optimizer)``, with ``total_steps`` (its steps in this run at ``interval``)
        when the factory takes it (``gens.optim.CosineDecay``)."""
        if "total_steps" not in inspect.signature(factory).parameters:
            return factory(optimizer)
        epochs, batches = run_length(self.trainer, self.optimizer_steps_per_batch())
        total = epochs if interval == "epoch" else batches * self.scheduler_steps_per_batch()
        return factory(optimizer, total_steps=max(1, round(total)))

    def check_data(self, dm) -> None:
        """Raise ``IncompatibleDataError`` when ``dm`` is a kind of data this model does not
        train on (checked when the run is built, and again at ``setup``)."""
        kind = getattr(dm, "kind", None)
        if kind is not None and kind not in self.data_kinds:
            raise IncompatibleDataError(
                f"{type(self).__name__} trains on {' or '.join(self.data_kinds)} data, but "
                f"data= is a {kind} set ({type(dm).__name__}); pick a model for {kind} data "
                "or another data="
            )

    def setup(self, stage: str) -> None:
        if self._trainer is not None:
            self.check_data(getattr(self.trainer, "datamodule", None))

    @classmethod
    def load_from_checkpoint(
        cls,
        checkpoint_path,
        map_location=None,
        hparams_file=None,
        strict: bool | None = None,
        weights_only: bool | None = None,
        **overrides: Any,
    ):
        """Lightning's loader, for gens checkpoints: the model is rebuilt from the config stored
        in the checkpoint (``gens.utils.checkpoint.load_model``, weights only, eval mode), with
        ``overrides`` replacing entries of that config. Raises ``CheckpointError`` when the file
        holds another kind of model than ``cls``."""
        from gens.utils.checkpoint import load_model

        if hparams_file is not None:
            raise TypeError("gens checkpoints carry their config; hparams_file is not used")
        return load_model(
            checkpoint_path,
            map_location or "cpu",
            expect=cls,
            overrides=overrides,
            strict=True if strict is None else bool(strict),
        )

    # --- model state beyond parameters, for exact resume ---------------------------------
    def extra_state(self) -> dict[str, Any]:
        """Counters and scalars (BEGAN's k_t, step counts) saved in checkpoints."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        pass

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["gens"] = {
            "meta": self.gens_meta,
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "rng": _rng_state(),
            "extra": self.extra_state(),
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("gens", {})
        self.load_extra_state(state.get("extra", {}))
        # Applied at train start: restoring now would be undone by anything that runs between
        # checkpoint restore and the first batch (e.g. the sanity check).
        self._pending_rng = state.get("rng")

    def on_train_start(self) -> None:
        if self._pending_rng is not None:
            _set_rng_state(self._pending_rng)
            self._pending_rng = None

    # --- divergence -----------------------------------------------------------------------
    def check_finite(self, losses: dict[str, torch.Tensor]) -> None:
        """Call before the optimizer step of these losses: records them (``checked_losses``)
        for ``DivergenceGuard``, which stops training or skips that step when one is NaN/Inf.
        Nothing here waits for the device."""
        named = [
            (k, v.detach().reshape(()).float()) for k, v in losses.items() if torch.is_tensor(v)
        ]
        if not named:
            self.checked_losses = None
            return
        self.checked_losses = (tuple(k for k, _ in named), torch.stack([v for _, v in named]))

    @property
    def nonfinite_loss(self) -> str:
        """The non-finite losses of the last ``check_finite`` ("" when all were finite); reading
        it waits for the device."""
        if self.checked_losses is None:
            return ""
        names, values = self.checked_losses
        bad = [f"{k}={v}" for k, v in zip(names, values.tolist()) if not math.isfinite(v)]
        return "non-finite loss " + ", ".join(bad) if bad else ""
