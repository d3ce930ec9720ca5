"""Losses of the GANs whose discriminator predicts labels or latent codes, as pure functions.

- AC-GAN (Odena et al. 2017): with L_S = E log P(S = source | x) and L_C = E log P(C = c | x),
  both on real *and* generated images, D maximizes L_S + L_C and G maximizes L_C - L_S. As
  losses to minimize: D's is its GAN loss plus ``ac_class_loss`` on real and on generated
  images, G's its GAN loss plus ``ac_class_loss`` on generated images.
- Semi-supervised GAN (Salimans et al. 2016, Improved Techniques for Training GANs): D has K
  class logits ``l`` and an implicit fake logit 0, so D(x) = Z / (Z + 1) with
  Z = sum exp(l). On labelled data the K-way cross-entropy, on unlabelled real and generated
  data (``ssgan_unlabeled_loss``)

      -1/2 E lse(l_unl) + 1/2 E softplus(lse(l_unl)) + 1/2 E softplus(lse(l_fake)),

  and G matches D's mean features on real data (``feature_matching``). With an explicit
  (K+1)-th fake logit (Odena 2016) ``lse(l)`` becomes ``lse(l[:K]) - l[K]`` and the same
  formula is -log(1 - p_fake) on real and -log p_fake on generated data.
- InfoGAN (Chen et al. 2016): the variational lower bound of I(c; G(z, c)) is
  H(c) + E log Q(c | G(z, c)); ``info_nll`` is -E log Q(c | x), summed over the codes: the
  cross-entropy of each categorical code and the Gaussian negative log-likelihood of the
  continuous ones (unit std, or a learned one).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F  # noqa: N812

__all__ = [
    "ac_class_loss",
    "feature_matching",
    "gaussian_nll",
    "info_nll",
    "ssgan_real_logit",
    "ssgan_unlabeled_loss",
]


def ac_class_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """-E log P(C = y | x): the negated L_C term of one batch (K class logits)."""
    return F.cross_entropy(logits, y)


def ssgan_real_logit(logits: torch.Tensor, explicit_fake: bool = False) -> torch.Tensor:
    """The real/fake logit implied by the class logits: ``lse(l)`` with the fake logit fixed
    at 0, ``lse(l[:K]) - l[K]`` with an explicit fake class."""
    if explicit_fake:
        return torch.logsumexp(logits[:, :-1], 1) - logits[:, -1]
    return torch.logsumexp(logits, 1)


def ssgan_unlabeled_loss(
    l_unl: torch.Tensor, l_fake: torch.Tensor, explicit_fake: bool = False
) -> torch.Tensor:
    """D's loss on unlabelled real logits ``l_unl`` and generated ones ``l_fake``."""
    s_unl = ssgan_real_logit(l_unl, explicit_fake)
    s_fake = ssgan_real_logit(l_fake, explicit_fake)
    return -0.5 * s_unl.mean() + 0.5 * F.softplus(s_unl).mean() + 0.5 * F.softplus(s_fake).mean()


def feature_matching(f_real: torch.Tensor, f_fake: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of D's mean features on real and generated batches."""
    return (f_real.float().mean(0) - f_fake.float().mean(0)).pow(2).mean()


def gaussian_nll(c: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor | None = None):
    """-log N(c; mean, std^2) per example, summed over dimensions (std 1 without ``log_std``)."""
    log_std = torch.zeros_like(mean) if log_std is None else log_std
    z = (c - mean) * torch.exp(-log_std)
    return (0.5 * z.pow(2) + log_std + 0.5 * math.log(2 * math.pi)).sum(1)


def info_nll(
    cat_logits: list[torch.Tensor],
    cat_codes: list[torch.Tensor],
    cont_mean: torch.Tensor | None = None,
    cont_codes: torch.Tensor | None = None,
    cont_log_std: torch.Tensor | None = None,
    continuous_weight: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(categorical part, continuous part)`` of -E log Q(c | x) over the batch."""
    cat = sum((F.cross_entropy(lg, c) for lg, c in zip(cat_logits, cat_codes)), torch.zeros(()))
    cont = torch.zeros(())
    if cont_mean is not None and cont_mean.shape[1] > 0:
        cont = continuous_weight * gaussian_nll(cont_codes, cont_mean, cont_log_std).mean()
    return cat, cont
