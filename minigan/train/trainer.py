r"""The trainer: plays any game (see :mod:`minigan.games`), one player at a time.

One training step is ``optim.d_steps`` rounds of the critic players, each
on a fresh batch, then one round of the others (the generator side) on the
critics' last batch, as reference implementations do: its labels are what a
conditional G is asked for, and its real samples what a relativistic G
compares with. Each player of a round, in the game's order:

- **freezes every network it does not update** (``requires_grad`` off on
  their parameters, shared ones included): gradients flow *through* them,
  none is kept *for* them, and a network that only feeds the objective
  (G in D's objective) records no graph at all;
- evaluates its objective, and for a critic adds the ``[penalty]`` (every
  ``penalty.every`` critic steps, scaled by that number);
- stops with :class:`TrainingDiverged` if a loss or its gradient's norm is
  NaN, infinite or above ``train.explosion_threshold`` in magnitude, before
  the update that would spread it into the weights;
- takes one optimiser step, clips a critic's weights to
  ``[-optim.weight_clip, optim.weight_clip]`` if asked, moves the EMA of
  each generator it updated, and then calls the objective's ``after_step``
  if it has one (BEGAN's balance :math:`k_t`), logging what it returns.

All randomness comes from minigan's default generator and the data loader's
generator, both seeded and both part of every checkpoint, so a resumed run
is bit-identical to an uninterrupted one. Checkpoints are keyed by the
game's network and player names.

Divergence: the checks above run every step and cost nothing (the losses
and gradient norms are computed anyway). The whole state (weights, EMA
copies, optimiser moments) is checked for NaN and inf when it is copied: a
snapshot kept in memory every :data:`SNAPSHOT_EVERY` steps, and every
checkpoint (:meth:`Trainer.finite_state`). After a divergence,
:meth:`Trainer.rewind` returns to the last step whose state was all finite by
replaying from the snapshot, which gives the same steps again.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time

import numpy as np

import minigan as mg
from minigan import kernels, losses, optim
from minigan.autograd.creation import default_generator
from minigan.games import Objective, Player
from minigan.serialization import append_jsonl, read_jsonl, write_jsonl
from minigan.train.checkpoint import first_nonfinite
from minigan.train.setup import build_data, build_game, build_optimizer, build_penalty

__all__ = ["Trainer", "TrainingDiverged", "MetricsLog", "steps_per_second", "SNAPSHOT_EVERY"]

FORMAT = "minigan-checkpoint"
SNAPSHOT_EVERY = 100  # steps between in-memory copies of the state; a divergence replays at most this many


class TrainingDiverged(RuntimeError):
    """Training produced NaN, inf or an explosion; ``step`` is the first step that did, ``what`` says where."""

    def __init__(self, step: int, what: str):
        super().__init__(f"training diverged at step {step}: {what}")
        self.step, self.what = step, what


class Trainer:
    """Trains the game a configuration describes (see :mod:`minigan.train.config`)."""

    def __init__(self, config: dict):
        kernels.apply_policy()  # minigan's work starts: this run's share of the cores, the memory policy
        self.config = copy.deepcopy(config)
        o = config["optim"]
        mg.manual_seed(config["train"]["seed"])
        self.data = build_data(config)
        self.game = build_game(config, self.data)
        self.penalty = build_penalty(config)
        self.players = self.game.players
        self.networks = {name: self.game.network(name) for name in self.game.networks}
        self.optimizers = {p.name: build_optimizer(config, [self.networks[n] for n in p.updates], o[p.lr])
                           for p in self.players}
        self.averages = {}  # the EMA of each generator, kept in the copy that the game samples from
        if o["ema"] > 0:
            for name in self.game.generators:
                self.game.averaged[name] = copy.deepcopy(self.networks[name])
                self.averages[name] = optim.EMA(self.networks[name], o["ema"], average=self.game.averaged[name])
        # per player, the parameters it does not update: frozen while it plays
        self.others = {p.name: self._parameters_outside(p) for p in self.players}
        self.step = 0
        self.critic_steps = 0
        self._snapshot: tuple[int, dict] | None = None  # (step, a finite copy of the state at its end)

    # -- one step ----------------------------------------------------------------------------------------

    def train_step(self) -> dict:
        """``d_steps`` rounds of the critic players and one of the others; returns their statistics."""
        if self._snapshot is None or self.step >= self._snapshot[0] + SNAPSHOT_EVERY:
            self._snapshot = (self.step, copy.deepcopy(self.finite_state()))
        critics = [p for p in self.players if p.critic]
        rounds, batch = [], None
        for _ in range(self.config["optim"]["d_steps"] if critics else 0):
            batch = self.data.loader.next_batch()
            rounds.append({key: value for p in critics for key, value in self.play(p, batch).items()})
        stats = {key: float(np.mean([r[key] for r in rounds if key in r])) for key in rounds[-1]} if rounds else {}
        if batch is None:  # the other players reuse the critics' last batch, if there was one
            batch = self.data.loader.next_batch()
        for player in self.players:
            if not player.critic:
                stats.update(self.play(player, batch))
        self.step += 1
        return stats

    def play(self, player: Player, batch) -> dict:
        """One update of ``player`` on ``batch``; returns what it logs."""
        key = player.name.lower()
        with self._frozen_except(player):
            objective: Objective = getattr(self.game, f"{key}_objective")(batch)
            loss = objective.loss
            stats = {f"{key}_loss": self._bounded(f"{key}_loss", loss.item())}
            penalty = self._penalty(player, objective)
            if penalty is not None:
                stats["penalty"] = self._bounded("penalty", penalty.item())
                loss = loss + penalty
            optimizer = self.optimizers[player.name]
            optimizer.zero_grad()
            loss.backward()
        stats[f"{key}_grad_norm"] = self._bounded(f"{key}_grad_norm", _grad_norm(optimizer))
        optimizer.step()
        if player.critic:
            if self.config["optim"]["weight_clip"] > 0:
                for name in player.updates:
                    losses.clip_weights_(self.networks[name], self.config["optim"]["weight_clip"])
            self.critic_steps += 1
        for name in player.updates:
            if name in self.averages:
                self.averages[name].update()
        stats.update({name: _mean(value) for name, value in objective.logs.items()})
        if objective.after_step is not None:
            stats.update(objective.after_step())
        return stats

    def _parameters_outside(self, player: Player) -> list:
        own = {id(p) for name in player.updates for p in self.networks[name].parameters()}
        return list({id(p): p for net in self.networks.values() for p in net.parameters() if id(p) not in own}.values())

    @contextlib.contextmanager
    def _frozen_except(self, player: Player):
        """Every parameter outside the player's networks stops requiring grad for the block, then is restored."""
        frozen = [p for p in self.others[player.name] if p.requires_grad]
        for p in frozen:
            p.requires_grad = False
        try:
            yield
        finally:
            for p in frozen:
                p.requires_grad = True

    def _penalty(self, player: Player, objective: Objective):
        every = self.config["penalty"]["every"]
        if not player.critic or self.penalty is None or self.critic_steps % every:
            return None
        penalty = self.penalty(objective.critic, objective.real, objective.fake)
        return penalty if every == 1 else penalty * every  # lazy regularisation keeps the average strength

    def _bounded(self, name: str, number: float) -> float:
        """``number``, if finite and within ``train.explosion_threshold``; else :class:`TrainingDiverged`."""
        threshold = self.config["train"]["explosion_threshold"]
        if not math.isfinite(number):
            raise TrainingDiverged(self.step + 1, f"{name} is {number}")
        if abs(number) > threshold:
            raise TrainingDiverged(self.step + 1, f"{name} is {number:.3g}, beyond train.explosion_threshold "
                                                  f"= {threshold:g}")
        return number

    # -- divergence --------------------------------------------------------------------------------------------

    def finite_state(self) -> dict:
        """:meth:`state_dict`, checked to hold no NaN or inf; else :class:`TrainingDiverged` naming the entry."""
        state = self.state_dict()
        where = first_nonfinite(state)
        if where is not None:
            raise TrainingDiverged(self.step, f"{where} holds NaN or inf")
        return state

    def rewind(self, diverged: TrainingDiverged) -> int:
        """Return to the end of the last step before ``diverged.step`` whose whole state is finite; returns it.

        The steps since the latest snapshot are replayed, each checked in full:
        training is deterministic, so they are the steps that were taken.
        """
        _, state = self._snapshot
        self.load_state_dict(copy.deepcopy(state))
        while self.step < diverged.step - 1:
            try:
                self.train_step()
                state = copy.deepcopy(self.finite_state())
            except TrainingDiverged:
                self.load_state_dict(state)
                break
        return self.step

    # -- state -------------------------------------------------------------------------------------------------

    def state_dict(self) -> dict:
        loss = self.game.loss
        return {
            "format": FORMAT,
            "step": self.step,
            "critic_steps": self.critic_steps,
            "config": self.config,
            "networks": {name: net.state_dict() for name, net in self.networks.items()},
            "averaged": {name: self.game.averaged[name].state_dict() for name in self.averages},
            "ema": {name: ema.state_dict() for name, ema in self.averages.items()},
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "loss": loss.state_dict() if hasattr(loss, "state_dict") else {},
            "rng": default_generator.get_state(),
            "loader": self.data.loader.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore a checkpoint of the same game; every network, optimiser and random state, bit for bit."""
        self._snapshot = None
        self.step, self.critic_steps = int(state["step"]), int(state["critic_steps"])
        for name, net in self.networks.items():
            net.load_state_dict(state["networks"][name])
        for name, ema in self.averages.items():
            ema.load_state_dict(state["ema"][name])
            self.game.averaged[name].load_state_dict(state["averaged"][name])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        if state["loss"]:
            self.game.loss.load_state_dict(state["loss"])
        default_generator.set_state(state["rng"])
        self.data.loader.load_state_dict(state["loader"])


def _grad_norm(optimizer) -> float:
    """:math:`\\lVert \\nabla \\rVert_2` over the optimiser's parameters, in float64."""
    params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    return math.sqrt(sum(float((p.grad.array.astype(np.float64) ** 2).sum()) for p in params))


def _mean(value) -> float:
    return float(value.array.mean()) if isinstance(value, mg.Tensor) else float(value)


class MetricsLog:
    """One JSON object per logged step in a ``.jsonl`` file (``metrics.jsonl``, ``evaluations.jsonl``)."""

    def __init__(self, path):
        self.path = path

    def records(self) -> list[dict]:
        """Every record written so far, oldest first."""
        return read_jsonl(self.path)

    def write(self, record: dict) -> None:
        append_jsonl(self.path, record)

    def truncate_after(self, step: int) -> None:
        """Drop records past ``step`` (a run resumed from an earlier checkpoint rewrites them)."""
        records = self.records()
        keep = [r for r in records if r["step"] <= step]
        if len(keep) < len(records):
            write_jsonl(self.path, keep)


def steps_per_second(start: float, steps: int) -> float:
    return steps / max(time.perf_counter() - start, 1e-9)
