"""The primitives: forward on arrays (through :mod:`minigan.kernels`), VJP beside it.

One module per family; each module's docstring states the rule its VJPs follow.
"""

from minigan.ops import tensor_methods
from minigan.ops.binary import add, div, maximum, minimum, mul, pow, power, rpow, sub, where
from minigan.ops.conv import fold, unfold
from minigan.ops.elementwise import (abs, cast, clamp, exp, leaky_relu, log, log_sigmoid, neg, relu,
                                     sigmoid, sign, softplus, sqrt, square, tanh, to_device)
from minigan.ops.functional import (binary_cross_entropy_with_logits, cross_entropy, log_softmax,
                                    nll_loss, softmax)
from minigan.ops.linalg import affine, bmm, matmul, mm
from minigan.ops.reduce import (MinMax, all, amax, amin, any, argmax, argmin, logsumexp, max, mean, min, norm, std,
                                sum, var)
from minigan.ops.shape import (broadcast_to, cat, concatenate, expand, flatten, getitem, pad, permute,
                               reshape, scatter_add, squeeze, stack, sum_to, transpose, unbroadcast,
                               unsqueeze, view)

tensor_methods.install()

split, chunk = tensor_methods.split, tensor_methods.chunk


def numel(x) -> int:
    """How many elements ``x`` has, as ``torch.numel``."""
    return x.numel()


clip = clamp

__all__ = [
    "add", "sub", "mul", "div", "pow", "power", "rpow", "maximum", "minimum", "where",
    "neg", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "leaky_relu", "softplus",
    "log_sigmoid", "clamp", "clip", "cast", "to_device", "sign", "square",
    "sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin", "all", "any", "MinMax",
    "logsumexp", "norm", "split", "chunk", "numel",
    "reshape", "view", "permute", "transpose", "flatten", "squeeze", "unsqueeze", "broadcast_to",
    "expand", "sum_to", "unbroadcast", "getitem", "scatter_add", "cat", "concatenate", "stack", "pad",
    "matmul", "mm", "bmm", "affine", "unfold", "fold",
    "log_softmax", "softmax", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss",
]
