"""Tensor's operators and methods, as a table from name to op.

Attached to :class:`~minigan.autograd.Tensor` when :mod:`minigan.ops` is
imported, so the autograd core does not depend on the ops built on it.
"""

from __future__ import annotations

from numbers import Number

import numpy as np

from minigan.autograd import Tensor
from minigan.autograd.tensor import device_of
from minigan.ops import binary, elementwise, functional, linalg, reduce, shape


def _pow(x, exponent):
    return binary.pow(x, exponent=exponent) if isinstance(exponent, Number) else binary.power(x, exponent)


def _rpow(x, base):
    return binary.rpow(x, base=base) if isinstance(base, Number) else binary.power(base, x)


def _flip(op):
    """``other <op> tensor``: the reflected operator."""
    return lambda x, other: op(other, x)


def to(x, *args, **kwargs) -> Tensor:
    """``to(device)``, ``to(dtype)`` or ``to(device, dtype)``; differentiable, like torch."""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    if kwargs:
        raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, str):
            device = arg
        else:
            dtype = arg
    out = x
    if dtype is not None and np.dtype(dtype) != x.dtype:
        out = elementwise.cast(out, dtype=np.dtype(dtype))
    if device is not None and device_of(out.data) != str(device).split(":")[0]:
        out = elementwise.to_device(out, device=str(device))
    return out


def _size_args(fn):
    """Methods such as ``x.reshape(2, 3)`` take sizes as separate arguments, as torch."""
    return lambda x, *sizes: fn(x, *sizes)


METHODS = {
    "__add__": binary.add, "__radd__": _flip(binary.add),
    "__sub__": binary.sub, "__rsub__": _flip(binary.sub),
    "__mul__": binary.mul, "__rmul__": _flip(binary.mul),
    "__truediv__": binary.div, "__rtruediv__": _flip(binary.div),
    "__pow__": _pow, "__rpow__": _rpow,
    "__matmul__": linalg.matmul, "__rmatmul__": lambda x, other: linalg.matmul(Tensor(other), x),
    "__neg__": elementwise.neg, "__abs__": elementwise.abs,
    "__getitem__": shape.index,
    "add": binary.add, "sub": binary.sub, "mul": binary.mul, "div": binary.div, "pow": _pow,
    "matmul": linalg.matmul, "maximum": binary.maximum, "minimum": binary.minimum,
    "neg": elementwise.neg, "exp": elementwise.exp, "log": elementwise.log, "sqrt": elementwise.sqrt,
    "abs": elementwise.abs, "tanh": elementwise.tanh, "sigmoid": elementwise.sigmoid,
    "relu": elementwise.relu, "leaky_relu": elementwise.leaky_relu, "softplus": elementwise.softplus,
    "log_sigmoid": elementwise.log_sigmoid, "clamp": elementwise.clamp, "clip": elementwise.clamp,
    "square": elementwise.square, "sign": elementwise.sign,
    "sum": reduce.sum, "mean": reduce.mean, "var": reduce.var, "std": reduce.std,
    "max": reduce.max, "min": reduce.min, "amax": reduce.amax, "amin": reduce.amin,
    "logsumexp": reduce.logsumexp, "norm": reduce.norm,
    "reshape": _size_args(shape.reshape), "view": _size_args(shape.reshape),
    "permute": _size_args(shape.permute), "expand": _size_args(shape.expand),
    "transpose": shape.transpose, "flatten": shape.flatten, "squeeze": shape.squeeze,
    "unsqueeze": shape.unsqueeze, "broadcast_to": lambda x, shape_: shape.broadcast_to(x, shape=tuple(shape_)),
    "sum_to": lambda x, shape_: shape.unbroadcast(x, tuple(shape_)),
    "log_softmax": functional.log_softmax, "softmax": functional.softmax,
    "to": to, "cpu": lambda x: to(x, "cpu"), "cuda": lambda x: to(x, "cuda"),
    "float": lambda x: to(x, np.float32), "double": lambda x: to(x, np.float64),
}


def install() -> None:
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)
    Tensor.T = property(lambda x: shape.permute(x, tuple(reversed(range(x.ndim)))))
    Tensor.mT = property(lambda x: shape.transpose(x, -2, -1))
