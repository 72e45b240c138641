"""minigan: Generative Adversarial Networks from scratch in NumPy.

A small autograd whose every gradient is derived by hand and checked against
finite differences, with PyTorch's names and conventions::

    import minigan as mg
    x = mg.randn(3, 4, requires_grad=True)
    (x.tanh() ** 2).sum().backward()
"""

from minigan.autograd import *  # noqa: F403
from minigan.autograd import __all__ as _autograd_all
from minigan.ops import *  # noqa: F403
from minigan.ops import __all__ as _ops_all
from minigan.serialization import CheckpointError, load, save

from minigan import nn, optim, losses  # noqa: E402  (subpackages as attributes: mg.nn, mg.optim, mg.losses)

__version__ = "0.1.0"

__all__ = [*_autograd_all, *_ops_all, "save", "load", "CheckpointError"]
