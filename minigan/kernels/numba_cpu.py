"""numba twins of the reference kernels: same signatures, same results, faster on the CPU.

Each kernel is a plain loop nest compiled with ``@njit(cache=True)``: one pass
over memory, no temporary padded copy, contiguous output. They run serially:
minigan's thread policy is that BLAS (the matrix products that dominate a
step) owns the cores, and a second thread pool spinning on the same cores
slows both down (see ``docs/performance.md``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minigan.kernels.reference import conv_output_size

__all__ = ["unfold", "fold"]


@njit(cache=True)
def _unfold(x, kh, kw, dh, dw, ph, pw, sh, sw, oh, ow):
    n, c, h, w = x.shape
    cols = np.zeros((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for b in range(n):
        for ch in range(c):
            for i in range(kh):
                for j in range(kw):
                    for a in range(oh):
                        row = a * sh + i * dh - ph
                        if 0 <= row < h:
                            for q in range(ow):
                                col = q * sw + j * dw - pw
                                if 0 <= col < w:
                                    cols[b, ch, i, j, a, q] = x[b, ch, row, col]
    return cols


@njit(cache=True)
def _fold(cols, h, w, kh, kw, dh, dw, ph, pw, sh, sw):
    n, c, _, _, oh, ow = cols.shape
    out = np.zeros((n, c, h, w), dtype=cols.dtype)
    for b in range(n):
        for ch in range(c):
            for i in range(kh):
                for j in range(kw):
                    for a in range(oh):
                        row = a * sh + i * dh - ph
                        if 0 <= row < h:
                            for q in range(ow):
                                col = q * sw + j * dw - pw
                                if 0 <= col < w:
                                    out[b, ch, row, col] += cols[b, ch, i, j, a, q]
    return out


def unfold(x, kernel_size, dilation, padding, stride):
    """im2col, as :func:`minigan.kernels.reference.unfold`."""
    n, c, h, w = x.shape
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel_size, dilation, padding, stride
    oh, ow = conv_output_size(h, kh, dh, ph, sh), conv_output_size(w, kw, dw, pw, sw)
    cols = _unfold(np.ascontiguousarray(x), kh, kw, dh, dw, ph, pw, sh, sw, oh, ow)
    return cols.reshape(n, c * kh * kw, oh * ow)


def fold(cols, output_size, kernel_size, dilation, padding, stride):
    """col2im, as :func:`minigan.kernels.reference.fold`."""
    (h, w), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = output_size, kernel_size, dilation, padding, stride
    n, ckk, _ = cols.shape
    oh, ow = conv_output_size(h, kh, dh, ph, sh), conv_output_size(w, kw, dw, pw, sw)
    cols = np.ascontiguousarray(cols).reshape(n, ckk // (kh * kw), kh, kw, oh, ow)
    return _fold(cols, h, w, kh, kw, dh, dw, ph, pw, sh, sw)
