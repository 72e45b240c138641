r"""Reductions over ``axis`` (``None`` for all axes), keeping reduced axes as size 1 when ``keepdims``.

The gradient of a reduction is spread back over the reduced axes: first
:math:`\bar y` is given its size-1 axes back (``keepdims``), then broadcast
to :math:`\mathrm{shape}(x)`. Both NumPy's ``axis``/``keepdims`` and
PyTorch's ``dim``/``keepdim`` spellings are accepted.
"""

from __future__ import annotations

import builtins
import numbers
from typing import NamedTuple

from minigan.autograd import Tensor, primitive
from minigan.kernels import array_module
from minigan.ops.binary import maximum, minimum
from minigan.ops.elementwise import exp, sqrt
from minigan.ops.shape import broadcast_to, reshape

__all__ = ["sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin", "all", "any", "MinMax",
           "logsumexp", "norm"]


def _axes(x: Tensor, axis, dim, name: str) -> tuple[int, ...]:
    """Reduced axes as a sorted tuple of non-negative ints (all of them for None)."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{name}: give axis or dim, not both")
        axis = dim
    if axis is None:
        return tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    rank = builtins.max(x.ndim, 1)  # a scalar takes axis 0 or -1, as in torch
    for a in axes:
        if not -rank <= a < rank:
            raise IndexError(f"{name}: axis {a} is out of range for a tensor of shape {x.shape}")
    normal = tuple(sorted({int(a) % rank for a in axes}))
    if len(normal) != len(axes):
        raise ValueError(f"{name}: axis {axis} names a dimension twice (tensor of shape {x.shape})")
    return normal if x.ndim else ()


def _keep(keepdims, keepdim) -> bool:
    return bool(keepdim if keepdim is not None else keepdims)


def _kept_shape(shape, axes) -> tuple[int, ...]:
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def spread(g: Tensor, x: Tensor, axes: tuple[int, ...]) -> Tensor:
    """A reduction's upstream gradient broadcast back over the reduced axes of ``x``."""
    return broadcast_to(reshape(g, _kept_shape(x.shape, axes)), shape=x.shape)


@primitive(name="sum")
def _sum(x, *, axes, keepdims):
    r""":math:`y = \sum_{i \in \mathrm{axes}} x_i`; :math:`\bar x = \bar y` broadcast over the summed axes."""
    return x.sum(axis=axes, keepdims=keepdims)


@_sum.vjp
def _(g, y, x, *, axes, keepdims):
    return spread(g, x, axes)


def sum(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:  # noqa: A001
    """Sum over ``axis``."""
    return _sum(x, axes=_axes(x, axis, dim, "sum"), keepdims=_keep(keepdims, keepdim))


def _count(x: Tensor, axes) -> int:
    n = 1
    for a in axes:
        n *= x.shape[a]
    return n


def mean(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    r""":math:`\frac1n \sum_i x_i` over ``axis`` (a composite: sum, then scale)."""
    axes = _axes(x, axis, dim, "mean")
    n = _count(x, axes)
    return sum(x, axes, _keep(keepdims, keepdim)) / (n if n else float("nan"))  # divide, as NumPy; empty: NaN


def var(x: Tensor, axis=None, keepdims: bool = False, unbiased: bool = True, *, dim=None,
        keepdim=None, correction: int | None = None) -> Tensor:
    r"""Variance :math:`\frac{1}{n - c} \sum_i (x_i - \bar x)^2` with :math:`c = 1` when ``unbiased`` (torch's default).

    A composite of mean, sub, mul and sum, so its gradient
    :math:`\bar x_i = \bar y \cdot 2 (x_i - \bar x) / (n - c)` follows from theirs.
    """
    return _variance(x, _axes(x, axis, dim, "var"), _keep(keepdims, keepdim), _correction(unbiased, correction))


def std(x: Tensor, axis=None, keepdims: bool = False, unbiased: bool = True, *, dim=None, keepdim=None,
        correction: int | None = None) -> Tensor:
    r"""Standard deviation, :math:`\sqrt{\operatorname{var}(x)}`."""
    axes = _axes(x, axis, dim, "std")
    return sqrt(_variance(x, axes, _keep(keepdims, keepdim), _correction(unbiased, correction)))


def _correction(unbiased: bool, correction: int | None) -> int:
    return (1 if unbiased else 0) if correction is None else correction


def _variance(x: Tensor, axes: tuple[int, ...], keepdims: bool, correction: int) -> Tensor:
    centred = x - mean(x, axes, keepdims=True)
    dof = _count(x, axes) - correction
    return sum(centred * centred, axes, keepdims) * (1.0 / dof if dof > 0 else float("nan"))


def _extremum_vjp(g, y, x, axes, keepdims):
    """Gradient of max/min: split equally among the entries that attain it (as ``torch.amax``)."""
    attained = x.array == (y.array if keepdims else y.array.reshape(_kept_shape(x.shape, axes)))
    share = attained / attained.sum(axis=axes, keepdims=True)
    return spread(g, x, axes) * Tensor(share.astype(x.dtype))


@primitive(name="max")
def _max(x, *, axes, keepdims):
    r""":math:`y = \max_i x_i` over ``axes``.

    VJP: :math:`\bar x_i = \bar y\,[x_i = y] / \#\{j : x_j = y\}`: ties share
    the gradient equally (as ``torch.amax``); not differentiable at a tie.
    """
    if x.size == 0:
        raise ValueError(f"max of an empty tensor of shape {x.shape}")
    return x.max(axis=axes, keepdims=keepdims)


@_max.vjp
def _(g, y, x, *, axes, keepdims):
    return _extremum_vjp(g, y, x, axes, keepdims)


@primitive(name="min")
def _min(x, *, axes, keepdims):
    r""":math:`y = \min_i x_i` over ``axes``; ties share the gradient equally, as for max."""
    if x.size == 0:
        raise ValueError(f"min of an empty tensor of shape {x.shape}")
    return x.min(axis=axes, keepdims=keepdims)


@_min.vjp
def _(g, y, x, *, axes, keepdims):
    return _extremum_vjp(g, y, x, axes, keepdims)


def amax(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """Largest value over ``axis`` (values only, as ``torch.amax``)."""
    return _max(x, axes=_axes(x, axis, dim, "amax"), keepdims=_keep(keepdims, keepdim))


def amin(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """Smallest value over ``axis`` (values only, as ``torch.amin``)."""
    return _min(x, axes=_axes(x, axis, dim, "amin"), keepdims=_keep(keepdims, keepdim))


def _outside_graph(name: str, dtype: str, what: str):
    """A reduction whose result is not differentiable (indices, truth values): computed on the array, no graph."""
    def reduction(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
        found = getattr(x.xp, name)(x.array, axis=dim, keepdims=keepdim and dim is not None)
        return Tensor(x.xp.asarray(found, dtype=dtype))

    reduction.__name__ = reduction.__qualname__ = name
    reduction.__doc__ = f"As ``torch.{name}``: {what} along ``dim`` (over the whole tensor when None), no graph."
    return reduction


argmax = _outside_graph("argmax", "int64", "int64 indices (into the flattened tensor)")
argmin = _outside_graph("argmin", "int64", "int64 indices (into the flattened tensor)")
all = _outside_graph("all", "bool", "whether every element is non-zero")  # noqa: A001 - PyTorch's name
any = _outside_graph("any", "bool", "whether some element is non-zero")  # noqa: A001 - PyTorch's name


class MinMax(NamedTuple):
    """What ``max(x, dim)`` and ``min(x, dim)`` return, as PyTorch's ``return_types``: values and their places."""
    values: Tensor
    indices: Tensor


def _extremum(values, pairwise, arg):
    def extremum(x: Tensor, dim=None, keepdim: bool = False):
        if dim is None:
            return values(x)
        if isinstance(dim, Tensor):
            return pairwise(x, dim)
        return MinMax(values(x, dim=dim, keepdim=keepdim), arg(x, dim, keepdim))

    return extremum


max = _extremum(amax, maximum, argmax)  # noqa: A001
max.__doc__ = """As ``torch.max``: ``max(x)`` the largest value, ``max(x, dim, keepdim=False)`` a :class:`MinMax`
of the values (differentiable) and their indices, ``max(x, y)`` the elementwise maximum."""
min = _extremum(amin, minimum, argmin)  # noqa: A001
min.__doc__ = """As ``torch.min``: ``min(x)``, ``min(x, dim, keepdim=False)`` (a :class:`MinMax`), ``min(x, y)``."""


def _finite_max(x, axes):
    """The max over ``axes`` (kept as size 1), 0 where it is infinite, so subtracting it never makes NaN."""
    xp = array_module(x)
    m = x.max(axis=axes, keepdims=True)
    return xp.where(xp.isfinite(m), m, 0)


@primitive(name="logsumexp")
def _logsumexp(x, *, axes, keepdims):
    r""":math:`y = \log \sum_i e^{x_i}`, computed as :math:`c + \log\sum_i e^{x_i - c}` with :math:`c = \max_i x_i`.

    VJP: :math:`\bar x_i = \bar y\, e^{x_i - y}`, the softmax of ``x``, taken as
    :math:`e^{x_i - c} / \sum_j e^{x_j - c}`: :math:`x_i - y` would lose every digit that
    rounding a large :math:`y` loses, and the shift :math:`c` cancels, so it is a constant.
    """
    xp = array_module(x)
    m = _finite_max(x, axes)
    out = xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m
    return out if keepdims else out.reshape([s for i, s in enumerate(x.shape) if i not in axes])


@_logsumexp.vjp
def _(g, y, x, *, axes, keepdims):
    e = exp(x - Tensor(_finite_max(x.array, axes)))
    return spread(g, x, axes) * e / _sum(e, axes=axes, keepdims=True)


def logsumexp(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """Stable :math:`\\log\\sum\\exp` over ``axis``."""
    return _logsumexp(x, axes=_axes(x, axis, dim, "logsumexp"), keepdims=_keep(keepdims, keepdim))


@primitive(name="norm")
def _l2_norm(x, *, axes, keepdims):
    r"""Euclidean norm :math:`y = \sqrt{\sum_i x_i^2}` over ``axes``.

    VJP: :math:`\bar x_i = \bar y\, x_i / y`, taken as 0 where :math:`y = 0`
    (the subgradient PyTorch uses; the norm is not differentiable there).
    """
    xp = array_module(x)
    return xp.sqrt((x * x).sum(axis=axes, keepdims=keepdims))


@_l2_norm.vjp
def _(g, y, x, *, axes, keepdims):
    y_kept = y if keepdims else reshape(y, _kept_shape(x.shape, axes))
    safe = y_kept + Tensor((y_kept.array == 0).astype(y.dtype))  # 1 where y = 0, where x = 0 too
    return spread(g, x, axes) * x / safe


def norm(x: Tensor, p=2, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    r"""Vector :math:`p`-norm over ``axis`` (all entries by default), :math:`(\sum_i |x_i|^p)^{1/p}`.

    ``p=2`` (or ``"fro"``) is a primitive with a safe gradient at zero;
    other :math:`p \ge 1` are composites of abs, pow and sum.
    """
    axes = _axes(x, axis, dim, "norm")
    keep = _keep(keepdims, keepdim)
    if p in (2, "fro"):
        return _l2_norm(x, axes=axes, keepdims=keep)
    if p == float("inf"):
        return amax(x.abs(), axes, keep)
    if not isinstance(p, (int, float)) or p < 1:
        raise ValueError(f"norm: p must be a number >= 1, 'fro' or inf, got {p!r}")
    return sum(x.abs() ** p, axes, keep) ** (1.0 / p)
