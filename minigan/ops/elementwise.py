r"""Elementwise primitives: :math:`y_i = f(x_i)`, so :math:`\bar x_i = \bar y_i f'(x_i)`.

Every VJP below is that one line, written with minigan ops (so it can be
differentiated again) and, where the derivative is cheaper in terms of the
output, in terms of ``y``. Derivatives that are piecewise constant (relu,
leaky_relu, abs, clamp) multiply by a constant mask: their second derivative
is zero away from the kink, and the kink itself is not differentiable.
"""

from __future__ import annotations

from minigan import kernels
from minigan.autograd import Tensor, primitive
from minigan.autograd.tensor import to_device as _move
from minigan.kernels import array_module

__all__ = [
    "neg", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "leaky_relu",
    "softplus", "log_sigmoid", "clamp", "cast", "to_device", "sign", "square",
]


def _const(array) -> Tensor:
    """A tensor the graph treats as a constant (a mask or a sign)."""
    return Tensor(array)


@primitive
def neg(x):
    r""":math:`y = -x`; :math:`\bar x = -\bar y`."""
    return -x


@neg.vjp
def _(g, y, x):
    return neg(g)


@primitive
def exp(x):
    r""":math:`y = e^x`; :math:`\bar x = \bar y \odot y`."""
    return array_module(x).exp(x)


@exp.vjp
def _(g, y, x):
    return g * y


@primitive
def log(x):
    r"""Natural logarithm, :math:`y = \log x` for :math:`x > 0`; :math:`\bar x = \bar y / x`."""
    return array_module(x).log(x)


@log.vjp
def _(g, y, x):
    return g / x


@primitive
def sqrt(x):
    r""":math:`y = \sqrt x` for :math:`x > 0`; :math:`\bar x = \bar y / (2y)`."""
    return array_module(x).sqrt(x)


@sqrt.vjp
def _(g, y, x):
    return g / (2 * y)


def square(x):
    r""":math:`y = x^2` (a composite: ``x * x``)."""
    return x * x


@primitive
def abs(x):  # noqa: A001 - the name users expect
    r""":math:`y = |x|`; :math:`\bar x = \bar y \odot \operatorname{sign}(x)` (not differentiable at 0)."""
    return array_module(x).abs(x)


@abs.vjp
def _(g, y, x):
    return g * _const(array_module(x.array).sign(x.array))


def sign(x: Tensor) -> Tensor:
    """:math:`\\operatorname{sign}(x)`, a constant of the graph (its derivative is zero a.e.)."""
    return _const(x.xp.sign(x.array))


@primitive
def tanh(x):
    r""":math:`y = \tanh x`; :math:`\bar x = \bar y \odot (1 - y^2)`."""
    return array_module(x).tanh(x)


@tanh.vjp
def _(g, y, x):
    return g * (1 - y * y)


@primitive
def sigmoid(x):
    r"""Logistic sigmoid, :math:`y = \sigma(x) = 1 / (1 + e^{-x})`.

    VJP: :math:`\bar x = \bar y \odot y \odot (1 - y)`.

    Computed from :math:`e = e^{-|x|} \le 1`, which never overflows, as
    :math:`1/(1+e)` for :math:`x \ge 0` and :math:`e/(1+e)` for :math:`x < 0`.
    Neither form subtracts, so :math:`\sigma(x)` keeps full relative precision
    while it is a normal float (:math:`x \gtrsim -708` in float64, :math:`-87` in
    float32) and is 0 only where it underflows altogether
    (:math:`x < -745`, :math:`-104`). The textbook :math:`1/(1 + e^{-x})` is as
    accurate until :math:`e^{-x}` overflows (:math:`x < -709.8`, :math:`-88.7`),
    then returns 0 with an overflow warning. Forms that subtract lose
    everything much sooner: :math:`\sigma(x) = 1 - \sigma(-x) = 1 - 1/(1 + e^{x})`
    cancels to 0 below :math:`x \approx -37` (:math:`-17` in float32), as
    :math:`\tfrac12\tanh(x/2) + \tfrac12` does below :math:`-38` (:math:`-20`).
    """
    xp = array_module(x)
    e = xp.exp(-xp.abs(x))
    r = 1 / (1 + e)
    return xp.where(x >= 0, r, e * r)


@sigmoid.vjp
def _(g, y, x):
    return g * y * (1 - y)


@primitive
def relu(x):
    r""":math:`y = \max(x, 0)`; :math:`\bar x = \bar y \odot [x > 0]` (not differentiable at 0)."""
    return kernels.relu(x)


@relu.vjp
def _(g, y, x):
    return _rectifier_grad(g, x, negative_slope=0.0)


@primitive
def leaky_relu(x, *, negative_slope=0.01):
    r""":math:`y = x` for :math:`x > 0`, else :math:`a x`, with slope :math:`a` = ``negative_slope``.

    VJP: :math:`\bar x = \bar y \odot (a + (1 - a)[x > 0])` (not differentiable at 0).
    """
    return kernels.leaky_relu(x, negative_slope)


@leaky_relu.vjp
def _(g, y, x, *, negative_slope=0.01):
    return _rectifier_grad(g, x, negative_slope=negative_slope)


@primitive
def _rectifier_grad(g, x, *, negative_slope):
    r"""The VJP of (leaky) ReLU, :math:`\bar y \odot (a + (1 - a)[x > 0])`, in one pass.

    Linear in :math:`\bar y`, so its own VJP is itself for ``g``; its
    derivative in ``x`` is zero away from the kink, so ``x`` gets none.
    """
    return kernels.leaky_relu_backward(g, x, negative_slope)


@_rectifier_grad.vjp
def _(gg, y, g, x, *, negative_slope):
    return _rectifier_grad(gg, x, negative_slope=negative_slope), None


@primitive
def softplus(x, *, beta=1.0):
    r"""Smooth ReLU, :math:`y = \tfrac1\beta \log(1 + e^{\beta x})`.

    VJP: :math:`\bar x = \bar y \odot \sigma(\beta x)`.

    Evaluated by :func:`minigan.kernels.softplus` at :math:`\beta x`, as
    :math:`\tfrac1\beta(\max(\beta x, 0) + \log(1 + e^{-|\beta x|}))`,
    finite for any ``x`` (the naive form overflows at :math:`\beta x > 88` in float32).
    """
    beta = x.dtype.type(beta)
    return kernels.softplus(x * beta) / beta


@softplus.vjp
def _(g, y, x, *, beta=1.0):
    return g * sigmoid(x * beta)


@primitive
def log_sigmoid(x):
    r""":math:`y = \log \sigma(x) = -\operatorname{softplus}(-x)`, finite for any ``x``.

    VJP: :math:`\bar x = \bar y \odot (1 - \sigma(x)) = \bar y \odot \sigma(-x)`.
    """
    return -kernels.softplus(-x)


@log_sigmoid.vjp
def _(g, y, x):
    return g * sigmoid(-x)


@primitive
def clamp(x, *, min=None, max=None):  # noqa: A002 - torch's names
    r""":math:`y = \min(\max(x, \mathrm{min}), \mathrm{max})`.

    VJP: :math:`\bar x = \bar y \odot [\mathrm{min} \le x \le \mathrm{max}]`, passing the
    gradient at the boundaries as PyTorch does (not differentiable there).
    """
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return array_module(x).clip(x, min, max).astype(x.dtype, copy=False)


@clamp.vjp
def _(g, y, x, *, min=None, max=None):  # noqa: A002
    inside = x.xp.ones(x.shape, dtype=bool)
    if min is not None:
        inside &= x.array >= min
    if max is not None:
        inside &= x.array <= max
    return g * _const(inside.astype(g.dtype))


@primitive
def cast(x, *, dtype):
    r"""Change of floating-point precision; :math:`\bar x = \operatorname{cast}(\bar y)` back to ``x.dtype``."""
    return x.astype(dtype)


@cast.vjp
def _(g, y, x, *, dtype):
    return cast(g, dtype=x.dtype) if x.dtype.kind in "fc" else None


@primitive
def to_device(x, *, device):
    r"""The same values on another device; the gradient travels back: :math:`\bar x = \bar y`."""
    return _move(x, device)


@to_device.vjp
def _(g, y, x, *, device):
    return to_device(g, device=x.device)
