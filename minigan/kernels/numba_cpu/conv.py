"""numba twins of the convolution kernels: one pass over memory, no padded copy.

One gather loop nest and one scatter-add loop nest serve both layouts: they
index the columns as ``[n, c, i, j, a, b]`` through a transposed view of the
array being filled, so ``unfold`` and ``im2col`` differ only in the order of
the axes they allocate. The valid output range of each kernel offset is
computed once, so the inner loop has no bounds test.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minigan.kernels.reference.conv import conv_output_size

__all__ = ["unfold", "fold", "im2col", "col2im"]

_IM2COL_AXES = (3, 0, 1, 2, 4, 5)  # (C, kh, kw, N, oh, ow) seen as (N, C, kh, kw, oh, ow)


@njit(cache=True)
def _inside(offset, stride, size, count):
    """``[lo, hi)``: the positions ``p < count`` with ``0 <= p*stride + offset < size``."""
    lo = 0 if offset >= 0 else (stride - 1 - offset) // stride
    hi = (size - 1 - offset) // stride + 1 if size - 1 - offset >= 0 else 0
    lo = min(lo, count)
    return lo, max(lo, min(hi, count))


@njit(cache=True)
def _gather(x, cols, dh, dw, ph, pw, sh, sw):
    n, c, kh, kw, oh, ow = cols.shape
    h, w = x.shape[2], x.shape[3]
    for ch in range(c):
        for i in range(kh):
            a0, a1 = _inside(i * dh - ph, sh, h, oh)
            for j in range(kw):
                q0, q1 = _inside(j * dw - pw, sw, w, ow)
                for b in range(n):
                    for a in range(oh):
                        if a < a0 or a >= a1:
                            for q in range(ow):
                                cols[b, ch, i, j, a, q] = 0
                            continue
                        row = a * sh + i * dh - ph
                        for q in range(q0):
                            cols[b, ch, i, j, a, q] = 0
                        for q in range(q0, q1):
                            cols[b, ch, i, j, a, q] = x[b, ch, row, q * sw + j * dw - pw]
                        for q in range(q1, ow):
                            cols[b, ch, i, j, a, q] = 0


@njit(cache=True)
def _scatter_add(cols, out, dh, dw, ph, pw, sh, sw):
    n, c, kh, kw, oh, ow = cols.shape
    h, w = out.shape[2], out.shape[3]
    for ch in range(c):
        for i in range(kh):
            a0, a1 = _inside(i * dh - ph, sh, h, oh)
            for j in range(kw):
                q0, q1 = _inside(j * dw - pw, sw, w, ow)
                for b in range(n):
                    for a in range(a0, a1):
                        row = a * sh + i * dh - ph
                        for q in range(q0, q1):
                            out[b, ch, row, q * sw + j * dw - pw] += cols[b, ch, i, j, a, q]


def _sizes(h, w, kernel_size, dilation, padding, stride):
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel_size, dilation, padding, stride
    return conv_output_size(h, kh, dh, ph, sh), conv_output_size(w, kw, dw, pw, sw)


def unfold(x, kernel_size, dilation, padding, stride):
    """As :func:`minigan.kernels.reference.unfold`."""
    n, c, h, w = x.shape
    (kh, kw), oh_ow = kernel_size, _sizes(h, w, kernel_size, dilation, padding, stride)
    cols = np.empty((n, c, kh, kw) + oh_ow, dtype=x.dtype)
    _gather(np.ascontiguousarray(x), cols, *dilation, *padding, *stride)
    return cols.reshape(n, c * kh * kw, oh_ow[0] * oh_ow[1])


def fold(cols, output_size, kernel_size, dilation, padding, stride):
    """As :func:`minigan.kernels.reference.fold`."""
    (h, w), (kh, kw) = output_size, kernel_size
    n, ckk, _ = cols.shape
    out = np.zeros((n, ckk // (kh * kw), h, w), dtype=cols.dtype)
    blocks = np.ascontiguousarray(cols).reshape((n, ckk // (kh * kw), kh, kw)
                                                + _sizes(h, w, kernel_size, dilation, padding, stride))
    _scatter_add(blocks, out, *dilation, *padding, *stride)
    return out


def im2col(x, kernel_size, dilation, padding, stride):
    """As :func:`minigan.kernels.reference.im2col`."""
    n, c, h, w = x.shape
    (kh, kw), oh_ow = kernel_size, _sizes(h, w, kernel_size, dilation, padding, stride)
    cols = np.empty((c, kh, kw, n) + oh_ow, dtype=x.dtype)
    _gather(np.ascontiguousarray(x), cols.transpose(_IM2COL_AXES), *dilation, *padding, *stride)
    return cols.reshape(c * kh * kw, n * oh_ow[0] * oh_ow[1])


def col2im(cols, output_size, kernel_size, dilation, padding, stride):
    """As :func:`minigan.kernels.reference.col2im`."""
    (h, w), (kh, kw) = output_size, kernel_size
    ckk, columns = cols.shape
    oh, ow = _sizes(h, w, kernel_size, dilation, padding, stride)
    c, n = ckk // (kh * kw), columns // (oh * ow)
    out = np.zeros((n, c, h, w), dtype=cols.dtype)
    blocks = np.ascontiguousarray(cols).reshape(c, kh, kw, n, oh, ow).transpose(_IM2COL_AXES)
    _scatter_add(blocks, out, *dilation, *padding, *stride)
    return out
