"""Opt-in speed options for a model's networks: channels-last memory format and torch.compile.

- ``channels_last``: 4-D weights (and so the activations of convolutions) in NHWC layout, which
  tensor-core convolutions on recent GPUs prefer, notably with bf16/fp16 mixed precision.
- ``compile``: ``nn.Module.compile`` on each network *in place*: the module keeps its class and
  parameter names, so checkpoints, EMA copies and ``load_model`` are unchanged.

Networks are the model's direct sub-modules that hold trainable parameters (``generator``,
``discriminator``, a flow's ``transform``, ...), minus a GAN's sampling pipeline (its EMA copy
and rejection discriminator), or the ones listed in ``modules``. ``torch.compile``
(AOTAutograd) has no double backward, so a network the model declares in
``double_backward_networks`` (a discriminator under a gradient penalty such as WGAN-GP's or R1)
stays eager, with a log message.
Both options are off by default::

    python train.py model=dcgan data=digits callbacks.network_options.compile=true
"""

from __future__ import annotations

from collections.abc import Sequence

import pytorch_lightning as pl
import torch
from torch import nn

from gens.sampling.sampler import GeneratorSampler
from gens.utils.errors import ConfigError
from gens.utils.logging import get_logger

log = get_logger(__name__)

__all__ = ["NetworkOptions", "networks_of"]


def networks_of(pl_module: nn.Module, names: Sequence[str] | None = None) -> dict[str, nn.Module]:
    """Named trainable networks of a model (all parameterized children, EMA copies excluded)."""
    children = dict(pl_module.named_children())
    if names:
        missing = [n for n in names if n not in children]
        if missing:
            raise ConfigError(
                f"callbacks.network_options.modules: {missing} are not sub-modules of "
                f"{type(pl_module).__name__}; choose from {sorted(children)}"
            )
        return {n: children[n] for n in names}
    return {
        n: m
        for n, m in children.items()
        if not isinstance(m, GeneratorSampler) and any(p.requires_grad for p in m.parameters())
    }


class NetworkOptions(pl.Callback):
    """Apply ``channels_last`` and/or ``torch.compile`` to the networks before training.

    Args:
        channels_last: convert 4-D parameters and buffers to ``torch.channels_last``.
        compile: compile each network's forward in place (``nn.Module.compile``).
        compile_mode: ``torch.compile`` mode (``default``, ``reduce-overhead``,
            ``max-autotune``).
        modules: names of the sub-modules to treat; default: every trainable network.
    """

    def __init__(
        self,
        channels_last: bool = False,
        compile: bool = False,
        compile_mode: str | None = None,
        modules: Sequence[str] | None = None,
    ):
        self.channels_last, self.compile = bool(channels_last), bool(compile)
        self.compile_mode = compile_mode
        self.modules = list(modules) if modules else None
        self._done = False

    def setup(self, trainer, pl_module, stage: str) -> None:
        if self._done or not (self.channels_last or self.compile):
            return
        nets = networks_of(pl_module, self.modules)
        double = set(getattr(pl_module, "double_backward_networks", ()))
        for name, net in nets.items():
            if self.channels_last:
                net.to(memory_format=torch.channels_last)
            if self.compile and name in double:
                log.info(f"not compiling {name}: its gradient penalty needs double backward")
            elif self.compile:
                net.compile(mode=self.compile_mode)
        self._done = True
        opts = [
            o for o, on in (("channels_last", self.channels_last), ("compile", self.compile)) if on
        ]
        log.info(f"{' + '.join(opts)} applied to {', '.join(nets)}")
