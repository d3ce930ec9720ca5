"""The semi-supervised GAN: Salimans et al. 2016, Improved Techniques for Training GANs (Sec. 5),
with Odena 2016 (Semi-Supervised Learning with Generative Adversarial Networks) as the option
of an explicit fake class.

D is a K-class classifier whose fake class has the implicit logit 0
(``gens.nets.SemiSupervisedDiscriminator``); with ``explicit_fake=true`` it has K + 1 logits.
Each step D minimizes the cross-entropy on a labelled batch plus ``unlabeled_weight`` times the
unlabelled loss on a batch of all training data and a generated batch
(``gens.gan.label_losses``); G minimizes feature matching, the squared distance between D's
mean features on a separate unlabelled batch and on generated samples, which Salimans et al.
found best for the classifier though not for the samples. ``generator_loss=nonsaturating`` (or
any generator loss of ``gens.gan.losses``) trains G as Odena's SGAN does, to have its samples
judged real: that loss of the real/fake logit D's class logits imply. ``data.labels_per_class``
picks the labelled subset (``gens.data.semi``); without it every training label is used and G
matches the features of D's own batch. ``val/acc`` and ``test/acc`` are D's accuracy on the
held-out splits, whose labels it never trains on.
"""

from __future__ import annotations

import torch

from gens.gan.game import GAN
from gens.gan.label_losses import (
    ac_class_loss,
    feature_matching,
    ssgan_real_logit,
    ssgan_unlabeled_loss,
)
from gens.gan.losses import G_LOSSES
from gens.gan.regularizers import Judged
from gens.nets.heads import SemiSupervisedDiscriminator
from gens.utils.errors import ConfigError, IncompatibleDataError

__all__ = ["GENERATOR_LOSSES", "SSGAN"]

# feature matching, or an adversarial loss of gens.gan.losses on the implied real/fake logit
GENERATOR_LOSSES = ("feature_matching", *G_LOSSES)


class SSGAN(GAN):
    """Args (beyond ``GAN``'s): ``explicit_fake`` (Odena's K + 1 classes), ``unlabeled_weight``,
    ``head_hidden`` (a hidden layer before the class logits), ``generator_loss``
    (``feature_matching``, or a name in ``gens.gan.losses.G_LOSSES``). ``discriminator``
    builds the body; the model adds the class logits. G is unconditional."""

    def __init__(self, generator, discriminator, optimizer_g, optimizer_d, **kwargs):
        self.explicit_fake = bool(kwargs.pop("explicit_fake", False))
        self.unlabeled_weight = float(kwargs.pop("unlabeled_weight", 1.0))
        head_hidden = int(kwargs.pop("head_hidden", 0))
        self.generator_loss = str(kwargs.pop("generator_loss", "feature_matching"))
        if self.generator_loss not in GENERATOR_LOSSES:
            raise ConfigError(
                f"model.generator_loss must be one of {', '.join(GENERATOR_LOSSES)}, "
                f"got {self.generator_loss!r}"
            )
        if not kwargs.get("num_classes"):
            raise IncompatibleDataError(
                f"{type(self).__name__} needs a labelled data set (data with num_classes), e.g. "
                "data=digits data.labels_per_class=10"
            )
        if kwargs.get("conditional"):
            raise ConfigError("SSGAN's generator is unconditional; drop model.conditional")
        if self.unlabeled_weight < 0:
            raise ConfigError(f"model.unlabeled_weight must be >= 0, got {self.unlabeled_weight}")
        k, explicit = int(kwargs["num_classes"]), self.explicit_fake

        def classifier(data_shape, num_classes=None):
            return SemiSupervisedDiscriminator(discriminator, data_shape, k, head_hidden, explicit)

        super().__init__(generator, classifier, optimizer_g, optimizer_d, **kwargs)
        # (x_lab, y_lab, x_unl2) of the current training batch, set by training_step
        self._batch_extra: tuple | None = None

    def training_step(self, batch, batch_idx):
        # (x, y, x_lab, y_lab, x_unl2) with data.labels_per_class, else (x, y): all labelled
        if len(batch) >= 5:
            self._batch_extra = tuple(batch[2:5])
        else:
            self._batch_extra = (batch[0], batch[1], batch[0])
        return super().training_step(batch, batch_idx)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """D's class logits (K, or K + 1 with the explicit fake class last)."""
        return self.discriminator.heads(x)[1]

    def d_objective(self, real, y):
        """Outside a training step (no labelled batch stored) ``y`` labels ``real``; with
        neither, only the unlabelled term is computed."""
        if self._batch_extra is not None:
            x_lab, y_lab, _ = self._batch_extra
        else:
            x_lab, y_lab = (real, y) if y is not None else (None, None)
        with torch.no_grad():
            fake = self.generator(self.noise(len(real)))
        l_unl, l_fake = self.logits(real), self.logits(fake)
        unl = ssgan_unlabeled_loss(l_unl, l_fake, self.explicit_fake)
        loss, logs = self.unlabeled_weight * unl, {"d_unl": unl.detach()}
        if x_lab is not None:
            l_lab = self.logits(x_lab)
            sup = ac_class_loss(l_lab, y_lab)
            loss = loss + sup
            logs["d_sup"] = sup.detach()
            logs["d_acc"] = (l_lab[:, : self.num_classes].argmax(1) == y_lab).float().mean()
        logs["d_loss"] = loss
        s_unl = ssgan_real_logit(l_unl, self.explicit_fake)
        s_fake = ssgan_real_logit(l_fake, self.explicit_fake)
        return loss, logs, Judged((real, None), (fake, None), s_unl, s_fake)

    def g_objective(self, real, y):
        if self.generator_loss in G_LOSSES:
            fake = self.generator(self.noise(len(real)))
            s_fake = ssgan_real_logit(self.logits(fake), self.explicit_fake)
            loss = G_LOSSES[self.generator_loss](s_fake)
            return loss, {"g_loss": loss}
        x_unl2 = real if self._batch_extra is None else self._batch_extra[2]
        with torch.no_grad():
            f_real = self.discriminator.features(x_unl2)
        f_fake = self.discriminator.features(self.generator(self.noise(len(x_unl2))))
        loss = feature_matching(f_real, f_fake)
        return loss, {"g_loss": loss}

    @torch.no_grad()
    def eval_losses(self, real, y, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """D's unlabelled loss against fresh samples and its accuracy on the held-out batch."""
        fake = self.generator(self.noise(len(real), generator))
        l_real, l_fake = self.logits(real), self.logits(fake)
        acc = (l_real[:, : self.num_classes].argmax(1) == y).float().mean()
        d_loss = ssgan_unlabeled_loss(l_real, l_fake, self.explicit_fake)
        return {"d_loss": d_loss, "acc": acc, "error": 1.0 - acc}
