r"""Convolution and its transpose as primitives, so that backward keeps inputs, not column matrices.

``conv2d``, with :math:`X = \mathrm{im2col}(x)` of shape ``(C*kh*kw, N*L)``,
:math:`W` the weight as ``(O, C*kh*kw)`` and :math:`Y` the output as
``(O, N*L)`` (channels first, :math:`Y = \mathrm{im2col}_{1\times1}(y)`):

.. math:: Y = W X, \qquad \bar W = \bar Y X^\top, \qquad \bar x = \mathrm{col2im}(W^\top \bar Y)

``conv_transpose2d``, its adjoint, with :math:`x` as ``(C_in, N*H*W)``,
:math:`W` as ``(C_in, C_out*kh*kw)`` and :math:`\bar Y = \mathrm{im2col}(\bar y)`:

.. math:: y = \mathrm{col2im}(W^\top x), \qquad \bar x = W \bar Y, \qquad \bar W = x \bar Y^\top

Built from the :mod:`~minigan.ops.conv` and :mod:`~minigan.ops.linalg`
primitives the same formulas would record every column matrix as a tensor
of the graph, held until backward: four times a stride-2 input, per layer
and per forward pass. As one primitive each, ``conv2d`` keeps its input and
rebuilds :math:`X` in backward, and only when :math:`W` needs a gradient;
``conv_transpose2d`` needs its columns in neither direction. A bias
:math:`b` joins either as :math:`y_{n,o} \mathrel{+}= b_o`, added in place, so
the graph holds no separate pre-bias output; :math:`\bar b_o = \sum_{n,i,j} \bar y_{n,o,i,j}`.
The VJPs are written with those primitives, so they are differentiable again
(gradient penalties through convolutions).
"""

from __future__ import annotations

from minigan import kernels
from minigan.autograd import Tensor, primitive
from minigan.ops.conv import _col2im, _im2col
from minigan.ops.reduce import sum as sum_
from minigan.ops.shape import reshape, transpose

__all__ = ["conv2d", "conv_transpose2d"]

_POINTWISE = dict(kernel_size=(1, 1), dilation=(1, 1), padding=(0, 0), stride=(1, 1))  # im2col as a transpose


@primitive(name="conv2d")
def _conv2d(x, weight, *bias, dilation, padding, stride, output_size):
    r""":math:`Y = W\,\mathrm{im2col}(x)` (+ ``bias``), as ``(N, O, H_out, W_out)``; VJP in the module docstring."""
    cols = kernels.im2col(x, weight.shape[2:], dilation, padding, stride)  # (C*kh*kw, N*L)
    out = weight.reshape(weight.shape[0], -1) @ cols                       # (O, N*L)
    return _biased(kernels.col2im(out, output_size, *_POINTWISE.values()), bias)  # (N, O, H_out, W_out)


@_conv2d.vjp
def _(g, y, x, weight, *bias, dilation, padding, stride, output_size):
    geometry = dict(kernel_size=weight.shape[2:], dilation=dilation, padding=padding, stride=stride)
    g_rows = _im2col(g, **_POINTWISE)                                    # Ȳ, (O, N*L)
    w_rows = reshape(weight, weight.shape[0], -1)                        # W, (O, C*kh*kw)
    gx = _col2im(transpose(w_rows) @ g_rows, output_size=x.shape[2:], **geometry) if x.requires_grad else None
    gw = reshape(g_rows @ transpose(_im2col(x, **geometry)), weight.shape) if weight.requires_grad else None
    return gx, gw, *_bias_grad(g, bias)


@primitive(name="conv_transpose2d")
def _conv_transpose2d(x, weight, *bias, dilation, padding, stride, output_size):
    r""":math:`y = \mathrm{col2im}(W^\top x)` (+ ``bias``), as ``(N, C_out, H_out, W_out)``; VJP in the module
    docstring."""
    rows = kernels.im2col(x, *_POINTWISE.values())                       # (C_in, N*H*W)
    cols = weight.reshape(weight.shape[0], -1).T @ rows                  # (C_out*kh*kw, N*H*W)
    return _biased(kernels.col2im(cols, output_size, weight.shape[2:], dilation, padding, stride), bias)


@_conv_transpose2d.vjp
def _(g, y, x, weight, *bias, dilation, padding, stride, output_size):
    g_cols = _im2col(g, kernel_size=weight.shape[2:], dilation=dilation, padding=padding, stride=stride)  # Ȳ
    gx = gw = None
    if x.requires_grad:
        gx = _col2im(reshape(weight, weight.shape[0], -1) @ g_cols, output_size=x.shape[2:], **_POINTWISE)
    if weight.requires_grad:
        gw = reshape(_im2col(x, **_POINTWISE) @ transpose(g_cols), weight.shape)
    return gx, gw, *_bias_grad(g, bias)


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
