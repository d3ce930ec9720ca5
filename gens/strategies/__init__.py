"""Lightning strategies for gens (``trainer.strategy``)."""

from gens.strategies.per_optimizer_ddp import PerOptimizerDDP

__all__ = ["PerOptimizerDDP"]
