"""A saved run brought back: its game with trained weights, and the evaluation of its generator."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

import minigan as mg
from minigan.games import Game
from minigan.metrics import evaluate_generator
from minigan.metrics.c2st import seeded
from minigan.serialization import CheckpointError
from minigan.train.checkpoint import fitting, load_checkpoint
from minigan.train.config import complete
from minigan.train.setup import build_data, build_game

__all__ = ["load_game", "evaluate_game", "evaluate_checkpoint"]


def load_game(path) -> tuple[Game, dict]:
    """The game of a checkpoint with its trained (and averaged) weights, and the checkpoint itself.

    Building the networks draws initial weights; the caller's random state is left as it was.
    """
    state = load_checkpoint(path)
    config = complete(state["config"])
    with seeded(config["train"]["seed"]):
        game = build_game(config, build_data(config))
    with fitting(path):
        for name in game.networks:
            game.network(name).load_state_dict(state["networks"][name])
        for name, weights in state["averaged"].items():
            game.averaged[name] = copy.deepcopy(game.network(name))
            game.averaged[name].load_state_dict(weights)
    return game, state


def evaluate_game(game: Game, n: int = 5000, metrics=None, seed: int = 0, features: Callable | None = None,
                  probabilities: Callable | None = None) -> dict:
    """:func:`minigan.metrics.evaluate_generator` on the game's samples (its averaged generator when it has one).

    Raises :class:`minigan.CheckpointError` if the generator makes NaN or inf samples.
    """
    def sample(n, generator, **conditions):
        samples = game.sample(n, generator, **conditions)
        if not np.isfinite(samples).all():  # finite weights can still overflow the generator's output
            raise CheckpointError("the generator makes NaN or inf samples; they cannot be evaluated")
        return samples

    def sample_given(n, generator):  # every class or category equally often
        values = np.arange(n) % game.condition_count
        return sample(n, generator, **{game.condition: values}), values

    return evaluate_generator(sample, game.data, n, metrics, seed, features,
                              probabilities, critic=_critic_logits(game),
                              sample_given=sample_given if game.condition else None, condition=game.condition)


def _critic_logits(game: Game) -> Callable[[np.ndarray], np.ndarray] | None:
    """D's logits on an array of samples as in training (train mode: batch statistics), or None."""
    critic = game.critic()
    if critic is None:
        return None
    D = game.network("D")

    def logits(x: np.ndarray) -> np.ndarray:
        mode = D.training
        D.train()
        try:
            with mg.no_grad():
                return critic(mg.tensor(np.asarray(x, dtype=game.dtype))).numpy()
        finally:
            D.train(mode)

    return logits


def evaluate_checkpoint(path, n: int = 5000, metrics=None, seed: int = 0, features: Callable | None = None,
                        probabilities: Callable | None = None) -> dict:
    """Metrics of the generator saved in a training checkpoint (its EMA weights when it has them).

    ``metrics`` are names from :data:`minigan.metrics.TOY_METRICS`,
    :data:`~minigan.metrics.IMAGE_METRICS` or :data:`~minigan.metrics.CLASS_METRICS`
    (default: all that fit the data and the family). ``features`` and
    ``probabilities`` replace the digits classifier for other image data (see
    :func:`minigan.metrics.evaluate_generator`). Same checkpoint and seed, same numbers.
    """
    game, state = load_game(path)
    scores = evaluate_game(game, n, metrics, seed, features, probabilities)
    return {"checkpoint": str(path), "recipe": state["config"].get("recipe", ""), "game": game.name,
            "step": int(state["step"]), **scores}
