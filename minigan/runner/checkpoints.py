"""A saved run brought back: its game with trained weights, and the evaluation of its generator."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

import minigan as mg
from minigan.games import Game
from minigan.data import photos
from minigan.metrics import MetricError, colour_distance, evaluate_generator
from minigan.metrics.c2st import seeded
from minigan.metrics.patches import patch_two_sample_test
from minigan.serialization import CheckpointError
from minigan.train.checkpoint import fitting, load_checkpoint
from minigan.train.config import complete
from minigan.train.setup import build_data, build_game

__all__ = ["load_game", "evaluate_game", "evaluate_checkpoint", "photo_scores"]


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


def photo_scores(game: Game, seed: int = 0) -> dict:
    """How close a generator of the photographs' crops comes to the held-out crops (the columns it never saw).

    As many samples as held-out crops (450 at 32x32), drawn from ``seed``:
    ``patch_c2st``, the held-out accuracy of a fresh PatchGAN told to tell
    the samples from the held-out crops
    (:func:`minigan.metrics.patches.patch_two_sample_test`; 0.5 is chance)
    and its ``patch_c2st_p_value``; ``colour_tv``, ``mean_gap`` and
    ``std_gap``, the :func:`~minigan.metrics.colour_distance` of the samples
    from the held-out crops; ``n``, the count of each.
    """
    held_out = photos("test", game.data.shape[-1]).images
    fake = game.sample(len(held_out), mg.Generator(1000 + seed))
    c2st, colours = patch_two_sample_test(held_out, fake, seed=seed), colour_distance(held_out, fake)
    return {"patch_c2st": c2st["accuracy"], "patch_c2st_p_value": c2st["p_value"], "colour_tv": colours["tv"],
            "mean_gap": colours["mean_gap"], "std_gap": colours["std_gap"], "n": len(held_out)}


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

    A checkpoint of the photos is scored instead on held-out images no
    training batch held: an image-to-image one (``game.pairs`` set) on its
    task's, by the game's ``held_out_scores``, and a generator of the crops
    by :func:`photo_scores`. Those scores are under ``"held_out"``, and
    ``"held_out_of"`` says of what; ``n``, ``features`` and ``probabilities``
    do not apply, and ``metrics`` raises :class:`~minigan.metrics.MetricError`.
    """
    game, state = load_game(path)
    if game.data.name == "photos" and metrics:
        raise MetricError(f"metrics: a {game.name} checkpoint of the photos is scored on their held-out images; "
                          f"leave the metrics out")
    if game.pairs is not None:
        scores = {"held_out": game.held_out_scores(seed), "held_out_of": f"{game.data.task} images"}
    elif game.data.name == "photos":
        scores = {"held_out": photo_scores(game, seed), "held_out_of": "crops of the photographs"}
    else:
        scores = evaluate_game(game, n, metrics, seed, features, probabilities)
    return {"checkpoint": str(path), "recipe": state["config"].get("recipe", ""), "game": game.name,
            "step": int(state["step"]), **scores}
