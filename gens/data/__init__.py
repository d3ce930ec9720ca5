"""Lightning data modules. Every batch is a tuple ``(x, y)``; ``y`` holds labels (zeros when the
set has none). Each module knows its shape before ``setup`` so models can size themselves."""

from gens.data.base import GensDataModule, InMemoryLoader
from gens.data.toy import ToyDataModule

__all__ = ["GensDataModule", "InMemoryLoader", "ToyDataModule"]
