"""The user tools, installed as console commands (``pyproject.toml``, ``[project.scripts]``).

- ``gens-train`` (``gens.train``): train a model, as ``python train.py``;
- ``gens-sample`` (``gens.cli.sample``): samples of a checkpoint as ``.npz`` and a figure;
- ``gens-evaluate`` (``gens.cli.evaluate``): test metrics of a checkpoint, or scores of samples;
- ``gens-interpolate`` (``gens.cli.interpolate``): latent walks and latent arithmetic;
- ``gens-train-classifier`` (``gens.cli.train_classifier``): the domain feature extractor.

Each is a Hydra app on the repository's ``configs/`` (``<tool>.yaml``), also run as
``python scripts/<tool>.py``; ``--help`` shows its usage and options.
"""

from pathlib import Path

CONFIG_DIR = str(Path(__file__).resolve().parents[2] / "configs")

__all__ = ["CONFIG_DIR"]
