r"""Rectifiers and their gradients, the elementwise work of every GAN layer.

With slope :math:`a` (0 for ReLU, 0.2 in a DCGAN discriminator):

.. math:: y = \begin{cases} x & x > 0 \\ a x & \text{otherwise} \end{cases}, \qquad
          \bar x = \begin{cases} \bar y & x > 0 \\ a \bar y & \text{otherwise} \end{cases}
"""

from __future__ import annotations

from minigan.kernels.arrays import array_module

__all__ = ["leaky_relu", "leaky_relu_backward"]


def leaky_relu(x, negative_slope: float):
    """:math:`y = x` where :math:`x > 0`, else :math:`a x`."""
    return array_module(x).where(x > 0, x, x * x.dtype.type(negative_slope))


def leaky_relu_backward(g, x, negative_slope: float):
    r""":math:`\bar x = \bar y` where :math:`x > 0`, else :math:`a \bar y` (``g`` is :math:`\bar y`)."""
    return array_module(g).where(x > 0, g, g * g.dtype.type(negative_slope))
