"""Tensor's operators and methods, as a table from name to op.

Attached to :class:`~minigan.autograd.Tensor` when :mod:`minigan.ops` is
imported, so the autograd core does not depend on the ops built on it.
"""

from __future__ import annotations

from numbers import Number

import numpy as np

from minigan.autograd import Tensor
from minigan.autograd.tensor import device_of, to_device
from minigan.autograd import legacy
from minigan.ops import binary, elementwise, functional, inplace, linalg, reduce, shape


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
    if device is not None and device_of(out.array) != str(device).split(":")[0]:
        out = elementwise.to_device(out, device=str(device))
    return out


def type_(x, dtype=None):
    """``x.type()``: the legacy type name (``"minigan.FloatTensor"``); ``x.type(T)``: ``x`` as type or dtype ``T``."""
    if dtype is None:
        kinds = {"float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor"}
        name = kinds.get(x.dtype.name, x.dtype.name)
        return f"minigan.{'cuda.' if x.device == 'cuda' else ''}{name}"
    if isinstance(dtype, type) and issubclass(dtype, legacy.LegacyTensor):
        return to(x, dtype.device, dtype.dtype)
    return to(x, np.dtype(dtype))


def repeat(x, *sizes) -> Tensor:
    """``x`` tiled ``sizes[i]`` times along each dimension (as ``torch.Tensor.repeat``); leading sizes add dims.

    A composite of reshape and expand: dimension ``i`` of size ``s`` becomes ``(r, s)``, expanded, then merged,
    so the gradient sums the copies.
    """
    sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: {len(sizes)} sizes for a {x.ndim}-D tensor; give at least {x.ndim}")
    dims = (1,) * (len(sizes) - x.ndim) + x.shape
    paired = shape.reshape(x, *[d for s in dims for d in (1, s)])
    tiled = shape.expand(paired, *[d for r, s in zip(sizes, dims) for d in (r, s)])
    return shape.reshape(tiled, *[r * s for r, s in zip(sizes, dims)])


def split(x, split_size_or_sections, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces along ``dim``: of ``split_size`` each (the last may be shorter), or of the listed sizes.

    Each piece is a slice (:func:`minigan.ops.shape.index`), so a piece's gradient lands in its own rows.
    """
    n = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        sizes = [min(split_size_or_sections, n - start) for start in range(0, n, split_size_or_sections)]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sections {sizes} do not add up to dimension {dim}'s size {n}")
    pieces, start = [], 0
    for size in sizes:
        key = (slice(None),) * (dim % x.ndim) + (slice(start, start + size),)
        pieces.append(shape.index(x, key))
        start += size
    return tuple(pieces)


def chunk(x, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """``chunks`` pieces along ``dim``, each of ``ceil(n / chunks)`` elements (fewer pieces if they run out)."""
    return split(x, -(-x.shape[dim] // chunks), dim)


def t(x) -> Tensor:
    """``x.t()``: a matrix transposed; vectors and scalars unchanged (as ``torch.Tensor.t``)."""
    if x.ndim > 2:
        raise ValueError(f"t() expects a tensor with at most 2 dimensions, got shape {x.shape}; use transpose")
    return shape.transpose(x, 0, 1) if x.ndim == 2 else x


def _new_like(x, make, dtype, device, requires_grad: bool) -> Tensor:
    """``make(xp, dtype)``'s array as a new tensor, in ``x``'s dtype and on its device unless told otherwise."""
    array = make(x.xp, np.dtype(dtype or x.dtype))
    return Tensor(array if device is None else to_device(array, device), requires_grad=requires_grad)


def _sizes(size) -> tuple[int, ...]:
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)


def new_zeros(x, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _new_like(x, lambda xp, dt: xp.zeros(_sizes(size), dt), dtype, device, requires_grad)


def new_ones(x, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _new_like(x, lambda xp, dt: xp.ones(_sizes(size), dt), dtype, device, requires_grad)


def new_empty(x, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _new_like(x, lambda xp, dt: xp.empty(_sizes(size), dt), dtype, device, requires_grad)


def new_full(x, size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _new_like(x, lambda xp, dt: xp.full(_sizes((size,)), fill_value, dt), dtype, device, requires_grad)


def new_tensor(x, data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A copy of ``data``; like the other ``new_*`` methods, in ``x``'s dtype and on its device by default."""
    values = data.array if isinstance(data, Tensor) else data
    return _new_like(x, lambda xp, dt: xp.array(values, dt), dtype, device, requires_grad)


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
    "amax": reduce.amax, "amin": reduce.amin,
    "logsumexp": reduce.logsumexp, "norm": reduce.norm,
    "reshape": _size_args(shape.reshape), "view": _size_args(shape.reshape),
    "permute": _size_args(shape.permute), "expand": _size_args(shape.expand),
    "transpose": shape.transpose, "flatten": shape.flatten, "squeeze": shape.squeeze,
    "unsqueeze": shape.unsqueeze, "broadcast_to": lambda x, shape_: shape.broadcast_to(x, shape=tuple(shape_)),
    "sum_to": lambda x, shape_: shape.unbroadcast(x, tuple(shape_)),
    "log_softmax": functional.log_softmax, "softmax": functional.softmax,
    "to": to, "cpu": lambda x: to(x, "cpu"), "cuda": lambda x: to(x, "cuda"),
    "float": lambda x: to(x, np.float32), "double": lambda x: to(x, np.float64),
    "long": lambda x: to(x, np.int64), "int": lambda x: to(x, np.int32), "type": type_,
    "clone": lambda x: elementwise.cast(x, dtype=x.dtype), "contiguous": lambda x: x,
    "view_as": lambda x, other: shape.reshape(x, *other.shape),
    "argmax": reduce.argmax, "argmin": reduce.argmin, "all": reduce.all, "any": reduce.any,
    "max": reduce.max, "min": reduce.min,
    "masked_fill": lambda x, mask, value: binary.where(mask, value, x),  # gradient: 0 where filled, else through
    "repeat": repeat, "split": split, "chunk": chunk,
    "fill_": inplace.fill_, "zero_": inplace.zero_, "clamp_": inplace.clamp_, "copy_": inplace.copy_,
    "normal_": inplace.normal_, "uniform_": inplace.uniform_, "scatter_": inplace.scatter_,
    "add_": inplace.add_, "sub_": inplace.sub_, "mul_": inplace.mul_, "div_": inplace.div_,
    "__iadd__": inplace.augmented(inplace.add_, binary.add), "__isub__": inplace.augmented(inplace.sub_, binary.sub),
    "__imul__": inplace.augmented(inplace.mul_, binary.mul),
    "__itruediv__": inplace.augmented(inplace.div_, binary.div),
    "t": t, "new_tensor": new_tensor, "new_zeros": new_zeros, "new_ones": new_ones, "new_empty": new_empty,
    "new_full": new_full,
}


def install() -> None:
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)
    Tensor.T = property(lambda x: shape.permute(x, tuple(reversed(range(x.ndim)))))
    Tensor.mT = property(lambda x: shape.transpose(x, -2, -1))
    Tensor.is_cuda = property(lambda x: x.device == "cuda")
