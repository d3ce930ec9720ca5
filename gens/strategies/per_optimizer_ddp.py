"""Data parallelism that averages each network's gradients only at its own optimizer step.

A GAN step is two backward passes over different parameter sets (the D loss reaches only D,
the G loss only G). One ``DistributedDataParallel`` wrapper around the whole LightningModule
(Lightning's ``ddp_find_unused_parameters_true``) all-reduces the buckets of *both* networks
in every backward and walks the autograd graph to find the unused half. ``PerOptimizerDDP``
keeps the synchronous data-parallel semantics of DDP (Li et al. 2020, "PyTorch Distributed")
without the wrapper:

- at setup, rank 0's parameters and buffers are broadcast, so all ranks start identical;
- at ``optimizer.step()`` (manual optimization) or after the closure's backward (automatic
  optimization), the gradients of exactly that optimizer's parameters are averaged over the
  ranks in a few coalesced all-reduces (``gens.strategies.coalesced``), before gradient
  clipping, the GradScaler's inf check and the step itself, so all ranks take (or skip) the
  same step;
- before each training batch, rank 0's buffers (BatchNorm running statistics) are broadcast, as
  DDP's ``broadcast_buffers`` does before each forward, and again before validation and at the
  end of training, so ranks also evaluate and end identical.

Nothing hooks autograd: gradient penalties (double backward), several backward passes before a
step, ``no_sync``-style accumulation and frozen networks need no special care, and the module
stays unwrapped, so checkpoint keys, EMA updates and subclass hooks see the plain networks.
``trainer.sync_batchnorm=true`` still converts BatchNorm layers (Lightning's layer sync).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.strategies import DDPStrategy
from pytorch_lightning.utilities.rank_zero import rank_zero_info

from gens.strategies.coalesced import all_reduce_gradients, broadcast_tensors
from gens.utils.errors import ConfigError

__all__ = ["PerOptimizerDDP"]

# Options of torch's DistributedDataParallel wrapper, which this strategy does not create.
_WRAPPER_ONLY = (
    "find_unused_parameters",
    "static_graph",
    "gradient_as_bucket_view",
    "device_ids",
    "output_device",
    "dim",
    "check_reduction",
    "delay_all_reduce_named_params",
    "param_to_hook_all_reduce",
    "mixed_precision",
    "init_sync",
)


class PerOptimizerDDP(DDPStrategy):
    """DDP without a ``DistributedDataParallel`` wrapper: gradients are averaged per optimizer
    step, over that optimizer's parameters only.

    Args:
        bucket_cap_mb: size of one coalesced all-reduce / broadcast message (DDP's default 25).
        broadcast_buffers: broadcast rank 0's buffers before every training batch.
        **kwargs: the arguments of Lightning's ``DDPStrategy`` (``accelerator``,
            ``process_group_backend``, ``timeout``, ``start_method``, ...).

    Example (``configs/trainer/ddp_sim_per_optimizer.yaml``)::

        strategy:
          _target_: gens.strategies.PerOptimizerDDP
          start_method: popen
    """

    def __init__(self, bucket_cap_mb: float = 25.0, broadcast_buffers: bool = True, **kwargs):
        wrapper_only = sorted(k for k in kwargs if k in _WRAPPER_ONLY)
        if wrapper_only:
            raise ConfigError(
                f"trainer.strategy: PerOptimizerDDP does not wrap the model in "
                f"DistributedDataParallel, so {', '.join(wrapper_only)} has no meaning; drop it "
                "or use trainer.strategy=ddp_find_unused_parameters_true"
            )
        for name in ("ddp_comm_hook", "ddp_comm_wrapper", "ddp_comm_state"):
            if kwargs.get(name) is not None:
                raise ConfigError(
                    f"trainer.strategy: PerOptimizerDDP has no DDP communication hooks "
                    f"({name}); use trainer.strategy=ddp_find_unused_parameters_true for them"
                )
        if float(bucket_cap_mb) <= 0:
            raise ConfigError(f"trainer.strategy.bucket_cap_mb must be > 0, got {bucket_cap_mb}")
        super().__init__(**kwargs)
        self.bucket_bytes = int(float(bucket_cap_mb) * 1024 * 1024)
        self.broadcast_buffers = bool(broadcast_buffers)

    # --- setup: no wrapper, identical start ----------------------------------------------
    def configure_ddp(self) -> None:
        """Instead of wrapping: broadcast rank 0's parameters and buffers (DDP's init sync)."""
        assert isinstance(self.model, pl.LightningModule)
        state = [*self.model.parameters(), *self.model.buffers()]
        broadcast_tensors([t.data for t in state], self.bucket_bytes, src=0)
        rank_zero_info(
            f"PerOptimizerDDP: {self.world_size} ranks, gradients averaged per optimizer step"
        )

    # --- the step ------------------------------------------------------------------------
    def optimizer_step(
        self,
        optimizer: torch.optim.Optimizer,
        closure: Callable[[], Any],
        model: pl.LightningModule | torch.nn.Module | None = None,
        **kwargs: Any,
    ) -> Any:
        # Under manual optimization the closure does nothing (backward already ran); under
        # automatic optimization it runs training_step and backward. Either way the precision
        # plugin calls it before unscaling, clipping and stepping: the place to average.
        def closure_then_average():
            out = closure()
            self.reduce_gradients(optimizer)
            return out

        return super().optimizer_step(optimizer, closure_then_average, model, **kwargs)

    def reduce_gradients(self, optimizer: torch.optim.Optimizer) -> None:
        """Average the gradients of ``optimizer``'s parameters over all ranks, in place."""
        if self.world_size <= 1:
            return
        seen: set[int] = set()
        params = []
        for group in optimizer.param_groups:
            for p in group["params"]:
                if id(p) not in seen:
                    seen.add(id(p))
                    params.append(p)
        all_reduce_gradients(params, self.world_size, self.bucket_bytes)

    # --- buffers: rank 0's, before every batch (as DDP before every forward) and at the end
    # Not inside the step: under automatic optimization the closure's forward and backward
    # run there, and overwriting BatchNorm statistics in between breaks autograd.
    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        super().on_train_batch_start(batch, batch_idx)
        self.sync_buffers()

    def on_validation_start(self) -> None:
        super().on_validation_start()
        self.sync_buffers()

    def on_train_end(self) -> None:
        super().on_train_end()
        self.sync_buffers()

    def sync_buffers(self) -> None:
        """Overwrite every buffer (BatchNorm statistics, ...) with rank 0's."""
        if not self.broadcast_buffers or self.world_size <= 1 or self.lightning_module is None:
            return
        ignore = set(getattr(self.lightning_module, "_ddp_params_and_buffers_to_ignore", ()))
        bufs = [b for n, b in self.lightning_module.named_buffers() if n not in ignore]
        if bufs:
            broadcast_tensors(bufs, self.bucket_bytes, src=0)
