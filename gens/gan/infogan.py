"""InfoGAN: Chen et al. 2016, InfoGAN: Interpretable Representation Learning by Information
Maximizing Generative Adversarial Nets.

G's input is noise z and structured codes c: categorical codes (one-hot) and continuous codes
~ Uniform(-1, 1); the paper's MNIST set-up is 62 noise dimensions, one Cat(10) and two
continuous codes (``configs/model/infogan.yaml``). A Q head shares every layer of D but the last
(``gens.nets.AuxiliaryDiscriminator``) and outputs q(c | x): logits for each categorical code
and a Gaussian mean (unit std, or a learned log-std with ``continuous_std=learned``) for each
continuous one. The variational lower bound L_I = H(c) + E log Q(c | G(z, c)) enters both
players' losses with weight lambda (``info_weight``): D (with Q) minimizes its GAN loss
- lambda L_I and G its GAN loss - lambda L_I, as in the authors' trainer. Noise is Gaussian
here (the authors' code draws it uniformly).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F  # noqa: N812

from gens.gan.game import GAN
from gens.gan.label_losses import info_nll
from gens.gan.regularizers import Judged
from gens.nets.heads import AuxiliaryDiscriminator
from gens.utils.errors import ConfigError

__all__ = ["InfoGAN"]


class InfoGAN(GAN):
    """Args (beyond ``GAN``'s):
    latent_dim: size of the noise part z (the full latent adds the codes).
    categorical: the number of categories of each categorical code, e.g. ``[10]``.
    continuous: the number of Uniform(-1, 1) codes.
    info_weight: lambda, the weight of the mutual-information term in both losses.
    continuous_weight: extra weight of the continuous codes' term.
    continuous_std: ``fixed`` (unit std) or ``learned`` (Q also outputs a log-std).
    q_hidden: width of the Q head's hidden layer (0: linear).
    """

    def __init__(
        self,
        generator,
        discriminator,
        *optimizers,
        latent_dim: int | Mapping[str, int] = 62,
        categorical: Sequence[int] = (10,),
        continuous: int = 2,
        info_weight: float = 1.0,
        continuous_weight: float = 1.0,
        continuous_std: str = "fixed",
        q_hidden: int = 128,
        **kwargs,
    ):
        if kwargs.get("conditional"):
            raise ConfigError("InfoGAN learns its codes without labels; drop model.conditional")
        if isinstance(latent_dim, Mapping):
            kind = "image" if len(kwargs.get("data_shape", ())) == 3 else "vector"
            if kind not in latent_dim:
                raise ConfigError(f"model.latent_dim has no entry for {kind} data")
            latent_dim = latent_dim[kind]
        self.categorical = [int(k) for k in categorical]
        self.continuous, self.noise_dim = int(continuous), int(latent_dim)
        if any(k < 2 for k in self.categorical) or self.continuous < 0 or self.noise_dim < 1:
            raise ConfigError(
                "model.categorical needs >= 2 categories per code, model.continuous >= 0 and "
                f"model.latent_dim >= 1; got {self.categorical}, {continuous}, {latent_dim}"
            )
        if not self.categorical and not self.continuous:
            raise ConfigError("InfoGAN needs at least one code (model.categorical / continuous)")
        if continuous_std not in ("fixed", "learned"):
            raise ConfigError(
                f"model.continuous_std must be fixed or learned, got {continuous_std}"
            )
        if float(info_weight) < 0 or float(continuous_weight) < 0:
            raise ConfigError("model.info_weight and model.continuous_weight must be >= 0")
        self.info_weight, self.continuous_weight = float(info_weight), float(continuous_weight)
        self.learned_std = continuous_std == "learned"
        n_q = sum(self.categorical) + self.continuous * (2 if self.learned_std else 1)

        def with_q_head(data_shape, num_classes=None):
            return AuxiliaryDiscriminator(discriminator, data_shape, n_q, q_hidden)

        code_dim = sum(self.categorical) + self.continuous
        super().__init__(
            generator, with_q_head, *optimizers, latent_dim=self.noise_dim + code_dim, **kwargs
        )
        g = torch.Generator().manual_seed(1234)
        self.fixed_z = self.noise(len(self.fixed_z), generator=g)

    # --- the latent: noise and codes ------------------------------------------------------
    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``[z, one-hot categorical codes, continuous codes]`` drawn from their priors."""
        dev = self.device
        parts = [torch.randn(n, self.noise_dim, device=dev, generator=generator)]
        for k in self.categorical:
            idx = torch.randint(0, k, (n,), device=dev, generator=generator)
            parts.append(F.one_hot(idx, k).float())
        parts.append(torch.rand(n, self.continuous, device=dev, generator=generator) * 2 - 1)
        return torch.cat(parts, 1)

    def codes(self, latent: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """``(category index of each categorical code, continuous codes)`` of latents."""
        i, cats = self.noise_dim, []
        for k in self.categorical:
            cats.append(latent[:, i : i + k].argmax(1))
            i += k
        return cats, latent[:, i : i + self.continuous]

    def latent_from(self, z, categories: Sequence[torch.Tensor], continuous) -> torch.Tensor:
        """The latent of noise ``z``, category indices and continuous codes."""
        hot = [F.one_hot(c.long(), k).to(z.dtype) for c, k in zip(categories, self.categorical)]
        return torch.cat([z, *hot, continuous.to(z.dtype)], 1)

    def q_params(self, q: torch.Tensor):
        """Split Q's outputs: categorical logits, continuous means and log-stds (or None)."""
        i, logits = 0, []
        for k in self.categorical:
            logits.append(q[:, i : i + k])
            i += k
        mean = q[:, i : i + self.continuous]
        log_std = q[:, i + self.continuous :].clamp(-5, 3) if self.learned_std else None
        return logits, mean, log_std

    def info_terms(self, q: torch.Tensor, latent: torch.Tensor):
        """``(-lambda L_I up to H(c), logs)`` for Q's outputs on samples of ``latent``."""
        cats, cont = self.codes(latent)
        logits, mean, log_std = self.q_params(q)
        nll_cat, nll_cont = info_nll(logits, cats, mean, cont, log_std, self.continuous_weight)
        nll_cat, nll_cont = nll_cat.to(q.device), nll_cont.to(q.device)
        logs = {"info_cat": nll_cat.detach(), "info_cont": nll_cont.detach()}
        if self.categorical:  # H(c) - CE: the lower bound on I(c; x) of the categorical codes
            entropy = sum(torch.log(torch.tensor(float(k))) for k in self.categorical)
            logs["mi_cat"] = entropy.to(q.device) - nll_cat.detach()
        return self.info_weight * (nll_cat + nll_cont), logs

    # --- objectives ----------------------------------------------------------------------
    def d_objective(self, real, y):
        latent = self.noise(len(real))
        with torch.no_grad():
            fake = self.generator(latent)
        src_real, _ = self.discriminator.heads(real)
        src_fake, q = self.discriminator.heads(fake)
        adv = self.d_loss_fn(src_real, src_fake)
        info, logs = self.info_terms(q, latent)
        loss = adv + info
        logs.update(d_loss=loss, d_adv=adv.detach())
        return loss, logs, Judged((real, None), (fake, None), src_real, src_fake)

    def g_objective(self, real, y):
        latent = self.noise(len(real))
        src, q = self.discriminator.heads(self.generator(latent))
        adv = self.g_loss_fn(src)
        info, _ = self.info_terms(q, latent)
        loss = adv + info
        return loss, {"g_loss": loss, "g_adv": adv.detach(), "g_info": info.detach()}

    # --- latent traversals ---------------------------------------------------------------
    @torch.no_grad()
    def traversal(self, code: int | None, steps: int = 10, span: float = 2.0, seed: int = 0):
        """Images whose rows are the categories of the first categorical code and whose
        columns sweep continuous code ``code`` over [-span, span] (the paper's Fig. 2 goes to
        +-2, beyond the prior's +-1), other codes at 0 and one noise vector per row. With
        ``code=None`` the columns are fresh noise vectors instead. Returns
        ``rows * steps`` samples, row by row."""
        g = torch.Generator(device=self.device).manual_seed(int(seed))
        rows = self.categorical[0] if self.categorical else 1
        z = torch.randn(rows, self.noise_dim, device=self.device, generator=g)
        z = z.repeat_interleave(steps, 0)
        if code is None:
            z = torch.randn(rows * steps, self.noise_dim, device=self.device, generator=g)
        cats = [torch.zeros(rows * steps, dtype=torch.long, device=self.device)] * len(
            self.categorical
        )
        if self.categorical:
            cats[0] = torch.arange(rows, device=self.device).repeat_interleave(steps)
        cont = torch.zeros(rows * steps, self.continuous, device=self.device)
        if code is not None:
            if not 0 <= code < self.continuous:
                raise ConfigError(f"continuous code {code} out of 0..{self.continuous - 1}")
            cont[:, code] = torch.linspace(-span, span, steps, device=self.device).repeat(rows)
        return self.sample(rows * steps, z=self.latent_from(z, cats, cont))
