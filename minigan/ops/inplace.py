"""In-place methods, as in PyTorch (``fill_``, ``zero_``, ``clamp_``, ``copy_``, ``normal_``, ``uniform_``,
``scatter_``, ``add_``, ``sub_``, ``mul_``, ``div_``) and the augmented operators ``+=``, ``-=``, ``*=``, ``/=``.

They write into the tensor's array and record nothing on the tape, so, as in
PyTorch, they are refused on a tensor that takes part in a graph: a leaf that
requires grad may be changed only under :func:`~minigan.no_grad` (as
initialisers and weight clipping do), and a tensor computed from others not at
all, since the tape may have kept it for a backward pass.
"""

from __future__ import annotations

import operator

from minigan.autograd import Tensor, is_grad_enabled, rand, randn
from minigan.autograd.creation import Generator

__all__ = ["fill_", "zero_", "clamp_", "copy_", "normal_", "uniform_", "scatter_", "add_", "sub_", "mul_",
           "div_", "augmented"]


def _writable(x: Tensor, op: str) -> Tensor:
    if x.requires_grad and (not x.is_leaf or is_grad_enabled()):
        where = "a leaf that requires grad outside no_grad()" if x.is_leaf else "a tensor computed in a graph"
        raise RuntimeError(f"{op}: in-place change of {where}; use `with minigan.no_grad():` or a detached copy")
    return x


def fill_(x: Tensor, value) -> Tensor:
    """Every element set to ``value``; returns ``x``."""
    _writable(x, "fill_").array[...] = value.item() if isinstance(value, Tensor) else value
    return x


def zero_(x: Tensor) -> Tensor:
    """Every element set to 0; returns ``x``."""
    return fill_(x, 0)


def clamp_(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Elements clipped to ``[min, max]`` (either may be None); returns ``x``."""
    if min is None and max is None:
        raise ValueError("clamp_: at least one of min and max must be given")
    _writable(x, "clamp_")
    x.xp.clip(x.array, min, max, out=x.array)
    return x


def copy_(x: Tensor, src) -> Tensor:
    """``src`` (a tensor, array or number, broadcast to ``x``'s shape) copied in, cast to ``x``'s dtype."""
    values = src.array if isinstance(src, Tensor) else src
    _writable(x, "copy_").array[...] = x.xp.asarray(values, dtype=x.dtype)
    return x


def normal_(x: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    r"""Elements drawn from :math:`\mathcal N(\mathrm{mean}, \mathrm{std}^2)` with minigan's generator."""
    noise = randn(*x.shape, dtype=x.dtype, device=x.device, generator=generator)
    _writable(x, "normal_").array[...] = noise.array * std + mean
    return x


def uniform_(x: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    r"""Elements drawn from :math:`\mathcal U[a, b)` with minigan's generator."""
    noise = rand(*x.shape, dtype=x.dtype, device=x.device, generator=generator)
    _writable(x, "uniform_").array[...] = noise.array * (b - a) + a
    return x


def scatter_(x: Tensor, dim: int, index, src=None, *, value=None) -> Tensor:
    """``x[..., index[i, j], ...] = src[i, j]`` along ``dim`` for every position of ``index`` (as torch).

    ``src`` may be a tensor (read at ``index``'s positions, so it may be larger) or a number; PyTorch's
    ``value=`` keyword is the number form. The classic use: ``onehot.scatter_(1, labels.view(-1, 1), 1)``.
    """
    if (src is None) == (value is None):
        raise TypeError("scatter_: give src (a tensor or a number) or value, not both")
    idx = index.array if isinstance(index, Tensor) else x.xp.asarray(index)
    if idx.ndim != x.ndim:
        raise ValueError(f"scatter_: index must have as many dimensions as the tensor ({x.ndim}), got {idx.ndim}")
    values = value if src is None else src
    if isinstance(values, Tensor):
        values = values.array[tuple(slice(0, n) for n in idx.shape)]
    where = list(x.xp.indices(idx.shape, sparse=True))  # index may be smaller than x in every dimension
    where[dim] = idx
    _writable(x, "scatter_").array[tuple(where)] = x.xp.asarray(values, dtype=x.dtype)
    return x


def _arithmetic_(name: str, combine):
    def method(x: Tensor, other) -> Tensor:
        values = other.array if isinstance(other, Tensor) else other
        result = combine(x.array, values)
        if x.dtype.kind in "biu" and result.dtype.kind not in "biu":
            raise RuntimeError(f"{name}: the result is {result.dtype}, which cannot be written into {x.dtype}")
        if result.shape != x.shape:
            raise RuntimeError(f"{name}: the result has shape {result.shape}, which cannot be written into a "
                               f"tensor of shape {x.shape}")
        _writable(x, name).array[...] = result
        return x

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``x`` updated in place to ``{name[:-1]}(x, other)``, in ``x``'s shape and dtype."
    return method


add_ = _arithmetic_("add_", operator.add)
sub_ = _arithmetic_("sub_", operator.sub)
mul_ = _arithmetic_("mul_", operator.mul)
div_ = _arithmetic_("div_", operator.truediv)


def augmented(in_place, out_of_place):
    """``x op= other``: in place, as PyTorch, when nothing is being recorded; otherwise ``x op other``.

    minigan records no in-place operation, so where PyTorch would write into a
    tensor of the graph (``loss += penalty``), this computes a new tensor and
    rebinds the name: the same values and gradients, unless the old tensor is
    also held under another name.
    """
    def operator_(x: Tensor, other):
        recording = is_grad_enabled() and (x.requires_grad or getattr(other, "requires_grad", False))
        return out_of_place(x, other) if recording else in_place(x, other)

    return operator_
