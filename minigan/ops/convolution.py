r"""Convolution, its transpose and its weight gradient: three primitives whose VJPs are each other.

With :math:`X = \mathrm{im2col}(x)` of shape ``(C*kh*kw, N*L)``, :math:`W`
the weight as ``(O, C*kh*kw)`` and a batch :math:`y` as ``(O, N*L)``
(:mod:`minigan.kernels.reference.convolution`):

.. math:: \mathrm{conv2d}(x, W) = W X, \qquad
          \mathrm{conv\_transpose2d}(y, W) = \mathrm{col2im}(W^\top y), \qquad
          \mathrm{conv2d\_weight}(x, y) = y X^\top

Each is linear in each argument, and the other two are its adjoints, so

.. math:: \mathrm{conv2d}:\ \bar x = \mathrm{conv\_transpose2d}(\bar y, W),\ \bar W = \mathrm{conv2d\_weight}(x, \bar y)

.. math:: \mathrm{conv\_transpose2d}:\ \bar y = \mathrm{conv2d}(\bar x, W),\ \bar W = \mathrm{conv2d\_weight}(\bar x, y)

.. math:: \mathrm{conv2d\_weight}:\ \bar x = \mathrm{conv\_transpose2d}(y, \bar W),\ \bar y = \mathrm{conv2d}(x, \bar W)

with the geometry (kernel, dilation, padding, stride) of the forward
convolution throughout, and the VJPs, being primitives, are differentiable
again (gradient penalties through convolutions). Nothing keeps a column
matrix: ``conv2d`` keeps its input, and computes :math:`\bar W` only when the
weight needs it (in the generator's step the discriminator is frozen). A
bias :math:`b` joins ``conv2d`` and ``conv_transpose2d`` as
:math:`y_{n,o} \mathrel{+}= b_o`, added in place, with :math:`\bar b_o = \sum_{n,i,j} \bar y_{n,o,i,j}`.
"""

from __future__ import annotations

from minigan import kernels
from minigan.autograd import Tensor, primitive
from minigan.ops.reduce import sum as sum_

__all__ = ["conv2d", "conv_transpose2d", "conv2d_weight"]


@primitive(name="conv2d")
def _conv2d(x, weight, *bias, dilation, padding, stride, output_size):
    r""":math:`W X` (+ ``bias``), ``(N, O, H_out, W_out)``; VJP in the module docstring."""
    return _biased(kernels.conv2d(x, weight, dilation, padding, stride, output_size), bias)


@_conv2d.vjp
def _(g, y, x, weight, *bias, dilation, padding, stride, output_size):
    geometry = dict(dilation=dilation, padding=padding, stride=stride)
    gx = _conv_transpose2d(g, weight, **geometry, output_size=x.shape[2:]) if x.requires_grad else None
    gw = _conv2d_weight(x, g, kernel_size=weight.shape[2:], **geometry) if weight.requires_grad else None
    return gx, gw, *_bias_grad(g, bias)


@primitive(name="conv_transpose2d")
def _conv_transpose2d(x, weight, *bias, dilation, padding, stride, output_size):
    r""":math:`\mathrm{col2im}(W^\top x)` (+ ``bias``), ``(N, C_out, *output_size)``; VJP in the module
    docstring."""
    return _biased(kernels.conv_transpose2d(x, weight, dilation, padding, stride, output_size), bias)


@_conv_transpose2d.vjp
def _(g, y, x, weight, *bias, dilation, padding, stride, output_size):
    geometry = dict(dilation=dilation, padding=padding, stride=stride)
    gx = _conv2d(g, weight, **geometry, output_size=x.shape[2:]) if x.requires_grad else None
    gw = _conv2d_weight(g, x, kernel_size=weight.shape[2:], **geometry) if weight.requires_grad else None
    return gx, gw, *_bias_grad(g, bias)


@primitive(name="conv2d_weight")
def _conv2d_weight(x, y, *, kernel_size, dilation, padding, stride):
    r""":math:`y X^\top`, ``(O, C, kh, kw)``: conv2d's weight gradient; VJP in the module docstring."""
    return kernels.conv2d_weight(x, y, kernel_size, dilation, padding, stride)


@_conv2d_weight.vjp
def _(g, w, x, y, *, kernel_size, dilation, padding, stride):
    geometry = dict(dilation=dilation, padding=padding, stride=stride)
    gx = _conv_transpose2d(y, g, **geometry, output_size=x.shape[2:]) if x.requires_grad else None
    gy = _conv2d(x, g, **geometry, output_size=y.shape[2:]) if y.requires_grad else None
    return gx, gy


def _biased(out, bias: tuple):
    """``out`` (a fresh array) plus the bias per channel, in place; ``bias`` is ``()`` or ``(b,)``."""
    if bias:
        out += bias[0].reshape(1, -1, 1, 1)
    return out


def _bias_grad(g: Tensor, bias: tuple) -> tuple:
    return tuple(sum_(g, (0, 2, 3)) if b.requires_grad else None for b in bias)


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None, stride: tuple[int, int], padding: tuple[int, int],
           dilation: tuple[int, int], output_size: tuple[int, int]) -> Tensor:
    """Cross-correlation of a checked ``(N, C, H, W)`` batch with ``(O, C, kh, kw)`` weights, plus ``bias``."""
    return _conv2d(x, weight, *([] if bias is None else [bias]), dilation=dilation, padding=padding, stride=stride,
                   output_size=output_size)


def conv_transpose2d(x: Tensor, weight: Tensor, bias: Tensor | None, stride: tuple[int, int],
                     padding: tuple[int, int], dilation: tuple[int, int], output_size: tuple[int, int]) -> Tensor:
    """The adjoint of :func:`conv2d` for ``(C_in, C_out, kh, kw)`` weights, onto ``output_size``, plus ``bias``."""
    return _conv_transpose2d(x, weight, *([] if bias is None else [bias]), dilation=dilation, padding=padding,
                             stride=stride, output_size=output_size)


def conv2d_weight(x: Tensor, y: Tensor, kernel_size: tuple[int, int], stride: tuple[int, int],
                  padding: tuple[int, int], dilation: tuple[int, int]) -> Tensor:
    """The ``(O, C, kh, kw)`` weight gradient of a convolution of ``x`` whose output's cotangent is ``y``."""
    return _conv2d_weight(x, y, kernel_size=kernel_size, dilation=dilation, padding=padding, stride=stride)
