"""Unrolled GAN: Metz et al. 2017, Unrolled Generative Adversarial Networks.

The generator is trained against a surrogate discriminator: the current one after k more
updates of its own optimizer on the current batch, f_K(theta_G, theta_D) = f(theta_G,
theta_D^K). The k updates are taken functionally (``torch.func.functional_call`` on copies of
D's parameters) with ``create_graph=True``, so the generator's gradient includes the term that
flows through them: how D would react to the generator's move. The real discriminator takes
one normal step per batch, as in the paper; k = 0 is the plain GAN.

The surrogate is the paper's ``surrogate="value"``: G minimizes the game's value at the
unrolled D, f_K = V(G, D_K) = -L_D(D_K(x), D_K(G(z))), the real-data term included. That term
depends on G too, through theta_D^K: a generator that leaves a mode empty lets the unrolled D
gain on the real points there, and the gradient says so. ``surrogate="generator"`` instead
applies G's own loss (e.g. non-saturating) to D_K(G(z)) alone.

The unrolled updates replay D's optimizer exactly (Adam with its moments and step count, or
SGD with momentum), starting from that optimizer's current state.
"""

from __future__ import annotations

import torch
from torch.func import functional_call

from gens.gan.game import GAN
from gens.utils.errors import ConfigError

__all__ = ["UnrolledGAN", "DifferentiableOptimizer"]


class DifferentiableOptimizer:
    """One param group of a torch Adam/AdamW/SGD optimizer, replayed as a differentiable map
    ``(params, grads) -> params`` that keeps its own copy of the moments (the real optimizer's
    state is read, never written)."""

    def __init__(self, optimizer: torch.optim.Optimizer, params: list[torch.Tensor]):
        if len(optimizer.param_groups) != 1:
            raise ConfigError("unrolled GAN needs a discriminator optimizer with one param group")
        group = optimizer.param_groups[0]
        self.kind = type(optimizer).__name__
        if self.kind not in ("Adam", "AdamW", "SGD"):
            raise ConfigError(
                f"unrolled GAN replays Adam, AdamW or SGD, not {self.kind}; "
                "set model.optimizer_d to one of them"
            )
        if group.get("amsgrad") or group.get("nesterov"):
            raise ConfigError("unrolled GAN does not replay amsgrad or nesterov; switch them off")
        self.group = group
        self.state = [dict(optimizer.state.get(p, {})) for p in params]

    def step(self, params: list[torch.Tensor], grads: list[torch.Tensor]) -> list[torch.Tensor]:
        out = []
        for i, (p, g) in enumerate(zip(params, grads)):
            st = self.state[i]
            out.append(self._adam(p, g, st) if self.kind != "SGD" else self._sgd(p, g, st))
        return out

    def _adam(self, p, g, st):
        lr, (b1, b2), eps = self.group["lr"], self.group["betas"], self.group["eps"]
        wd = self.group.get("weight_decay", 0.0)
        if wd and self.kind == "AdamW":
            p = p * (1 - lr * wd)
        elif wd:
            g = g + wd * p
        step = float(st.get("step", 0)) + 1
        m = st.get("exp_avg", torch.zeros_like(p)) * b1 + (1 - b1) * g
        v = st.get("exp_avg_sq", torch.zeros_like(p)) * b2 + (1 - b2) * g * g
        st.update(step=step, exp_avg=m, exp_avg_sq=v)
        v_hat = v / (1 - b2**step)
        # sqrt has an infinite derivative at 0 (a unit that got no gradient yet): 1e-30 keeps
        # the backward pass finite and changes the value by far less than eps.
        denom = (v_hat + 1e-30).sqrt() + eps
        return p - lr / (1 - b1**step) * m / denom

    def _sgd(self, p, g, st):
        lr, mom = self.group["lr"], self.group.get("momentum", 0.0)
        damp, wd = self.group.get("dampening", 0.0), self.group.get("weight_decay", 0.0)
        if wd:
            g = g + wd * p
        if mom:
            buf = st.get("momentum_buffer")
            buf = g if buf is None else buf * mom + (1 - damp) * g
            st["momentum_buffer"] = buf
            g = buf
        return p - lr * g


class UnrolledGAN(GAN):
    """GAN whose generator loss is taken through ``unroll_steps`` unrolled D updates."""

    def __init__(self, *args, unroll_steps: int = 5, surrogate: str = "value", **kwargs):
        super().__init__(*args, **kwargs)
        if int(unroll_steps) < 0:
            raise ConfigError(f"model.unroll_steps must be >= 0, got {unroll_steps}")
        if surrogate not in ("value", "generator"):
            raise ConfigError(
                f"model.surrogate must be 'value' (Metz et al.: G minimizes V(G, D_K)) or "
                f"'generator' (G's own loss on D_K(G(z))), got {surrogate!r}"
            )
        self.unroll_steps = int(unroll_steps)
        self.surrogate = surrogate

    def unrolled_discriminator(self, real, fake, y, optimizer: torch.optim.Optimizer):
        """D's parameters (and buffers) after ``unroll_steps`` differentiable updates on this
        batch; gradients flow from them back into ``fake``."""
        d = self.discriminator
        names = [n for n, _ in d.named_parameters()]
        params = [p.detach() for _, p in d.named_parameters()]
        # Copies, so that batch-norm statistics of the unrolled passes leave D untouched.
        buffers = {n: b.detach().clone() for n, b in d.named_buffers()}
        if self.unroll_steps == 0:
            return {**dict(zip(names, params)), **buffers}
        opt = DifferentiableOptimizer(optimizer, [p for _, p in d.named_parameters()])
        params = [p.requires_grad_(True) for p in params]
        yg = self._gen_labels(y)
        for _ in range(self.unroll_steps):
            state = {**dict(zip(names, params)), **buffers}
            loss = self.d_loss_fn(
                functional_call(d, state, (real, y)), functional_call(d, state, (fake, yg))
            )
            grads = torch.autograd.grad(loss, params, create_graph=True)
            params = opt.step(params, grads)
        return {**dict(zip(names, params)), **buffers}

    def unrolled_g_loss(self, real, y, optimizer: torch.optim.Optimizer) -> torch.Tensor:
        yg = self._gen_labels(y)
        fake = self.generator(self.noise(len(real)), yg)
        state = self.unrolled_discriminator(real, fake, y, optimizer)
        d_fake = functional_call(self.discriminator, state, (fake, yg))
        if self.surrogate == "generator":
            return self.g_loss_fn(d_fake)
        # f_K = V(G, D_K) = -L_D; at k = 0 its real term is constant in G (the minimax loss)
        return -self.d_loss_fn(functional_call(self.discriminator, state, (real, y)), d_fake)

    def g_objective(self, real, y):
        opt_d = self.optimizers()[0]
        loss = self.unrolled_g_loss(real, y, getattr(opt_d, "optimizer", opt_d))
        return loss, {"g_loss": loss}
