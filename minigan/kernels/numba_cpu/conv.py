"""numba twins of the convolution kernels.

How they are faster than the reference:

- one gather and one scatter-add loop nest serve both layouts: the block of
  ``L`` columns for row ``r = (c, i, j)`` and image ``n`` starts at
  ``r * row_step + n * image_step`` in the flat column array, so ``unfold``
  and ``im2col`` differ only in those two numbers and nothing is transposed
  afterwards;
- where each kernel tap reads or writes is computed once per geometry, as a
  table (by NumPy, and kept), so the inner loops have no bounds tests: the gather reads a padded
  copy of the (16 times smaller) input, the scatter-add lists only the
  positions that land inside the image and adds straight into the output;
- indices are unsigned, which spares numba's negative-index test on every
  access (it roughly halves the time of these memory-bound loops);
- the columns are read or written in memory order, one row at a time;
- where im2col is a plain transpose (a 1x1 kernel, or one as large as the
  image) it is left to NumPy's copy;
- the loops release the GIL and run over ranges of channels, which write
  disjoint rows of the columns or planes of the image, so large calls split
  across minigan's threads (:func:`minigan.kernels.threads.parallel_range`).
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, uint64

from minigan.kernels.reference.conv import conv_output_size
from minigan.kernels.threads import parallel_range

_PARALLEL_ELEMENTS = 1 << 17  # below this many column entries a call is too short to be worth splitting

__all__ = ["unfold", "fold", "im2col", "col2im"]


@functools.lru_cache(maxsize=64)
def _tap_sources(kh, kw, dh, dw, sh, sw, oh, ow, padded_width):
    """``sources[i*kw + j, a*ow + b]``: the pixel of a padded plane that tap ``(i, j)`` reads for output ``(a, b)``."""
    (i, j), (a, b) = np.divmod(np.arange(kh * kw), kw), np.divmod(np.arange(oh * ow), ow)
    sources = (a * sh + i[:, None] * dh) * padded_width + b * sw + j[:, None] * dw
    return _frozen(sources.astype(np.uint64))


@functools.lru_cache(maxsize=64)
def _tap_targets(kh, kw, dh, dw, ph, pw, sh, sw, oh, ow, h, w):
    """For each tap, the ``count`` output positions that fall inside the image, and the pixels they add to."""
    (i, j), (a, b) = np.divmod(np.arange(kh * kw), kw), np.divmod(np.arange(oh * ow), ow)
    y, x = a * sh + i[:, None] * dh - ph, b * sw + j[:, None] * dw - pw  # (taps, positions)
    inside = (0 <= y) & (y < h) & (0 <= x) & (x < w)
    first = np.argsort(~inside, axis=1, kind="stable")  # each tap's positions inside the image, in order, first
    pixels = np.take_along_axis(np.where(inside, y * w + x, 0), first, axis=1)
    return (_frozen(inside.sum(axis=1)), _frozen(first.astype(np.uint64)), _frozen(pixels.astype(np.uint64)))


def _frozen(table):
    """A table shared by every call with its geometry: read-only, so no caller can change another's."""
    table.flags.writeable = False
    return table


@njit(cache=True, error_model="numpy", nogil=True)
def _gather(padded, cols, sources, row_step, image_step, first, stop):
    """Columns of channels ``first`` to ``stop`` (exclusive) gathered from the padded images."""
    n, c, h, w = padded.shape
    taps, positions = sources.shape
    image = padded.reshape(-1)
    for ch in range(first, stop):
        for tap in range(taps):
            row = uint64(ch * taps + tap)
            for b in range(n):
                source = uint64((b * c + ch) * h * w)
                target = row * uint64(row_step) + uint64(b) * uint64(image_step)
                for p in range(positions):
                    cols[target + uint64(p)] = image[source + sources[tap, p]]


@njit(cache=True, error_model="numpy", nogil=True)
def _scatter_add(cols, out, count, positions, pixels, row_step, image_step, first, stop):
    """Columns of channels ``first`` to ``stop`` (exclusive) added onto their planes of ``out``."""
    n, c, h, w = out.shape
    taps = count.size
    image = out.reshape(-1)
    for ch in range(first, stop):
        for tap in range(taps):
            row = uint64(ch * taps + tap)
            for b in range(n):
                target = uint64((b * c + ch) * h * w)
                source = row * uint64(row_step) + uint64(b) * uint64(image_step)
                for k in range(count[tap]):
                    image[target + pixels[tap, k]] += cols[source + positions[tap, k]]


@njit(cache=True, error_model="numpy")
def _transpose(a):
    """``a.T`` copied in 32x32 tiles, so that neither side is walked across cache lines."""
    rows, cols = a.shape
    out = np.empty((cols, rows), dtype=a.dtype)
    for i0 in range(0, rows, 32):
        for j0 in range(0, cols, 32):
            for i in range(i0, min(i0 + 32, rows)):
                for j in range(j0, min(j0 + 32, cols)):
                    out[j, i] = a[i, j]
    return out


def _transpose_shape(h, w, kernel_size, dilation, padding, stride):
    """``(taps, positions)`` when im2col is a plain transpose of the image, which NumPy copies fastest.

    That is a 1x1 kernel at stride 1 (one tap, every pixel a position) or a
    kernel as large as the unpadded image (every pixel a tap, one position).
    """
    if padding != (0, 0):
        return None
    if kernel_size == (1, 1) and stride == (1, 1):
        return 1, h * w
    if kernel_size == (h, w) and dilation == (1, 1):
        return h * w, 1
    return None


def _padded(x, ph, pw):
    if not (ph or pw):
        return np.ascontiguousarray(x)
    n, c, h, w = x.shape
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def _columns(x, kernel_size, dilation, padding, stride, batch_major: bool):
    """unfold (``batch_major``, ``(N, C*kh*kw, L)``) or im2col (``(C*kh*kw, N*L)``)."""
    n, c, h, w = x.shape
    transpose = _transpose_shape(h, w, kernel_size, dilation, padding, stride)
    if transpose is not None:
        taps, positions = transpose
        blocks = x.reshape(n, c * taps, positions)
        if batch_major:
            return blocks.copy()
        if positions == 1:
            return _transpose(np.ascontiguousarray(x).reshape(n, -1))
        return blocks.transpose(1, 0, 2).copy().reshape(c * taps, -1)
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel_size, dilation, padding, stride
    oh, ow = conv_output_size(h, kh, dh, ph, sh), conv_output_size(w, kw, dw, pw, sw)
    rows, positions = c * kh * kw, oh * ow
    cols = np.empty(rows * n * positions, dtype=x.dtype)
    row_step, image_step = (positions, rows * positions) if batch_major else (n * positions, positions)
    padded, sources = _padded(x, ph, pw), _tap_sources(kh, kw, dh, dw, sh, sw, oh, ow, w + 2 * pw)
    parallel_range(c, lambda first, stop: _gather(padded, cols, sources, row_step, image_step, first, stop),
                   elements=cols.size, at_least=_PARALLEL_ELEMENTS)
    return cols.reshape((n, rows, positions) if batch_major else (rows, n * positions))


def _image(cols, output_size, kernel_size, dilation, padding, stride, batch_major: bool):
    """fold (``batch_major``) or col2im: the columns added back onto ``(N, C, H, W)``."""
    (h, w), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = output_size, kernel_size, dilation, padding, stride
    oh, ow = conv_output_size(h, kh, dh, ph, sh), conv_output_size(w, kw, dw, pw, sw)
    rows, columns = cols.shape[-2:]
    n = cols.shape[0] if batch_major else columns // (oh * ow)
    if _transpose_shape(h, w, kernel_size, dilation, padding, stride) is not None:
        if batch_major:
            return cols.reshape(n, -1, h, w).copy()
        if oh * ow == 1:
            return _transpose(np.ascontiguousarray(cols)).reshape(n, -1, h, w)
        return cols.reshape(rows, n, oh * ow).transpose(1, 0, 2).copy().reshape(n, -1, h, w)
    out = np.zeros((n, rows // (kh * kw), h, w), dtype=cols.dtype)
    row_step, image_step = (oh * ow, rows * oh * ow) if batch_major else (n * oh * ow, oh * ow)
    targets, flat = _tap_targets(kh, kw, dh, dw, ph, pw, sh, sw, oh, ow, h, w), np.ascontiguousarray(cols).reshape(-1)
    parallel_range(out.shape[1],
                   lambda first, stop: _scatter_add(flat, out, *targets, row_step, image_step, first, stop),
                   elements=flat.size, at_least=_PARALLEL_ELEMENTS)
    return out


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
