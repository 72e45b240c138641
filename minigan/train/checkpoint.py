"""Training checkpoints on disk: the file name a run folder keeps its latest one under, and reading one back.

A checkpoint is :meth:`minigan.train.trainer.Trainer.state_dict` saved with
:func:`minigan.save`: the configuration, every network of the game by name,
the averaged (EMA) generators, each player's optimiser, the RNG and loader
states, marked ``format = "minigan-checkpoint"``. Anything wrong with one
(not a checkpoint, written before games, networks that do not fit its own
configuration) is a :class:`minigan.CheckpointError` naming the file.
"""

from __future__ import annotations

import contextlib

import minigan as mg
from minigan.serialization import CheckpointError

__all__ = ["CHECKPOINT", "load_checkpoint", "fitting"]

CHECKPOINT = "checkpoint.safetensors"


def load_checkpoint(path) -> dict:
    """A training checkpoint, checked to be one (the file format is checked by :func:`minigan.load`)."""
    state = mg.load(path)
    if not isinstance(state, dict) or state.get("format") != "minigan-checkpoint":
        raise CheckpointError(f"{path} is not a minigan training checkpoint")
    if "networks" not in state:
        raise CheckpointError(f"{path} was written by a minigan without games (networks G and D at its top level); "
                              "train it again with this version")
    return state


@contextlib.contextmanager
def fitting(path):
    """Context: a state that does not fit what is restored from it becomes a CheckpointError naming ``path``.

    Missing networks and mismatched weights surface as ``KeyError`` (``nn.StateDictError`` is one) or
    ``ValueError`` while loading.
    """
    try:
        yield
    except (KeyError, ValueError) as err:
        if isinstance(err, CheckpointError):
            raise
        detail = "; ".join(line.strip() for line in str(err.args[0] if err.args else err).splitlines() if line.strip())
        raise CheckpointError(f"{path} does not fit the game its configuration builds: {detail}") from None
