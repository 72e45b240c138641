r"""The adversarial training loop for one generator G and one discriminator D.

One generator step is ``d_steps`` discriminator steps, then one generator step:

- **D step**: draw real :math:`x` and :math:`z`, make :math:`G(z)` with G frozen
  (under ``no_grad``: no graph through G), and descend
  :math:`\ell_D(D(x), D(G(z))) + \text{penalty}`; clip D's weights if asked.
- **G step**: draw :math:`z`, freeze D's parameters (``requires_grad_(False)``:
  the gradient flows *through* D into G, but none is computed *for* D), and
  descend :math:`\ell_G(D(G(z)))`; update the EMA of G's weights.

All randomness comes from minigan's default generator and the data loader's
generator, both seeded and both part of every checkpoint, so a resumed run
is bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import copy
import json
import math
import time
from pathlib import Path

import numpy as np

import minigan as mg
from minigan import losses, optim
from minigan.autograd.creation import default_generator
from minigan.serialization import atomic_path
from minigan.train.setup import build_data, build_loss, build_models, build_optimizer

__all__ = ["Trainer", "TrainingDiverged"]


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


def _grad_norm(module) -> float:
    total = sum(float((p.grad.data.astype(np.float64) ** 2).sum()) for p in module.parameters() if p.grad is not None)
    return math.sqrt(total)


class Trainer:
    """Trains a GAN described by a configuration (see :mod:`minigan.train.config`)."""

    def __init__(self, config: dict):
        self.config = copy.deepcopy(config)
        train, loss_cfg, o = config["train"], config["loss"], config["optim"]
        mg.manual_seed(train["seed"])
        self.data = build_data(config)
        self.G, self.D = build_models(config, self.data.shape, self.data.kind)
        self.loss = build_loss(config)
        self.g_opt = build_optimizer(config, self.G, o["g_lr"])
        self.d_opt = build_optimizer(config, self.D, o["d_lr"])
        self.G_ema = copy.deepcopy(self.G) if o["ema"] > 0 else None
        self.ema = optim.EMA(self.G, o["ema"]) if self.G_ema is not None else None
        self.latent_dim = config["model"]["latent_dim"]
        n_fixed = 2500 if self.data.kind == "toy" else train["n_samples"]
        self.fixed_z = mg.randn(n_fixed, self.latent_dim, generator=mg.Generator(train["seed"] + 1))
        self.penalty_name = loss_cfg["penalty"]
        self.step = 0
        self.d_step_count = 0

    # -- one step ----------------------------------------------------------------------
    def _z(self, n: int):
        return mg.randn(n, self.latent_dim)

    def _penalty(self, real, fake):
        c = self.config["loss"]
        every = c["penalty_every"]
        if self.penalty_name == "none" or self.d_step_count % every:
            return None
        weight = c["penalty_weight"] * every  # lazy regularisation keeps the average strength
        if self.penalty_name == "gp":
            return losses.gradient_penalty(self.D, real, fake, weight)
        if self.penalty_name == "r1":
            return losses.r1_penalty(self.D, real, weight)
        if self.penalty_name == "r2":
            return losses.r2_penalty(self.D, fake, weight)
        return losses.dragan_penalty(self.D, real, weight)

    def _check(self, name: str, value: float) -> None:
        if not math.isfinite(value):
            raise TrainingDiverged(f"step {self.step + 1}: {name} is {value}; training stopped "
                                   "(the last good checkpoint is kept)")

    def d_step(self) -> dict:
        (real, *_) = self.data.loader.next_batch()
        with mg.no_grad():
            fake = self.G(self._z(real.shape[0]))
        real_out, fake_out = self.D(real), self.D(fake)
        d_loss = self.loss.d_loss(real_out, fake_out)
        self._check("d_loss", d_loss.item())
        penalty = self._penalty(real, fake)
        total = d_loss if penalty is None else d_loss + penalty
        if penalty is not None:
            self._check("penalty", penalty.item())
        self.d_opt.zero_grad()
        total.backward()
        d_grad = _grad_norm(self.D)
        self.d_opt.step()
        if self.config["loss"]["clip"] > 0:
            losses.clip_weights_(self.D, self.config["loss"]["clip"])
        self.d_step_count += 1
        stats = {"d_loss": d_loss.item(), "d_real": float(real_out.data.mean()),
                 "d_fake": float(fake_out.data.mean()), "d_grad_norm": d_grad}
        if penalty is not None:
            stats["penalty"] = penalty.item()
        return stats

    def g_step(self) -> dict:
        batch = self.config["data"]["batch_size"]
        self.D.requires_grad_(False)
        try:
            fake_out = self.D(self.G(self._z(batch)))
            real_out = None
            if self.loss.needs_real_for_g:
                (real, *_) = self.data.loader.next_batch()
                real_out = self.D(real)
            g_loss = self.loss.g_loss(fake_out, real_out)
            self._check("g_loss", g_loss.item())
            self.g_opt.zero_grad()
            g_loss.backward()
        finally:
            self.D.requires_grad_(True)
        g_grad = _grad_norm(self.G)
        self.g_opt.step()
        if self.ema is not None:
            self.ema.update(self.G)
        return {"g_loss": g_loss.item(), "g_grad_norm": g_grad}

    def train_step(self) -> dict:
        """``d_steps`` discriminator steps and one generator step; returns their statistics."""
        d_stats = [self.d_step() for _ in range(self.config["optim"]["d_steps"])]
        stats = {k: float(np.mean([s[k] for s in d_stats if k in s])) for k in d_stats[-1]}
        stats.update(self.g_step())
        self.step += 1
        return stats

    # -- sampling ------------------------------------------------------------------------
    def sampler(self):
        """The generator used for pictures: the EMA copy when there is one."""
        if self.G_ema is not None:
            self.ema.copy_to(self.G_ema)
            return self.G_ema
        return self.G

    def samples(self, z=None) -> np.ndarray:
        G = self.sampler()
        mode = G.training
        G.eval()
        try:
            with mg.no_grad():
                return G(self.fixed_z if z is None else z).numpy()
        finally:
            G.train(mode)

    # -- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "format": "minigan-checkpoint",
            "step": self.step,
            "d_step_count": self.d_step_count,
            "config": self.config,
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "G_ema": self.sampler().state_dict() if self.G_ema is not None else None,
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "g_opt": self.g_opt.state_dict(),
            "d_opt": self.d_opt.state_dict(),
            "rng": default_generator.get_state(),
            "loader": self.data.loader.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.step, self.d_step_count = int(state["step"]), int(state["d_step_count"])
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"])
            self.G_ema.load_state_dict(state["G_ema"])
        self.g_opt.load_state_dict(state["g_opt"])
        self.d_opt.load_state_dict(state["d_opt"])
        default_generator.set_state(state["rng"])
        self.data.loader.load_state_dict(state["loader"])


class MetricsLog:
    """Appends one JSON object per logged step to a ``.jsonl`` file (``metrics.jsonl``, ``evaluations.jsonl``)."""

    def __init__(self, path: Path):
        self.path = path

    def records(self) -> list[dict]:
        """Every record written so far, oldest first."""
        text = self.path.read_text() if self.path.exists() else ""
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def write(self, record: dict) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")

    def truncate_after(self, step: int) -> None:
        """Drop records past ``step`` (a run resumed from an earlier checkpoint rewrites them)."""
        if self.path.exists():
            keep = [r for r in self.records() if r["step"] <= step]
            with atomic_path(self.path) as tmp:
                tmp.write_text("".join(json.dumps(r) + "\n" for r in keep))


def steps_per_second(start: float, steps: int) -> float:
    return steps / max(time.perf_counter() - start, 1e-9)
