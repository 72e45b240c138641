"""Training checkpoints on disk: the file name a run folder keeps its latest one under, and reading one back.

A checkpoint is :meth:`minigan.train.trainer.Trainer.state_dict` saved with
:func:`minigan.save`: weights, optimiser states, RNG states and the
configuration, marked ``format = "minigan-checkpoint"``.
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
    return state
