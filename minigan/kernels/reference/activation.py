r"""Rectifiers and their gradients, the elementwise work of every GAN layer.

With slope :math:`a` (0 for ReLU, 0.2 in a DCGAN discriminator):

.. math:: y = \begin{cases} x & x > 0 \\ a x & \text{otherwise} \end{cases}, \qquad
          \bar x = \begin{cases} \bar y & x > 0 \\ a \bar y & \text{otherwise} \end{cases}

and the smooth rectifier :math:`\operatorname{softplus}(x) = \log(1 + e^x)`, the one
definition behind the ``softplus`` and ``log_sigmoid`` primitives and every logit loss.
"""

from __future__ import annotations

from minigan.kernels.arrays import array_module

__all__ = ["relu", "leaky_relu", "leaky_relu_backward", "softplus"]


def relu(x):
    r""":math:`y = \max(x, 0)`: leaky ReLU with :math:`a = 0`, except that a negative input gives :math:`+0`."""
    return array_module(x).maximum(x, 0)


def leaky_relu(x, negative_slope: float):
    """:math:`y = x` where :math:`x > 0`, else :math:`a x`."""
    return array_module(x).where(x > 0, x, x * x.dtype.type(negative_slope))


def leaky_relu_backward(g, x, negative_slope: float):
    r""":math:`\bar x = \bar y` where :math:`x > 0`, else :math:`a \bar y` (``g`` is :math:`\bar y`)."""
    return array_module(g).where(x > 0, g, g * g.dtype.type(negative_slope))


def softplus(x):
    r"""Softplus, :math:`y = \log(1 + e^x)`, finite for any ``x``; its derivative is :math:`\sigma(x)`.

    Evaluated as

    .. math:: y = \max(x, 0) + \log(1 + e^{-|x|}),

    where the exponent is never positive: the naive form overflows once :math:`e^x` does
    (:math:`x > 88` in float32, :math:`x > 709` in float64). Related forms follow from it:
    :math:`\log\sigma(x) = -\operatorname{softplus}(-x)` and
    :math:`\log(1 - \sigma(x)) = -\operatorname{softplus}(x)`.
    It has no numba twin: the three ufuncs are memory-bound passes already (NumPy's
    ``logaddexp`` computes the same value but is about 15 times slower in float32).
    """
    xp = array_module(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
