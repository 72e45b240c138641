"""Training checkpoints on disk: the file name a run folder keeps its latest one under, and reading one back.

A checkpoint is :meth:`minigan.train.trainer.Trainer.state_dict` saved with
:func:`minigan.save`: the configuration, every network of the game by name,
the averaged (EMA) generators, each player's optimiser, the RNG and loader
states, marked ``format = "minigan-checkpoint"``.
"""

from __future__ import annotations

import minigan as mg

__all__ = ["CHECKPOINT", "load_checkpoint"]

CHECKPOINT = "checkpoint.safetensors"


def load_checkpoint(path) -> dict:
    """A training checkpoint, checked to be one (the file format is checked by :func:`minigan.load`)."""
    state = mg.load(path)
    if not isinstance(state, dict) or state.get("format") != "minigan-checkpoint":
        raise ValueError(f"{path} is not a minigan training checkpoint")
    if "networks" not in state:
        raise ValueError(f"{path} was written by a minigan without games (networks G and D at its top level); "
                         "train it again with this version")
    return state
