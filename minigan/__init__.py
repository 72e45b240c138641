"""minigan: Generative Adversarial Networks from scratch in NumPy.

A small autograd whose every gradient is derived by hand and checked against
finite differences, with PyTorch's names and conventions::

    import minigan as mg
    x = mg.randn(3, 4, requires_grad=True)
    (x.tanh() ** 2).sum().backward()

Layers, lowest first. A module imports only from its own layer and the layers
listed before it; names on one line share a layer::

    kernels         array-level kernels: NumPy reference, numba, CuPy; no Tensors
    autograd        Tensor, the tape, backward and grad, no_grad, primitives
    serialization   save and load (safetensors), atomic writes, .jsonl logs
    registry        named, configurable components: the tables of losses, penalties, games
    ops             the primitives, forward on arrays and VJP beside it; Tensor's methods
    nn              Module, Parameter, layers, functional, init, spectral norm
    optim           SGD, Adam, RMSprop, EMA of weights
    losses          GAN losses with hand-derived gradients, penalties
    data            toy distributions, digits, IDX files, batching
    models          networks: MLP, DCGAN, ...
    metrics         FID-style distances, IS, precision/recall, mode coverage, C2ST
    viz             matplotlib figures
    utils           torch.utils.data's Dataset, TensorDataset, DataLoader; torchvision's make_grid, save_image
    games           one GAN family per module: named networks, players, objectives
    train           the trainer, checkpoints, recipes, config, logging
    testing         gradcheck, gradgradcheck, hypothesis strategies (no library module imports it)
    runner, cli, bench, sweep, __main__    a run on disk, the ``minigan`` command, benchmarks, sweeps

This package itself re-exports autograd, ops and serialization and carries nn,
optim and losses as attributes, so importing ``minigan`` counts as importing the
highest of them, losses: modules below losses import the subpackages they need,
never ``minigan`` itself.
"""

import numpy as _np

from minigan.autograd import *  # noqa: F403
from minigan.autograd import __all__ as _autograd_all
from minigan.ops import *  # noqa: F403
from minigan.ops import __all__ as _ops_all
from minigan.serialization import CheckpointError, load, save

from minigan import nn, optim, losses  # noqa: E402  (subpackages as attributes: mg.nn, mg.optim, mg.losses)

__version__ = "0.1.0"

# torch's dtype names (minigan's dtypes are NumPy's), for scripts that say ``dtype=torch.float``; kept out
# of ``__all__``, so that ``from minigan import *`` does not shadow the builtins float, int and bool
float16, int32, int16, int8, uint8 = _np.float16, _np.int32, _np.int16, _np.int8, _np.uint8
float, double, half, long, int, short, bool = float32, float64, float16, int64, int32, int16, bool_  # noqa: F405

__all__ = [*_autograd_all, *_ops_all, "save", "load", "CheckpointError"]
