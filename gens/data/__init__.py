"""Lightning data modules. Every batch is a tuple ``(x, y)``; ``y`` holds labels (zeros when the
set has none). Each module knows its shape before ``setup`` so models can size themselves."""

from gens.data.base import GensDataModule, InMemoryLoader
from gens.data.celeba import CelebADataModule
from gens.data.digits import DigitsDataModule
from gens.data.energy import EnergyDataModule
from gens.data.imagefolder import ImageFolderDataModule
from gens.data.images import ImageDataModule
from gens.data.stacked_digits import StackedDigitsDataModule
from gens.data.tabular import TabularDataModule
from gens.data.toy import ToyDataModule
from gens.data.vision import (
    CIFAR10DataModule,
    FashionMNISTDataModule,
    LSUNDataModule,
    MNISTDataModule,
)

__all__ = [
    "CelebADataModule",
    "CIFAR10DataModule",
    "DigitsDataModule",
    "EnergyDataModule",
    "FashionMNISTDataModule",
    "GensDataModule",
    "ImageDataModule",
    "ImageFolderDataModule",
    "InMemoryLoader",
    "LSUNDataModule",
    "MNISTDataModule",
    "StackedDigitsDataModule",
    "TabularDataModule",
    "ToyDataModule",
]
