r"""A GAN family as a game: named networks, the players that update them, an objective per player, sampling.

A **game** names its networks (``G``, ``D``, and as the family needs ``Q``,
``E``, ...) and groups them into **players**. Each player has its own
optimiser over the networks it ``updates`` and minimises its own
**objective** on a batch, a method named after it (player ``"D"`` minimises
``d_objective(batch)``). The objective is the paper's equation written with
:mod:`minigan.losses`; everything else (alternating the players, freezing
what a player does not update, penalties, clipping, EMA, the NaN guard,
logging, checkpoints) belongs to the trainer, which knows no family.

Generators are run for pictures, sampling and metrics only through
:meth:`Game.sample`, which uses a network's averaged copy (EMA) when the
trainer keeps one.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

import minigan as mg
from minigan import nn
from minigan.data import DataSource
from minigan.losses import AdversarialLoss
from minigan.models import dcgan_init_
from minigan.registry import ConfigError, Registry

__all__ = ["GAMES", "Game", "Objective", "Player", "evaluating", "check_loss_fits"]

GAMES = Registry("game")
CHUNK = 1000  # samples per forward pass when sampling


@dataclass(frozen=True)
class Player:
    """One side of the game: the networks its optimiser updates and the learning rate it uses.

    A ``critic`` player runs ``optim.d_steps`` times per training step, and
    its loss takes the configured gradient penalty and weight clipping.
    """

    name: str                       # its objective is the game's method `<name lower-cased>_objective`
    updates: tuple[str, ...]        # the networks whose parameters its optimiser steps
    lr: str                         # the [optim] key of its learning rate
    critic: bool = False


@dataclass
class Objective:
    """What a player minimises on one batch, and what the trainer logs and penalises.

    ``logs`` are named values to record (a Tensor is recorded as its mean).
    A critic's objective also says where a gradient penalty looks: ``critic``
    maps samples to the adversarial output it judged them by (with any labels
    bound in), ``real`` and ``fake`` are the batches it judged.
    ``after_step``, when set, is what the player's update moves besides the
    weights (BEGAN's balance :math:`k_t`): the trainer calls it once, after
    the optimiser step, and logs the named values it returns. Evaluating an
    objective never changes anything, so that it stays a fixed function of
    the weights (the gradient checks call it many times).
    """

    loss: mg.Tensor
    logs: dict = field(default_factory=dict)
    critic: Callable | None = None
    real: mg.Tensor | None = None
    fake: mg.Tensor | None = None
    after_step: Callable[[], dict] | None = None


def check_loss_fits(game: str, loss: str, loss_game: str | None) -> None:
    """Raise :class:`ConfigError` if loss ``loss`` reads what only game ``loss_game``'s discriminator gives
    (an energy, a reconstruction, class probabilities) and ``game`` is another family."""
    if loss_game not in (None, game):
        raise ConfigError(f"loss.name = {loss!r} reads what only game {loss_game!r}'s discriminator gives; "
                          f"game {game!r} cannot use it: set game.name = {loss_game!r}, or choose another loss")


@contextlib.contextmanager
def evaluating(module: nn.Module):
    """Context: ``module`` in eval mode with no graph recorded; its former mode restored afterwards."""
    mode = module.training
    module.eval()
    try:
        with mg.no_grad():
            yield module
    finally:
        module.train(mode)


class Game:
    """Base of every family; a subclass sets the class attributes and writes ``build``, the objectives, ``sample``.

    Options of a family are its constructor's keyword parameters after
    ``data``, ``model`` and ``loss`` (see :mod:`minigan.registry`); they are
    set in a recipe's ``[game]`` table.
    """

    networks: ClassVar[tuple[str, ...]] = ("G", "D")
    players: ClassVar[tuple[Player, ...]] = (Player("D", ("D",), lr="d_lr", critic=True),
                                            Player("G", ("G",), lr="g_lr"))
    generators: ClassVar[tuple[str, ...]] = ("G",)  # what sample() runs and the trainer may average (EMA)
    condition: ClassVar[str | None] = None          # "labels" or "categories": what sample() can be asked for
    ranges: ClassVar[dict[str, str]] = {}
    needs_labels: ClassVar[bool] = False
    pairs: ClassVar[str | None] = None              # what it reads of an image-to-image task: "paired" or "unpaired"
    single_samples: ClassVar[bool] = False          # D's heads read one sample each, so PacGAN packing cannot apply
    curves: ClassVar[tuple[str, ...]] = ()          # metrics.jsonl keys drawn beside the samples in the picture
    picture: ClassVar[str] = "what the generator makes now, from fixed latent vectors"  # what sample_grid shows
    name: str = ""

    def __init__(self, data: DataSource, model: dict, loss: AdversarialLoss):
        self.data, self.model, self.loss = data, model, loss
        self.latent_dim = model["latent_dim"]
        check_loss_fits(self.name, loss.name, loss.game)
        self._check_data()
        built = self.build()
        if tuple(built) != self.networks:
            raise TypeError(f"{type(self).__name__}.build() returned networks {tuple(built)}, expected {self.networks}")
        for name, network in built.items():
            if model["dcgan_init"]:
                network.apply(dcgan_init_)
            setattr(self, name, network)
        self.averaged: dict[str, nn.Module] = {}  # sampling copies by network name, kept by the trainer

    def _check_data(self) -> None:
        if self.data.task and self.pairs is None:
            raise ConfigError(f"game {self.name!r} reads no image-to-image task, but data.task = {self.data.task!r}; "
                              "choose pix2pix, srgan or cyclegan, or set data.task = ''")
        if self.pairs is not None and (not self.data.task or (self.pairs == "paired" and not self.data.paired)):
            tasks = "'colour' or 'superres'" if self.pairs == "paired" else "'domains', 'colour' or 'superres'"
            raise ConfigError(f"game {self.name!r} learns from {self.pairs} images: set data.name = 'photos' and "
                              f"data.task = {tasks}")
        if self.needs_labels and self.data.labels is None:
            raise ConfigError(f"game {self.name!r} needs labelled data, but {self.data.name} has no labels")
        if self.single_samples and self.model["pack"] != 1:
            raise ConfigError(f"game {self.name!r} reads one sample per discriminator output; "
                              f"model.pack must be 1, got {self.model['pack']}")

    def build(self) -> dict[str, nn.Module]:
        """The networks, by name, in the order of :attr:`networks`."""
        raise NotImplementedError

    def network(self, name: str) -> nn.Module:
        return getattr(self, name)

    @property
    def condition_count(self) -> int:
        """How many values :attr:`condition` takes (classes, or categories of the code); 0 when there is none."""
        return 0

    def sampler(self, name: str = "G") -> nn.Module:
        """The copy of generator ``name`` that pictures and metrics use: its EMA average when there is one."""
        return self.averaged.get(name, self.network(name))

    # -- drawing the generator's inputs ----------------------------------------------------------------------

    @property
    def dtype(self) -> np.dtype:
        """The floating dtype of the first generator's parameters (float32 unless converted): that of its inputs."""
        params = self.network(self.generators[0]).parameters()
        return next((p.dtype for p in params if p.dtype.kind == "f"), np.dtype(np.float32))

    def z(self, n: int, generator: mg.Generator | None = None) -> mg.Tensor:
        r"""Latent noise :math:`z \sim \mathcal N(0, I)`, ``(n, latent_dim)``, in G's dtype (layers do not promote)."""
        return mg.randn(n, self.latent_dim, generator=generator, dtype=self.dtype)

    def generator_inputs(self, n: int, generator: mg.Generator | None = None, z=None) -> tuple:
        """What G is called with for ``n`` samples; ``z`` ``(n, latent_dim)`` replaces the drawn noise."""
        return (self._given_z(n, z, generator),)

    def _given_z(self, n: int, z, generator) -> mg.Tensor:
        if z is None:
            return self.z(n, generator)
        z = mg.tensor(np.asarray(z, dtype=self.dtype))
        if z.shape != (n, self.latent_dim):
            raise ValueError(f"{self.name}: latents must have shape ({n}, {self.latent_dim}), got {z.shape}")
        return z

    # -- sampling: the one place a generator is run outside training -----------------------------------------

    def sample(self, n: int, generator: mg.Generator | None = None, **conditions) -> np.ndarray:
        """``n`` samples from the sampling copy of G in eval mode, as one array.

        ``conditions`` are the family's: ``z`` for every family, ``labels``
        for conditional ones, ``categories`` and ``continuous`` for InfoGAN.
        """
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{self.name}: sample() needs a positive number of samples, got {n!r}")
        inputs = self.generator_inputs(n, generator, **conditions)
        with evaluating(self.sampler(self.generators[0])) as G:
            return np.concatenate([G(*(t[i:i + CHUNK] for t in inputs)).numpy() for i in range(0, n, CHUNK)])

    def on_samples(self, network: nn.Module, x, what: str, apply: Callable | None = None) -> np.ndarray:
        """``apply(network, batch)`` (by default ``network(batch)``) on samples ``x`` ``(N, *shape)`` of the data,
        ``CHUNK`` at a time, in eval mode with no graph, as one array. ``what`` names the method in the error a
        wrong shape of ``x`` gets."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim < 1 or x.shape[1:] != tuple(self.data.shape):
            shape = ", ".join(map(str, self.data.shape))
            raise ValueError(f"{self.name}: {what}() takes samples of shape (N, {shape}), got {x.shape}")
        apply = apply or (lambda net, batch: net(batch))
        with evaluating(network) as net:
            return np.concatenate([apply(net, mg.tensor(x[i:i + CHUNK])).numpy() for i in range(0, len(x), CHUNK)])

    def sample_grid(self, n: int, generator: mg.Generator | None = None) -> tuple[np.ndarray, int | None]:
        """The family's picture: samples and the number of columns to lay them out in (None: square)."""
        return self.sample(n, generator), None

    def real_samples(self, n: int, generator: mg.Generator | None = None) -> np.ndarray:
        """``n`` training samples drawn at random (with replacement) by ``generator``, in the game's dtype."""
        chosen = mg.randint(0, len(self.data.samples), (n,), generator=generator).numpy()
        return self.data.samples[chosen].astype(self.dtype)

    def grouped_rows(self, n: int, kinds: int, images: Callable[[int], list]) -> tuple[np.ndarray, int]:
        """A picture of about ``n`` images in groups of ``kinds`` rows, ``columns`` wide: ``images(count)`` gives
        ``kinds`` arrays of ``count`` images each, and row ``r`` of the ``k``-th group shows the ``k``-th row of
        each array in turn (a real image above its reconstruction, say). Returns the images and ``columns``."""
        columns = max(1, math.isqrt(n))
        groups = max(1, n // columns // kinds)
        grid = np.stack([a.reshape(groups, columns, *a.shape[1:]) for a in images(groups * columns)], axis=1)
        return grid.reshape(-1, *grid.shape[3:]), columns

    def critic(self) -> Callable | None:
        """D's adversarial output on samples alone (for rejection sampling), or None where D needs more."""
        D = self.network("D")
        return None if getattr(D, "pack", 1) > 1 else D

    # -- checks shared by the families -------------------------------------------------------------------------

    def _classes(self, values, n: int, count: int, what: str) -> np.ndarray:
        """``n`` integer classes in ``[0, count)``: ``values`` (one int or ``n`` of them), else 0, 1, ... cycling."""
        if values is None:
            return np.arange(n) % count
        values = np.broadcast_to(np.asarray(values), (n,)) if np.ndim(values) == 0 else np.asarray(values)
        if values.shape != (n,) or not np.issubdtype(values.dtype, np.integer):
            raise ValueError(f"{self.name}: {what} must be one integer or {n} of them, got shape {values.shape} "
                             f"of {values.dtype}")
        if values.size and (values.min() < 0 or values.max() >= count):
            raise ValueError(f"{self.name}: {what} must lie in [0, {count - 1}], got {values.min()}..{values.max()}")
        return values.astype(np.int64)
