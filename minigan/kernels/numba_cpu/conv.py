"""numba twins of the convolution kernels.

How they are faster than the reference:

- one gather and one scatter-add loop nest serve both layouts: the block of
  ``L`` columns for row ``r = (c, i, j)`` and image ``n`` starts at
  ``r * row_step + n * image_step`` in the flat column array, so ``unfold``
  and ``im2col`` differ only in those two numbers, and nothing is transposed
  afterwards;
- the offsets of a kernel tap's ``L`` pixels within a padded image plane are
  computed once per geometry (a table), so the inner loop is a plain gather
  with no bounds tests;
- indices are unsigned, which spares numba's negative-index check on every
  access (it roughly halves the time of these memory-bound loops);
- both read or write the columns in memory order, one row at a time;
- a 1x1 kernel at stride 1 makes them plain transposes, left to NumPy's copy.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from minigan.kernels.reference.conv import conv_output_size

__all__ = ["unfold", "fold", "im2col", "col2im"]


@njit(cache=True, error_model="numpy")
def _tap_offsets(kh, kw, dh, dw, sh, sw, oh, ow, plane_width):
    """``offsets[i*kw + j, a*ow + b]``: where tap ``(i, j)`` of output ``(a, b)`` reads in a padded plane."""
    offsets = np.empty((kh * kw, oh * ow), dtype=np.uint64)
    for i in range(kh):
        for j in range(kw):
            for a in range(oh):
                for b in range(ow):
                    offsets[i * kw + j, a * ow + b] = (a * sh + i * dh) * plane_width + b * sw + j * dw
    return offsets


@njit(cache=True, error_model="numpy")
def _gather(padded, cols, offsets, row_step, image_step):
    n, c, h, w = padded.shape
    taps, positions = offsets.shape
    image = padded.reshape(-1)
    for ch in range(c):
        for tap in range(taps):
            row = uint64(ch * taps + tap)
            for b in range(n):
                source = uint64((b * c + ch) * h * w)
                target = row * uint64(row_step) + uint64(b) * uint64(image_step)
                for p in range(positions):
                    cols[target + uint64(p)] = image[source + offsets[tap, p]]


@njit(cache=True, error_model="numpy")
def _scatter_add(cols, padded, offsets, row_step, image_step):
    n, c, h, w = padded.shape
    taps, positions = offsets.shape
    image = padded.reshape(-1)
    for ch in range(c):
        for tap in range(taps):
            row = uint64(ch * taps + tap)
            for b in range(n):
                target = uint64((b * c + ch) * h * w)
                source = row * uint64(row_step) + uint64(b) * uint64(image_step)
                for p in range(positions):
                    image[target + offsets[tap, p]] += cols[source + uint64(p)]


def _pad(x, ph, pw):
    n, c, h, w = x.shape
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def _plan(size, kernel_size, dilation, padding, stride):
    """Output size and the tap offsets table for one geometry."""
    (h, w), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = size, kernel_size, dilation, padding, stride
    oh, ow = conv_output_size(h, kh, dh, ph, sh), conv_output_size(w, kw, dw, pw, sw)
    return oh * ow, _tap_offsets(kh, kw, dh, dw, sh, sw, oh, ow, w + 2 * pw)


def _pointwise(kernel_size, padding, stride) -> bool:
    """A 1x1 kernel at stride 1: im2col and col2im are then plain transposes, which NumPy copies fastest."""
    return kernel_size == (1, 1) and padding == (0, 0) and stride == (1, 1)


def _columns(x, kernel_size, dilation, padding, stride, batch_major: bool):
    n, c, h, w = x.shape
    if _pointwise(kernel_size, padding, stride):
        return x.reshape(n, c, h * w).copy() if batch_major else x.transpose(1, 0, 2, 3).copy().reshape(c, -1)
    positions, offsets = _plan((h, w), kernel_size, dilation, padding, stride)
    rows = c * len(offsets)
    padded = _pad(x, *padding) if any(padding) else np.ascontiguousarray(x)
    cols = np.empty(rows * n * positions, dtype=x.dtype)
    row_step, image_step = (positions, rows * positions) if batch_major else (n * positions, positions)
    _gather(padded, cols, offsets, row_step, image_step)
    return cols.reshape((n, rows, positions) if batch_major else (rows, n * positions))


def _image(cols, output_size, kernel_size, dilation, padding, stride, batch_major: bool):
    (h, w), (ph, pw) = output_size, padding
    if _pointwise(kernel_size, padding, stride):
        rows, columns = cols.shape[-2:]
        n = cols.shape[0] if batch_major else columns // (h * w)
        images = cols.reshape(n, rows, h, w) if batch_major else cols.reshape(rows, n, h, w).transpose(1, 0, 2, 3)
        return images.copy()
    positions, offsets = _plan(output_size, kernel_size, dilation, padding, stride)
    n = cols.shape[0] if batch_major else cols.shape[1] // positions
    rows = cols.size // (n * positions)
    padded = np.zeros((n, rows // len(offsets), h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    row_step, image_step = (positions, rows * positions) if batch_major else (n * positions, positions)
    _scatter_add(np.ascontiguousarray(cols).reshape(-1), padded, offsets, row_step, image_step)
    return np.ascontiguousarray(padded[:, :, ph:ph + h, pw:pw + w]) if ph or pw else padded


def unfold(x, kernel_size, dilation, padding, stride):
    """As :func:`minigan.kernels.reference.unfold`."""
    return _columns(x, kernel_size, dilation, padding, stride, batch_major=True)


def fold(cols, output_size, kernel_size, dilation, padding, stride):
    """As :func:`minigan.kernels.reference.fold`."""
    return _image(cols, output_size, kernel_size, dilation, padding, stride, batch_major=True)


def im2col(x, kernel_size, dilation, padding, stride):
    """As :func:`minigan.kernels.reference.im2col`."""
    return _columns(x, kernel_size, dilation, padding, stride, batch_major=False)


def col2im(cols, output_size, kernel_size, dilation, padding, stride):
    """As :func:`minigan.kernels.reference.col2im`."""
    return _image(cols, output_size, kernel_size, dilation, padding, stride, batch_major=False)
