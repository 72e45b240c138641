"""The convolution kernels a chunk of images at a time, the chunks split across threads.

The reference gathers the columns of the whole batch, then multiplies: for a
64-channel 14x14 batch of 256 images with a 4x4 kernel that is a 51 MB
matrix written to memory and read back. Here each thread takes a contiguous
range of images and works through it a chunk at a time, sized so that the
chunk's columns (about :data:`_CHUNK_BYTES`) are still in cache when the
product reads them: gather, multiply, and write the chunk's share of the
output. BLAS runs on one thread inside each piece (the pieces already use
every core; :func:`minigan.kernels.threads.parallel_range`), and a weight
gradient is summed per piece, then across pieces.
"""

from __future__ import annotations

import numpy as np

from minigan.kernels.numba_cpu.conv import col2im, im2col
from minigan.kernels.reference.conv import Pair
from minigan.kernels.reference.convolution import _rows
from minigan.kernels.threads import parallel_range

__all__ = ["conv2d", "conv_transpose2d", "conv2d_weight"]

_CHUNK_BYTES = 1 << 21  # a chunk's columns: small enough to stay in cache from the gather to the product
_PARALLEL_ELEMENTS = 1 << 17  # below this many column entries a call is too short to be worth splitting


def _over_chunks(images: int, columns: int, itemsize: int, piece) -> None:
    """``piece(chunks)`` once per thread, ``chunks`` its ``(start, stop)`` ranges of images, each with about
    :data:`_CHUNK_BYTES` of columns (``columns`` entries of ``itemsize`` bytes per image)."""
    most = max(1, _CHUNK_BYTES // (columns * itemsize))  # images per chunk

    def chunked(first, stop):
        count = -(-(stop - first) // most)  # chunks of equal size, no small remainder
        bounds = [first + (stop - first) * i // count for i in range(count + 1)]
        piece(list(zip(bounds[:-1], bounds[1:])))

    parallel_range(images, chunked, elements=images * columns, at_least=_PARALLEL_ELEMENTS, blas=True)


def conv2d(x, weight, dilation: Pair, padding: Pair, stride: Pair, output_size: Pair):
    """As :func:`minigan.kernels.reference.conv2d`."""
    x = np.ascontiguousarray(x)
    n, out_channels = x.shape[0], weight.shape[0]
    rows = np.ascontiguousarray(weight).reshape(out_channels, -1)  # (O, C*kh*kw)
    out = np.empty((n, out_channels, *output_size), dtype=x.dtype)

    def piece(chunks):
        for start, stop in chunks:
            y = rows @ im2col(x[start:stop], weight.shape[2:], dilation, padding, stride)  # (O, c*L)
            out[start:stop] = y.reshape(out_channels, stop - start, *output_size).transpose(1, 0, 2, 3)

    _over_chunks(n, rows.shape[1] * int(np.prod(output_size)), x.itemsize, piece)
    return out


def conv_transpose2d(y, weight, dilation: Pair, padding: Pair, stride: Pair, output_size: Pair):
    """As :func:`minigan.kernels.reference.conv_transpose2d`."""
    y = np.ascontiguousarray(y)
    n, in_channels = y.shape[0], weight.shape[0]
    columns = np.ascontiguousarray(weight).reshape(in_channels, -1).T  # (C*kh*kw, O)
    out = np.empty((n, weight.shape[1], *output_size), dtype=y.dtype)

    def piece(chunks):
        for start, stop in chunks:
            cols = columns @ _rows(y[start:stop])  # (C*kh*kw, c*h*w)
            out[start:stop] = col2im(cols, output_size, weight.shape[2:], dilation, padding, stride)

    _over_chunks(n, columns.shape[0] * int(np.prod(y.shape[2:])), y.itemsize, piece)
    return out


def conv2d_weight(x, y, kernel_size: Pair, dilation: Pair, padding: Pair, stride: Pair):
    """As :func:`minigan.kernels.reference.conv2d_weight`."""
    x, y = np.ascontiguousarray(x), np.ascontiguousarray(y)
    n, out_channels = x.shape[0], y.shape[1]
    taps = x.shape[1] * kernel_size[0] * kernel_size[1]
    sums = []

    def piece(chunks):
        total = np.zeros((taps, out_channels), dtype=x.dtype)  # the transpose: X y^T runs faster than y X^T
        for start, stop in chunks:
            total += im2col(x[start:stop], kernel_size, dilation, padding, stride) @ _rows(y[start:stop]).T
        sums.append(total)

    _over_chunks(n, taps * int(np.prod(y.shape[2:])), x.itemsize, piece)
    return np.ascontiguousarray(sum(sums).T).reshape(out_channels, x.shape[1], *kernel_size)
