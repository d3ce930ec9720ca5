"""What turns a trained generator into samples: EMA weights, standing BatchNorm statistics,
truncation and discriminator rejection sampling, composed by ``GeneratorSampler``."""

from gens.sampling.ema import make_ema, update_ema
from gens.sampling.rejection import DiscriminatorRejection, acceptance_probability
from gens.sampling.sampler import GeneratorSampler
from gens.sampling.standing_stats import has_batch_norm, recompute_batch_norm_stats
from gens.sampling.truncation import truncate

__all__ = [
    "DiscriminatorRejection",
    "GeneratorSampler",
    "acceptance_probability",
    "has_batch_norm",
    "make_ema",
    "recompute_batch_norm_stats",
    "truncate",
    "update_ema",
]
