r"""Binary primitives with NumPy broadcasting.

If :math:`z = f(a, b)` broadcasts ``a`` and ``b`` to a common shape, each
input's gradient is the elementwise partial derivative times :math:`\bar z`,
summed back over the axes that broadcasting stretched:

.. math:: \bar a = \operatorname{sum\_to}(\bar z \odot \partial f/\partial a,\ \mathrm{shape}(a))

``sum_to`` (in :mod:`minigan.ops.shape`) is that reduction, a primitive whose
VJP is ``broadcast_to``.
"""

from __future__ import annotations

import math

import numpy as np

from minigan.autograd import Tensor, primitive, tensor
from minigan.kernels import array_module
from minigan.ops.elementwise import log
from minigan.ops.shape import unbroadcast

__all__ = ["add", "sub", "mul", "div", "pow", "rpow", "power", "maximum", "minimum", "where"]


def _check_broadcast(name: str, *arrays) -> None:
    shapes = [x.shape for x in arrays]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        listed = ", ".join(map(str, shapes[:-1])) + f" and {shapes[-1]}"
        raise ValueError(f"{name}: shapes {listed} do not broadcast") from None


def _with_number(x, number):
    """``x`` and a Python ``number`` in one dtype: x's if floating, float32 for an integer x and a float (as torch)."""
    if x.dtype.kind not in "fc" and isinstance(number, float):
        x = x.astype(np.float32)
    return x, x.dtype.type(number)


@primitive
def add(a, b):
    r""":math:`z = a + b`; :math:`\bar a = \bar z,\ \bar b = \bar z` (summed to each shape)."""
    if a.shape != b.shape:
        _check_broadcast("add", a, b)
    return a + b


@add.vjp
def _(g, z, a, b):
    return unbroadcast(g, a.shape), unbroadcast(g, b.shape)


@primitive
def sub(a, b):
    r""":math:`z = a - b`; :math:`\bar a = \bar z,\ \bar b = -\bar z`."""
    if a.shape != b.shape:
        _check_broadcast("sub", a, b)
    return a - b


@sub.vjp
def _(g, z, a, b):
    return unbroadcast(g, a.shape), unbroadcast(-g, b.shape)


@primitive
def mul(a, b):
    r""":math:`z = a \odot b`; :math:`\bar a = \bar z \odot b,\ \bar b = \bar z \odot a`."""
    if a.shape != b.shape:
        _check_broadcast("mul", a, b)
    return a * b


@mul.vjp
def _(g, z, a, b):
    ga = unbroadcast(g * b, a.shape) if a.requires_grad else None
    gb = unbroadcast(g * a, b.shape) if b.requires_grad else None
    return ga, gb


@primitive
def div(a, b):
    r""":math:`z = a / b`; :math:`\bar a = \bar z / b,\ \bar b = -\bar z \odot a / b^2`."""
    if a.shape != b.shape:
        _check_broadcast("div", a, b)
    return a / b


@div.vjp
def _(g, z, a, b):
    ga = unbroadcast(g / b, a.shape) if a.requires_grad else None
    gb = unbroadcast(-g * a / (b * b), b.shape) if b.requires_grad else None
    return ga, gb


@primitive
def pow(x, *, exponent):  # noqa: A001 - torch's name
    r"""Tensor to a fixed number, :math:`y = x^p`; :math:`\bar x = \bar y \odot p\, x^{p-1}`."""
    x, p = _with_number(x, exponent)
    return x**p


@pow.vjp
def _(g, y, x, *, exponent):
    if exponent == 0:
        return g * 0
    return g * (exponent * pow(x, exponent=exponent - 1))


@primitive
def rpow(x, *, base):
    r"""A fixed number to a tensor, :math:`y = c^x`; :math:`\bar x = \bar y \odot y \log c`."""
    x, c = _with_number(x, base)
    return array_module(x).power(c, x)


@rpow.vjp
def _(g, y, x, *, base):
    # log c is -inf at c = 0, where y = 0^x is flat (for x > 0): 0 there, as torch; NaN below 0
    log_base = math.log(base) if base > 0 else 0.0 if base == 0 else math.nan
    return g * y * log_base


def _log_or_zero(a: Tensor) -> Tensor:
    r""":math:`\log a`, and 0 where :math:`a = 0` (log 1 there), so :math:`z \log a` is 0 there, not NaN."""
    return log(where(a.array == 0, 1.0, a))


@primitive
def power(a, b):
    r"""Tensor to a tensor, :math:`z = a^b` for :math:`a > 0`.

    VJP: :math:`\bar a = \bar z \odot b\, a^{b-1},\ \bar b = \bar z \odot z \log a`, where
    :math:`z \log a` is taken as 0 at :math:`a = 0` (its limit for :math:`b > 0`, as torch).
    """
    if a.shape != b.shape:
        _check_broadcast("power", a, b)
    return a**b


@power.vjp
def _(g, z, a, b):
    ga = unbroadcast(g * b * power(a, b - 1), a.shape) if a.requires_grad else None
    gb = unbroadcast(g * z * _log_or_zero(a), b.shape) if b.requires_grad else None
    return ga, gb


def _tie_split(winner, tie, dtype) -> Tensor:
    """The share of the gradient an input receives: 1 where it wins, 1/2 on ties (as torch)."""
    return Tensor(winner.astype(dtype) + 0.5 * tie.astype(dtype))


@primitive
def maximum(a, b):
    r""":math:`z = \max(a, b)` elementwise.

    VJP: :math:`\bar a = \bar z \odot [a > b]`, :math:`\bar b = \bar z \odot [b > a]`,
    and each receives half of :math:`\bar z` where :math:`a = b` (not differentiable there).
    """
    if a.shape != b.shape:
        _check_broadcast("maximum", a, b)
    return array_module(a).maximum(a, b)


@maximum.vjp
def _(g, z, a, b):
    tie = a.array == b.array
    return (unbroadcast(g * _tie_split(a.array > b.array, tie, g.dtype), a.shape),
            unbroadcast(g * _tie_split(b.array > a.array, tie, g.dtype), b.shape))


@primitive
def minimum(a, b):
    r""":math:`z = \min(a, b)` elementwise; the gradient goes to the smaller input, halved on ties."""
    if a.shape != b.shape:
        _check_broadcast("minimum", a, b)
    return array_module(a).minimum(a, b)


@minimum.vjp
def _(g, z, a, b):
    tie = a.array == b.array
    return (unbroadcast(g * _tie_split(a.array < b.array, tie, g.dtype), a.shape),
            unbroadcast(g * _tie_split(b.array < a.array, tie, g.dtype), b.shape))


@primitive(name="where")
def _where(a, b, *, condition):
    r""":math:`z = a` where ``condition`` else :math:`b`.

    VJP: :math:`\bar a = [c]\,\bar z`, :math:`\bar b = [\lnot c]\,\bar z`. The boolean
    condition is a static argument: it gets no gradient, nor lends its dtype to a number.
    """
    _check_broadcast("where", condition, a, b)
    return array_module(a).where(condition, a, b)


@_where.vjp
def _(g, z, a, b, *, condition):
    zero = Tensor(g.xp.zeros((), dtype=g.dtype))
    return (unbroadcast(where(condition, g, zero), a.shape) if a.requires_grad else None,
            unbroadcast(where(condition, zero, g), b.shape) if b.requires_grad else None)


def where(condition, a, b) -> Tensor:
    """``a`` where ``condition`` holds, else ``b`` (as ``torch.where``); either may be a number."""
    condition = condition.array if isinstance(condition, Tensor) else array_module(condition).asarray(condition)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):  # two numbers: float32 (or int64), as torch
        a = tensor(a)
    return _where(a, b, condition=condition)
