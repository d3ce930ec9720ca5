"""The GAN training system: alternating discriminator / generator steps with manual optimization.

Goodfellow et al. 2014 (Generative Adversarial Nets) define the game; this module runs it for
every GAN in gens. Subclasses change the objective (``d_objective`` / ``g_objective``), add
steps (``after_d_step``) or networks, and keep the rest: ``n_critic`` discriminator steps per
generator step, separate optimizers and LR schedulers built from ``_partial_`` configs, a frozen
EMA copy of the generator used for sampling and evaluation, fixed evaluation noise, and
truncated sampling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from gens.gan.ema import make_ema, update_ema
from gens.gan.losses import get_losses
from gens.gan.regularizers import r1_penalty
from gens.gan.standing_stats import has_batch_norm, recompute_batch_norm_stats
from gens.module import GensModule
from gens.nets.fourier import FourierFeatures
from gens.utils.errors import ConfigError

__all__ = ["GAN"]


class GAN(GensModule):
    """A GAN trained with the configured losses; ``model=gan`` is Goodfellow et al. 2014.

    Args:
        generator: factory ``(latent_dim=, data_shape=, num_classes=) -> nn.Module``.
        discriminator: factory ``(data_shape=, num_classes=) -> nn.Module`` returning logits.
        optimizer_g, optimizer_d: factories ``(params) -> Optimizer`` (``_partial_`` configs).
        scheduler_g, scheduler_d: optional factories ``(optimizer) -> LRScheduler``, stepped
            every epoch (``scheduler_interval=epoch``) or every generator step (``step``).
        loss: ``{"d": name, "g": name}`` from ``gens.gan.losses``.
        n_critic: discriminator steps per generator step.
        ema_decay: keep ``generator_ema`` with this decay (``None`` disables it).
        r1_gamma: weight gamma of the R1 penalty gamma / 2 * E||grad D(x)||^2 on real data
            (Mescheder et al. 2018); 0 disables it.
        r1_every: lazy regularization (Karras et al. 2020, StyleGAN2): apply R1 on every
            ``r1_every``-th discriminator step only, weighted by ``r1_every`` so the penalty per
            step is the same on average; 1 applies it on every step.
        standing_stats: before sampling, recompute the sampling generator's BatchNorm
            statistics over this many noise batches (BigGAN's standing statistics, see
            ``gens.gan.standing_stats``); 0 keeps the running statistics of training.
        rejection: factory ``(data_shape=, num_classes=) -> DiscriminatorRejection``: sample
            through discriminator rejection sampling (Azadi et al. 2019,
            ``gens.gan.rejection``) after training; ``None`` samples the generator directly.
        coarse_to_fine: ``[start, end]`` generator steps over which the discriminator's Fourier
            features (``gens.nets.fourier``) fade in linearly from 0 to full (BARF-style
            frequency annealing); ``None`` leaves them on throughout.
        conditional: feed labels to G and D (needs a labeled data set).
        log_every_n_steps: log training losses every this many batches.

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
        scheduler_g: Callable | None = None,
        scheduler_d: Callable | None = None,
        scheduler_interval: str = "epoch",
        ema_decay: float | None = None,
        ema_start: int = 0,
        r1_gamma: float = 0.0,
        r1_every: int = 1,
        standing_stats: int = 0,
        rejection: Callable[..., nn.Module] | None = None,
        coarse_to_fine: Sequence[int] | None = None,
        conditional: bool = False,
        log_every_n_steps: int = 50,
        num_fixed_samples: int = 64,
    ):
        super().__init__(data_shape, num_classes, num_levels)
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
        if ema_decay is not None and not 0.0 <= float(ema_decay) < 1.0:
            raise ConfigError(f"model.ema_decay must be in [0, 1) or null, got {ema_decay}")
        if scheduler_interval not in ("epoch", "step"):
            raise ConfigError("model.scheduler_interval must be 'epoch' or 'step'")
        if conditional and not num_classes:
            raise ConfigError(
                "model.conditional=true needs a labeled data set (data with num_classes); "
                "pick a labeled data= or set model.conditional=false"
            )
        if float(r1_gamma) < 0:
            raise ConfigError(f"model.r1_gamma must be >= 0, got {r1_gamma}")
        if int(r1_every) < 1:
            raise ConfigError(f"model.r1_every must be >= 1, got {r1_every}")
        self.r1_gamma = float(r1_gamma)
        self.r1_every = int(r1_every)
        if int(standing_stats) < 0:
            raise ConfigError(f"model.standing_stats must be >= 0, got {standing_stats}")
        self.standing_stats = int(standing_stats)
        if coarse_to_fine is not None:
            coarse_to_fine = tuple(int(v) for v in coarse_to_fine)
            if len(coarse_to_fine) != 2 or not 0 <= coarse_to_fine[0] <= coarse_to_fine[1]:
                raise ConfigError(
                    "model.coarse_to_fine must be [start, end] generator steps with "
                    f"0 <= start <= end, got {list(coarse_to_fine)}"
                )
        self.coarse_to_fine = coarse_to_fine
        self._stats_stale = True
        self.latent_dim = int(latent_dim)
        self.n_critic = int(n_critic)
        self.conditional = bool(conditional)
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.ema_start = int(ema_start)
        self.log_every_n_steps = max(1, int(log_every_n_steps))
        self.scheduler_interval = scheduler_interval
        self._optimizer_factories = (optimizer_d, optimizer_g)
        self._scheduler_factories = (scheduler_d, scheduler_g)

        nc = self.num_classes if self.conditional else None
        self.generator = generator(
            latent_dim=self.latent_dim, data_shape=self.data_shape, num_classes=nc
        )
        self.discriminator = discriminator(data_shape=self.data_shape, num_classes=nc)
        self.generator_ema = make_ema(self.generator) if self.ema_decay is not None else None
        self.rejection = None
        if rejection is not None:
            self.rejection = rejection(data_shape=self.data_shape, num_classes=nc)
            self.rejection.init_from(self.discriminator)
        # where rejection sampling finds real data when no trainer is attached (load_model)
        self.rejection_data: Callable[[], Any] | None = None

        g = torch.Generator().manual_seed(1234)
        self.register_buffer(
            "fixed_z", torch.randn(num_fixed_samples, self.latent_dim, generator=g)
        )
        fixed_y = torch.arange(num_fixed_samples) % nc if nc else torch.zeros(num_fixed_samples)
        self.register_buffer("fixed_y", fixed_y.long())
        self.d_steps = 0
        self.g_steps = 0
        if self.coarse_to_fine is not None:
            if not any(isinstance(m, FourierFeatures) for m in self.discriminator.modules()):
                raise ConfigError(
                    "model.coarse_to_fine fades in Fourier features, but the discriminator has "
                    "none; set model.discriminator.fourier_features or drop coarse_to_fine"
                )
            self._set_fourier_gain()

    # --- sampling ------------------------------------------------------------------------
    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, device=self.device, generator=generator)

    def random_labels(self, n: int, generator: torch.Generator | None = None):
        if not self.conditional:
            return None
        return torch.randint(0, self.num_classes, (n,), device=self.device, generator=generator)

    def sampling_generator(self, use_ema: bool = True) -> nn.Module:
        return self.generator_ema if use_ema and self.generator_ema is not None else self.generator

    @torch.no_grad()
    def sample(
        self,
        n: int,
        y: torch.Tensor | None = None,
        z: torch.Tensor | None = None,
        truncation: float | None = None,
        use_ema: bool = True,
        generator: torch.Generator | None = None,
        batch_size: int = 1000,
        rejection: bool | None = None,
    ) -> torch.Tensor:
        """``n`` samples in data space. ``truncation=t`` resamples latent entries with |z| > t
        (the truncation trick of Brock et al. 2019); labels are drawn uniformly if not given.

        With ``model.rejection`` set, samples pass discriminator rejection sampling
        (``gens.gan.rejection``; fitted on first use after the weights change) unless
        ``rejection=False``, ``z`` is given (each latent maps to its own sample), or the model
        is being fitted (``rejection=None`` there: validation sees the raw generator, test and
        later use see the sampler)."""
        if self._use_rejection(rejection) and z is None:
            self._fit_rejection_if_stale(use_ema)

            def propose(m, gen):
                zz = self.noise(m, gen)
                if truncation is not None:
                    zz = truncate(zz, float(truncation), gen)
                return self._generate(zz, None, use_ema, batch_size)

            return self.rejection.sample(n, propose, generator).float()
        if z is None:
            z = self.noise(n, generator)
            if truncation is not None:
                z = truncate(z, float(truncation), generator)
        if y is None:
            y = self.random_labels(n, generator)
        return self._generate(z, y, use_ema, batch_size)

    @torch.no_grad()
    def _generate(self, z, y, use_ema: bool, batch_size: int) -> torch.Tensor:
        net = self.sampling_generator(use_ema)
        self._refresh_standing_stats(net)
        was_training = net.training
        net.eval()
        out = []
        for i in range(0, len(z), batch_size):
            yb = None if y is None else y[i : i + batch_size].to(self.device)
            out.append(net(z[i : i + batch_size].to(self.device), yb))
        net.train(was_training)
        return torch.cat(out).float()

    def _use_rejection(self, rejection: bool | None) -> bool:
        if self.rejection is None:
            if rejection:
                raise ConfigError(
                    "sample(rejection=True) needs a rejection sampler; set model.rejection "
                    "(e.g. the one of configs/model/gan_r1.yaml)"
                )
            return False
        if rejection is not None:
            return bool(rejection)
        fitting = self._trainer is not None and self.trainer.state.fn == "fit"
        return not fitting

    def _fit_rejection_if_stale(self, use_ema: bool) -> None:
        version = 2 * self.g_steps + int(use_ema)
        if self.rejection.is_fitted_for(version):
            return
        dm = self.trainer.datamodule if self._trainer is not None else None
        if dm is not None:
            dm.setup("fit")  # idempotent in every gens data module
            real = dm.train_dataloader()
        elif self.rejection_data is not None:
            real = self.rejection_data()
        else:
            raise ConfigError(
                "rejection sampling must fit its discriminator to this generator and needs real "
                "data: attach a data module (trainer) or set model.rejection_data to a function "
                "returning a DataLoader (gens.utils.checkpoint.load_model does), or pass "
                "rejection=False"
            )
        self.rejection.fit(
            real,
            lambda m, gen: self._generate(self.noise(m, gen), None, use_ema, 1000),
            version,
            source=self.discriminator,
        )

    def _refresh_standing_stats(self, net: nn.Module, batch_size: int = 500) -> None:
        """Recompute ``net``'s BatchNorm statistics if the weights changed since the last time
        (``standing_stats`` batches); a no-op when it is 0 or ``net`` has no BatchNorm."""
        if self.standing_stats == 0 or not self._stats_stale or not has_batch_norm(net):
            return
        recompute_batch_norm_stats(
            net,
            lambda n, g: (self.noise(n, g), self.random_labels(n, g)),
            self.standing_stats,
            batch_size,
            device=self.device,
        )
        self._stats_stale = False

    def on_load_checkpoint(self, checkpoint) -> None:
        super().on_load_checkpoint(checkpoint)
        self._stats_stale = True

    # --- objectives (subclasses override) ------------------------------------------------
    def d_objective(self, real, y) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        with torch.no_grad():
            fake = self.generator(self.noise(len(real)), self._gen_labels(y))
        loss = self.d_loss_fn(self.discriminator(real, y), self.discriminator(fake, y))
        logs = {"d_loss": loss}
        if self.r1_gamma > 0 and self.d_steps % self.r1_every == 0:
            r1 = r1_penalty(self.discriminator, real, y, scaler=self.grad_scaler())
            loss = loss + 0.5 * self.r1_gamma * self.r1_every * r1
            logs["r1"] = r1.detach()
        return loss, logs

    def grad_scaler(self):
        """The GradScaler of fp16 mixed precision (for penalties on input gradients), or None."""
        return getattr(self.trainer.precision_plugin, "scaler", None) if self._trainer else None

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
    def training_step(self, batch, batch_idx):
        x, y = batch[0], (batch[1] if self.conditional else None)
        opt_d, opt_g = self.optimizers()

        loss_d, logs = self.d_objective(x, y)
        self.check_finite(logs)  # before the step: a NaN never reaches the weights
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(loss_d)
        opt_d.step()
        self.after_d_step()
        self.d_steps += 1

        if self.generator_step_due():
            self.discriminator.requires_grad_(False)
            loss_g, g_logs = self.g_objective(x, y)
            self.check_finite(g_logs)
            opt_g.zero_grad(set_to_none=True)
            self.manual_backward(loss_g)
            opt_g.step()
            self.discriminator.requires_grad_(True)
            self.g_steps += 1
            logs.update(g_logs)
            self._after_g_step()

        if batch_idx % self.log_every_n_steps == 0:
            self.log_dict({f"train/{k}": v.detach() for k, v in logs.items()}, prog_bar=False)

    def _set_fourier_gain(self) -> None:
        start, end = self.coarse_to_fine
        gain = 1.0 if self.g_steps >= end else max(0.0, (self.g_steps - start) / (end - start))
        for m in self.discriminator.modules():
            if isinstance(m, FourierFeatures):
                m.gain.fill_(gain)

    def _after_g_step(self) -> None:
        self._stats_stale = True
        if self.coarse_to_fine is not None:
            self._set_fourier_gain()
        if self.generator_ema is not None:
            decay = self.ema_decay if self.g_steps > self.ema_start else 0.0
            update_ema(self.generator_ema, self.generator, decay)
        if self.scheduler_interval == "step":
            self._step_schedulers()

    def on_train_epoch_end(self) -> None:
        if self.scheduler_interval == "epoch":
            self._step_schedulers()

    def _step_schedulers(self) -> None:
        scheds = self.lr_schedulers()
        if scheds is None:
            return
        for s in scheds if isinstance(scheds, list) else [scheds]:
            s.step()

    def validation_step(self, batch, batch_idx):
        """Held-out discriminator losses; sample-based metrics come from callbacks."""
        self._log_eval(batch, batch_idx, "val")

    def test_step(self, batch, batch_idx):
        self._log_eval(batch, batch_idx, "test")

    @torch.no_grad()
    def eval_losses(self, real, y, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """The D objective on held-out data against fresh samples (for Wasserstein critics,
        ``wdist`` = -loss estimates the distance, the curve Arjovsky et al. 2017 track)."""
        y = y if self.conditional else None
        fake = self.generator(self.noise(len(real), generator), self._gen_labels(y))
        d_loss = self.d_loss_fn(self.discriminator(real, y), self.discriminator(fake, y))
        out = {"d_loss": d_loss}
        if getattr(self.d_loss_fn, "__name__", "") == "d_wasserstein":
            out["wdist"] = -d_loss
        return out

    def _log_eval(self, batch, batch_idx, prefix: str) -> None:
        # A seeded generator: evaluation must not move the training RNG.
        g = torch.Generator(device=self.device).manual_seed(10_000 + batch_idx)
        losses = self.eval_losses(batch[0], batch[1], g)
        self.log_dict(
            {f"{prefix}/{k}": v.float() for k, v in losses.items()},
            on_epoch=True,
            batch_size=len(batch[0]),
        )

    def configure_optimizers(self):
        make_d, make_g = self._optimizer_factories
        opt_d = make_d(self.discriminator_parameters())
        opt_g = make_g(self.generator_parameters())
        scheds = [f(o) for f, o in zip(self._scheduler_factories, (opt_d, opt_g)) if f is not None]
        return ([opt_d, opt_g], scheds) if scheds else [opt_d, opt_g]

    def discriminator_parameters(self):
        return self.discriminator.parameters()

    def generator_parameters(self):
        return self.generator.parameters()

    def default_monitor(self) -> tuple[str, str] | None:
        dm = self.trainer.datamodule if self._trainer is not None else None
        if getattr(dm, "modes", None) is not None:
            return "val/rkl", "min"
        if self.is_image and any(
            getattr(cb, "fid_active", False) for cb in self.trainer.callbacks
        ):
            return "val/fid", "min"
        return None

    def extra_state(self) -> dict[str, Any]:
        return {"d_steps": self.d_steps, "g_steps": self.g_steps}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.d_steps = int(state.get("d_steps", 0))
        self.g_steps = int(state.get("g_steps", 0))


def truncate(z: torch.Tensor, threshold: float, generator: torch.Generator | None = None):
    """Resample entries of ``z`` whose magnitude exceeds ``threshold`` until none does."""
    if threshold <= 0:
        raise ConfigError(f"truncation must be > 0, got {threshold}")
    z = z.clone()
    mask = z.abs() > threshold
    while mask.any():
        z[mask] = torch.randn(int(mask.sum()), device=z.device, generator=generator)
        mask = z.abs() > threshold
    return z
