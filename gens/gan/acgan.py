"""AC-GAN: Odena, Olah & Shlens 2017, Conditional Image Synthesis with Auxiliary Classifier GANs.

G draws x = G(z, c) for a class c; D returns one real/fake logit and K class logits from shared
features (``gens.nets.AuxiliaryDiscriminator``; K class logits, not K + 1 classes). With

    L_S = E log P(S = real | x_real) + E log P(S = fake | x_fake),
    L_C = E log P(C = c | x_real) + E log P(C = c | x_fake),

D maximizes L_S + L_C and G maximizes L_C - L_S (Sec. 3): the class term is on real *and*
generated images for D, and on generated ones for G, whose adversarial half is the configured
generator loss (non-saturating by default). ``class_weight`` scales L_C in both.

Known bias (Shu et al. 2017; Gong et al. 2019, TAC-GAN): maximizing L_C on generated samples
pushes G towards samples its classifier finds easy, so where classes overlap AC-GAN leaves the
overlap empty; ``benchmarks/conditional.py`` shows it on a 1-D mixture.
"""

from __future__ import annotations

import torch

from gens.gan.game import GAN
from gens.gan.label_losses import ac_class_loss
from gens.gan.regularizers import Judged
from gens.nets.heads import AuxiliaryDiscriminator
from gens.utils.errors import ConfigError, IncompatibleDataError

__all__ = ["ACGAN"]


class ACGAN(GAN):
    """Args (beyond ``GAN``'s): ``class_weight`` (the weight of L_C), ``head_hidden`` (a hidden
    layer in the class head, 0 for a linear one). ``discriminator`` builds the shared body; the
    model adds the class head. Always conditional (G takes labels), so it needs labelled data.
    """

    def __init__(self, generator, discriminator, optimizer_g, optimizer_d, **kwargs):
        class_weight = float(kwargs.pop("class_weight", 1.0))
        head_hidden = int(kwargs.pop("head_hidden", 0))
        if not kwargs.get("num_classes"):
            raise IncompatibleDataError(
                f"{type(self).__name__} needs a labelled data set (data with num_classes), e.g. "
                "data=digits"
            )
        if kwargs.get("conditional") is False:
            raise ConfigError(f"{type(self).__name__} is conditional; drop model.conditional")
        kwargs["conditional"] = True
        if class_weight < 0:
            raise ConfigError(f"model.class_weight must be >= 0, got {class_weight}")
        self.class_weight = class_weight

        def with_class_head(data_shape, num_classes=None):
            return AuxiliaryDiscriminator(discriminator, data_shape, num_classes, head_hidden)

        super().__init__(generator, with_class_head, optimizer_g, optimizer_d, **kwargs)

    def d_objective(self, real, y):
        y_fake = self.random_labels(len(real))
        with torch.no_grad():
            fake = self.generator(self.noise(len(real)), y_fake)
        src_real, cls_real = self.discriminator.heads(real)
        src_fake, cls_fake = self.discriminator.heads(fake)
        adv = self.d_loss_fn(src_real, src_fake)
        cls = ac_class_loss(cls_real, y) + ac_class_loss(cls_fake, y_fake)
        loss = adv + self.class_weight * cls
        with torch.no_grad():
            acc = (cls_real.argmax(1) == y).float().mean()
        logs = {"d_loss": loss, "d_adv": adv.detach(), "d_cls": cls.detach(), "d_acc": acc}
        return loss, logs, Judged((real, y), (fake, y_fake), src_real, src_fake)

    def g_objective(self, real, y):
        y_fake = self.random_labels(len(real))
        src, cls_logits = self.discriminator.heads(self.generator(self.noise(len(real)), y_fake))
        adv, cls = self.g_loss_fn(src), ac_class_loss(cls_logits, y_fake)
        loss = adv + self.class_weight * cls
        return loss, {"g_loss": loss, "g_adv": adv.detach(), "g_cls": cls.detach()}

    @torch.no_grad()
    def eval_losses(self, real, y, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """D's GAN loss on held-out data against fresh samples, and its class accuracy on the
        held-out images (``acc``)."""
        y_fake = torch.randint(
            0, self.num_classes, (len(real),), device=self.device, generator=generator
        )
        fake = self.generator(self.noise(len(real), generator), y_fake)
        src_real, cls_real = self.discriminator.heads(real)
        d_loss = self.d_loss_fn(src_real, self.discriminator(fake))
        return {"d_loss": d_loss, "acc": (cls_real.argmax(1) == y).float().mean()}
