"""The GAN game loop: alternating discriminator and generator steps with manual optimization.

Goodfellow et al. 2014 (Generative Adversarial Nets) define the game; this module runs it for
every GAN in gens. Per batch: ``n_critic``-paced steps of the two players, each as

    loss = main objective + the configured regularizers that are due at this step

(StyleGAN2's ``Dmain``/``Dreg`` and ``Gmain``/``Greg`` phases, the lazy ones weighted by their
interval; ``gens.gan.regularizers``). Subclasses change the objectives (``d_objective`` returns
what D judged, so every regularizer applies to any subclass), add networks, or hook
``after_d_step`` (WGAN's clipping). Sampling goes through ``gens.sampling.GeneratorSampler``
(EMA weights, standing statistics, truncation, rejection).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from gens.gan.evaluation import HeldOutLosses
from gens.gan.losses import d_wasserstein, get_losses
from gens.gan.regularizers import Judged, Regularizer
from gens.gan.sampling import GeneratorSampling
from gens.module import GensModule
from gens.sampling.sampler import GeneratorSampler
from gens.utils.errors import ConfigError, IncompatibleDataError

__all__ = ["GAN"]


class GAN(GeneratorSampling, HeldOutLosses, GensModule):
    """A GAN trained with the configured losses; ``model=gan`` is Goodfellow et al. 2014.

    Args:
        generator: factory ``(latent_dim=, data_shape=, num_classes=) -> nn.Module``.
        discriminator: factory ``(data_shape=, num_classes=) -> nn.Module`` returning logits.
        optimizer_g, optimizer_d: factories ``(params) -> Optimizer`` (``_partial_`` configs).
        scheduler_g, scheduler_d: optional factories ``(optimizer) -> LRScheduler`` (a
            ``total_steps`` argument is filled with the run's length), stepped every epoch
            (``scheduler_interval=epoch``) or every generator step (``step``).
        loss: ``{"d": name, "g": name}`` from ``gens.gan.losses``.
        n_critic: discriminator steps per generator step.
        regularizers: name -> ``gens.gan.regularizers.Regularizer``, all applied.
        sampling: factory of the ``GeneratorSampler`` (EMA, standing statistics, truncation,
            rejection); ``None`` samples the training generator directly.
        conditional: feed labels to G and D (needs a labeled data set).

    ``latent_dim`` may be a mapping ``{vector: 2, image: 128}`` so one config serves both data
    kinds.
    """

    def __init__(
        self,
        generator: Callable[..., nn.Module],
        discriminator: Callable[..., nn.Module],
        optimizer_g: Callable[..., torch.optim.Optimizer],
        optimizer_d: Callable[..., torch.optim.Optimizer],
        *,
        data_shape,
        num_classes: int | None = None,
        num_levels: int | None = None,
        latent_dim: int | Mapping[str, int] = 64,
        loss: Mapping[str, str] | None = None,
        n_critic: int = 1,
        regularizers: Mapping[str, Regularizer] | None = None,
        sampling: Callable[..., GeneratorSampler] | None = None,
        scheduler_g: Callable | None = None,
        scheduler_d: Callable | None = None,
        scheduler_interval: str = "epoch",
        conditional: bool = False,
        log_every_n_steps: int = 50,
        num_fixed_samples: int = 64,
        monitor: str | None = None,
    ):
        super().__init__(data_shape, num_classes, num_levels, monitor=monitor)
        self.automatic_optimization = False
        if isinstance(latent_dim, Mapping):
            kind = "image" if self.is_image else "vector"
            if kind not in latent_dim:
                raise ConfigError(f"model.latent_dim has no entry for {kind} data")
            latent_dim = latent_dim[kind]
        loss = dict(loss or {"d": "minimax", "g": "nonsaturating"})
        self.d_loss_fn, self.g_loss_fn = get_losses(loss.get("d"), loss.get("g"))
        if int(n_critic) < 1:
            raise ConfigError(f"model.n_critic must be >= 1, got {n_critic}")
        if int(latent_dim) < 1:
            raise ConfigError(f"model.latent_dim must be >= 1, got {latent_dim}")
        if scheduler_interval not in ("epoch", "step"):
            raise ConfigError("model.scheduler_interval must be 'epoch' or 'step'")
        if conditional and not num_classes:
            raise IncompatibleDataError(
                f"{type(self).__name__} with model.conditional=true needs a labelled data set "
                "(data with num_classes); pick a labelled data= or set model.conditional=false"
            )
        self.latent_dim, self.n_critic = int(latent_dim), int(n_critic)
        self.conditional = bool(conditional)
        self.log_every_n_steps = max(1, int(log_every_n_steps))
        self.scheduler_interval = scheduler_interval
        self._optimizer_factories = (optimizer_d, optimizer_g)
        self._scheduler_factories = (scheduler_d, scheduler_g)

        nc = self.num_classes if self.conditional else None
        self.generator = generator(
            latent_dim=self.latent_dim, data_shape=self.data_shape, num_classes=nc
        )
        self.discriminator = discriminator(data_shape=self.data_shape, num_classes=nc)
        self.regularizers = dict(regularizers or {})
        for name, reg in self.regularizers.items():
            self.check_regularizer(name, reg)
        make_sampler = sampling or GeneratorSampler
        self.sampler = make_sampler(
            generator=self.generator,
            discriminator=self.discriminator,
            data_shape=self.data_shape,
            num_classes=nc,
        )
        g = torch.Generator().manual_seed(1234)
        self.register_buffer(
            "fixed_z", torch.randn(num_fixed_samples, self.latent_dim, generator=g)
        )
        fixed_y = torch.arange(num_fixed_samples) % nc if nc else torch.zeros(num_fixed_samples)
        self.register_buffer("fixed_y", fixed_y.long())
        self.d_steps = 0
        self.g_steps = 0

    def check_data(self, dm) -> None:
        super().check_data(dm)
        if self.conditional and getattr(dm, "labels_per_class", None):
            raise ConfigError(
                "data.labels_per_class hides most labels, but a conditional GAN needs every "
                "label; use it with a semi-supervised model (model=ssgan) or drop it"
            )

    def check_regularizer(self, name: str, reg: Regularizer) -> None:
        """Raise ``ConfigError`` for a regularizer this GAN cannot apply (none here)."""
        if not isinstance(reg, Regularizer):
            raise ConfigError(
                f"model.regularizers.{name} must be a gens.gan.regularizers part, got "
                f"{type(reg).__name__}"
            )

    @property
    def double_backward_networks(self) -> tuple[str, ...]:
        needs = any(r.input_gradients and r.weight > 0 for r in self.regularizers.values())
        return ("discriminator",) if needs else ()

    # --- objectives (subclasses override) ------------------------------------------------
    def d_objective(self, real, y) -> tuple[torch.Tensor, dict[str, torch.Tensor], Judged]:
        """D's main loss, what to log, and what D judged (for the regularizers)."""
        with torch.no_grad():
            fake = self.generator(self.noise(len(real)), self._gen_labels(y))
        d_real, d_fake = self.discriminator(real, y), self.discriminator(fake, y)
        loss = self.d_loss_fn(d_real, d_fake)
        logs = {"d_loss": loss}
        if self.d_loss_fn is d_wasserstein:
            logs["wdist"] = -loss.detach()
        return loss, logs, Judged((real, y), (fake, y), d_real, d_fake)

    def g_objective(self, real, y) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        fake = self.generator(self.noise(len(real)), self._gen_labels(y))
        loss = self.g_loss_fn(self.discriminator(fake, self._gen_labels(y)))
        return loss, {"g_loss": loss}

    def _gen_labels(self, y):
        """Labels for generated samples: the batch's own labels keep classes balanced."""
        return y if self.conditional else None

    def after_d_step(self) -> None:
        """Hook after each discriminator update (e.g. WGAN weight clipping)."""

    def generator_step_due(self) -> bool:
        """Whether a generator step follows this discriminator step (every ``n_critic``)."""
        return self.d_steps % self.n_critic == 0

    # --- the training loop ---------------------------------------------------------------
    def _regularize(self, player: str, step: int, loss, logs, judged: Judged | None):
        scaler = self.grad_scaler()
        for name, reg in self.regularizers.items():
            if reg.player == player and reg.due(step):
                value = reg.penalty(self, judged, scaler)
                loss = loss + reg.weight * reg.every * value
                logs[name] = value.detach()
        return loss

    def _step(self, opt, loss, logs) -> None:
        self.check_finite(logs)  # the divergence guard acts on it before the step
        opt.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        opt.step()

    def training_step(self, batch, batch_idx):
        x, y = batch[0], (batch[1] if self.conditional else None)
        opt_d, opt_g = self.optimizers()

        loss_d, logs, judged = self.d_objective(x, y)
        loss_d = self._regularize("d", self.d_steps, loss_d, logs, judged)
        self._step(opt_d, loss_d, logs)
        self.after_d_step()
        self.d_steps += 1

        if self.generator_step_due():
            self.discriminator.requires_grad_(False)
            loss_g, g_logs = self.g_objective(x, y)
            loss_g = self._regularize("g", self.g_steps, loss_g, g_logs, None)
            self._step(opt_g, loss_g, g_logs)
            self.discriminator.requires_grad_(True)
            self.g_steps += 1
            logs.update(g_logs)
            self.sampler.update(self.generator, self.g_steps)
            if self.scheduler_interval == "step":
                self._step_schedulers()

        if batch_idx % self.log_every_n_steps == 0:
            logs = {f"train/{k}": v.detach() for k, v in logs.items()}
            logs["train/lr_d"], logs["train/lr_g"] = (
                o.param_groups[0]["lr"] for o in (opt_d, opt_g)
            )
            self.log_dict(logs, prog_bar=False)

    def on_train_epoch_end(self) -> None:
        if self.scheduler_interval == "epoch":
            self._step_schedulers()

    def _step_schedulers(self) -> None:
        scheds = self.lr_schedulers()
        for s in scheds if isinstance(scheds, list) else [scheds] if scheds else []:
            s.step()

    def configure_optimizers(self):
        make_d, make_g = self._optimizer_factories
        opt_d = make_d(self.discriminator_parameters())
        opt_g = make_g(self.generator_parameters())
        scheds = [
            self.build_scheduler(f, o, self.scheduler_interval)
            for f, o in zip(self._scheduler_factories, (opt_d, opt_g))
            if f is not None
        ]
        return ([opt_d, opt_g], scheds) if scheds else [opt_d, opt_g]

    def optimizer_steps_per_batch(self) -> float:
        return 1.0 + 1.0 / self.n_critic

    def scheduler_steps_per_batch(self) -> float:
        return 1.0 / self.n_critic

    def discriminator_parameters(self):
        return self.discriminator.parameters()

    def generator_parameters(self):
        return self.generator.parameters()

    def extra_state(self) -> dict[str, Any]:
        return {"d_steps": self.d_steps, "g_steps": self.g_steps}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.d_steps = int(state.get("d_steps", 0))
        self.g_steps = int(state.get("g_steps", 0))
