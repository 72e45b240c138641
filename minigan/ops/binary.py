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

from minigan.autograd import Tensor, primitive
from minigan.kernels import array_module
from minigan.ops.elementwise import log
from minigan.ops.shape import unbroadcast

__all__ = ["add", "sub", "mul", "div", "pow", "rpow", "power", "maximum", "minimum", "where"]


def _check_broadcast(name: str, a, b) -> None:
    try:
        array_module(a).broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{name}: shapes {a.shape} and {b.shape} do not broadcast") from None


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
    return x ** x.dtype.type(exponent) if x.dtype.kind == "f" else x**exponent


@pow.vjp
def _(g, y, x, *, exponent):
    if exponent == 0:
        return g * 0
    return g * (exponent * pow(x, exponent=exponent - 1))


@primitive
def rpow(x, *, base):
    r"""A fixed number to a tensor, :math:`y = c^x`; :math:`\bar x = \bar y \odot y \log c`."""
    return array_module(x).power(x.dtype.type(base), x)


@rpow.vjp
def _(g, y, x, *, base):
    return g * y * math.log(base)


@primitive
def power(a, b):
    r"""Tensor to a tensor, :math:`z = a^b` for :math:`a > 0`.

    VJP: :math:`\bar a = \bar z \odot b\, a^{b-1},\ \bar b = \bar z \odot z \log a`.
    """
    if a.shape != b.shape:
        _check_broadcast("pow", a, b)
    return a**b


@power.vjp
def _(g, z, a, b):
    ga = unbroadcast(g * b * power(a, b - 1), a.shape) if a.requires_grad else None
    gb = unbroadcast(g * z * log(a), b.shape) if b.requires_grad else None
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
    tie = a.data == b.data
    return (unbroadcast(g * _tie_split(a.data > b.data, tie, g.dtype), a.shape),
            unbroadcast(g * _tie_split(b.data > a.data, tie, g.dtype), b.shape))


@primitive
def minimum(a, b):
    r""":math:`z = \min(a, b)` elementwise; the gradient goes to the smaller input, halved on ties."""
    if a.shape != b.shape:
        _check_broadcast("minimum", a, b)
    return array_module(a).minimum(a, b)


@minimum.vjp
def _(g, z, a, b):
    tie = a.data == b.data
    return (unbroadcast(g * _tie_split(a.data < b.data, tie, g.dtype), a.shape),
            unbroadcast(g * _tie_split(b.data < a.data, tie, g.dtype), b.shape))


@primitive
def where(condition, a, b):
    r""":math:`z = a` where ``condition`` else :math:`b`.

    VJP: :math:`\bar a = [c]\,\bar z`, :math:`\bar b = [\lnot c]\,\bar z`; the
    boolean condition gets no gradient.
    """
    return array_module(a).where(condition, a, b)


@where.vjp
def _(g, z, condition, a, b):
    zero = Tensor(g.xp.zeros((), dtype=g.dtype))
    return (None,
            unbroadcast(where(condition, g, zero), a.shape) if a.requires_grad else None,
            unbroadcast(where(condition, zero, g), b.shape) if b.requires_grad else None)
