"""Optimisers and weight averaging, as ``torch.optim``: same names, defaults, update rules and state dicts.

Each optimiser's update of one parameter is a plain function on arrays
(``sgd_update``, ``adam_update``, ``rmsprop_update``, ``ema_update``), the
line-by-line transcription of the math in its class docstring. The first
three are kernels (:mod:`minigan.kernels.reference.optim`, with numba twins
that update each element in one pass).
"""

from minigan.optim.adam import Adam, AdamW
from minigan.optim.ema import EMA
from minigan.optim.optimizer import Optimizer
from minigan.optim.rmsprop import RMSprop
from minigan.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "EMA"]
