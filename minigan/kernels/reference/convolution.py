r"""Convolution and its two gradients, each a matrix product over :func:`im2col` columns.

With :math:`X = \mathrm{im2col}(x)` of shape ``(C*kh*kw, N*L)``, the weight
:math:`W` as ``(O, C*kh*kw)`` and the output :math:`y` as ``(O, N*L)``:

.. math:: \mathrm{conv2d}(x, W) = W X, \qquad
          \mathrm{conv\_transpose2d}(y, W) = \mathrm{col2im}(W^\top y), \qquad
          \mathrm{conv2d\_weight}(x, y) = y X^\top

``conv_transpose2d`` is the adjoint of ``conv2d`` in :math:`x` and
``conv2d_weight`` its adjoint in :math:`W`, so the three close under
differentiation: conv2d's VJP is :math:`\bar x = \mathrm{conv\_transpose2d}(\bar y, W)`,
:math:`\bar W = \mathrm{conv2d\_weight}(x, \bar y)`, and so on
(:mod:`minigan.ops.convolution`). ``conv_transpose2d``'s weight is stored
``(C_in, C_out, kh, kw)``, as PyTorch's: the same array as the ``conv2d``
weight ``(O, C, kh, kw)`` whose adjoint it is.
"""

from __future__ import annotations

from minigan.kernels.arrays import array_module
from minigan.kernels.reference.conv import Pair, col2im, im2col

__all__ = ["conv2d", "conv_transpose2d", "conv2d_weight"]


def _rows(y):
    """``(N, O, H, W)`` -> ``(O, N*H*W)``: a batch as the rows of a matrix product (im2col of a 1x1 kernel)."""
    n, o = y.shape[:2]
    return array_module(y).ascontiguousarray(y.reshape(n, o, -1).transpose(1, 0, 2)).reshape(o, -1)


def conv2d(x, weight, dilation: Pair, padding: Pair, stride: Pair, output_size: Pair):
    """``(N, C, H, W)`` by ``(O, C, kh, kw)`` -> ``(N, O, *output_size)``: :math:`W X`."""
    n, out_channels = x.shape[0], weight.shape[0]
    y = weight.reshape(out_channels, -1) @ im2col(x, weight.shape[2:], dilation, padding, stride)  # (O, N*L)
    return array_module(x).ascontiguousarray(y.reshape(out_channels, n, *output_size).transpose(1, 0, 2, 3))


def conv_transpose2d(y, weight, dilation: Pair, padding: Pair, stride: Pair, output_size: Pair):
    r"""``(N, O, h, w)`` by ``(O, C, kh, kw)`` -> ``(N, C, *output_size)``: :math:`\mathrm{col2im}(W^\top y)`."""
    cols = weight.reshape(weight.shape[0], -1).T @ _rows(y)  # (C*kh*kw, N*h*w)
    return col2im(cols, output_size, weight.shape[2:], dilation, padding, stride)


def conv2d_weight(x, y, kernel_size: Pair, dilation: Pair, padding: Pair, stride: Pair):
    r"""``(N, C, H, W)`` and ``(N, O, h, w)`` -> ``(O, C, kh, kw)``: :math:`y X^\top`."""
    w = _rows(y) @ im2col(x, kernel_size, dilation, padding, stride).T  # (O, C*kh*kw)
    return w.reshape(y.shape[1], x.shape[1], *kernel_size)
