"""Training checkpoints on disk: the file name a run folder keeps its latest one under, and reading one back.

A checkpoint is :meth:`minigan.train.trainer.Trainer.state_dict` saved with
:func:`minigan.save`: the configuration, every network of the game by name,
the averaged (EMA) generators, each player's optimiser, the RNG and loader
states, marked ``format = "minigan-checkpoint"``. Anything wrong with one
(corrupt, not a checkpoint, written before games, holding NaN or infinity,
networks that do not fit its own configuration) is a
:class:`minigan.CheckpointError` naming the file.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

import minigan as mg
from minigan.serialization import CheckpointError

__all__ = ["CHECKPOINT", "first_nonfinite", "fitting", "load_checkpoint"]

CHECKPOINT = "checkpoint.safetensors"


def load_checkpoint(path) -> dict:
    """A training checkpoint, checked to be one (the file format is checked by :func:`minigan.load`)."""
    state = mg.load(path)
    if not isinstance(state, dict) or state.get("format") != "minigan-checkpoint":
        raise CheckpointError(f"{path} is not a minigan training checkpoint")
    if "networks" not in state:
        raise CheckpointError(f"{path} was written by a minigan without games (networks G and D at its top level); "
                              "train it again with this version")
    where = first_nonfinite(state)
    if where is not None:
        raise CheckpointError(f"{path}: {where} holds non-finite values (NaN or inf); the checkpoint cannot be used")
    return state


def first_nonfinite(state) -> str | None:
    r"""Where ``state`` first holds NaN or :math:`\pm\infty`: the slash-joined path of that leaf, or None.

    ``state`` nests dicts, lists and tuples of Tensors, NumPy or CuPy arrays,
    NumPy scalars and Python numbers, as a checkpoint does; the path joins the
    keys and indices on the way (``"averaged/G/net.0.weight"``,
    ``"optimizers/D/state/0/exp_avg_sq"``), depth first in order, and is
    ``"root"`` for a bare leaf. Only floating-point leaves are looked at, each
    array with one ``isfinite(a).all()``.
    """
    return _first_nonfinite(state, ())


def _first_nonfinite(state, keys: tuple) -> str | None:
    if isinstance(state, dict):
        items = state.items()
    elif isinstance(state, (list, tuple)):
        items = enumerate(state)
    else:
        return ("/".join(map(str, keys)) or "root") if _nonfinite(state) else None
    for key, value in items:
        where = _first_nonfinite(value, (*keys, key))
        if where is not None:
            return where
    return None


def _nonfinite(leaf) -> bool:
    if isinstance(leaf, mg.Tensor):
        leaf = leaf.array
    if isinstance(leaf, float):
        return not math.isfinite(leaf)
    dtype = getattr(leaf, "dtype", None)  # ndarray (NumPy or CuPy) or NumPy scalar
    if dtype is None or dtype.kind not in "fc":
        return False
    return not bool(np.isfinite(leaf).all())  # a CuPy array answers the ufunc itself


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
