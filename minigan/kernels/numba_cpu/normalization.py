"""numba twins of the standardisation kernels, for batch norm's layout.

Batch norm reduces over every axis but the channel axis 1, which NumPy does
in several strided passes with a temporary per pass. Here the input is
viewed as ``(N, C, L)`` and each statistic is one pass: the images are added
into a float64 ``(C, L)`` accumulator (an elementwise loop that vectorises,
unlike a running scalar sum), which is summed over ``L`` at the end. The
backward pass reads ``g`` and ``xhat`` twice and writes once. Any other
choice of axes (layer norm) goes to the reference, whose reductions over
trailing axes NumPy already does well.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minigan.kernels import reference

__all__ = ["moments", "standardize", "standardize_backward"]


@njit(cache=True, error_model="numpy")
def _channel_moments(x):
    n, c, length = x.shape
    total = np.zeros((c, length))
    for b in range(n):
        total += x[b]
    mean = total.sum(axis=1) / (n * length)
    total[:] = 0
    for b in range(n):
        for ch in range(c):
            for p in range(length):
                total[ch, p] += (x[b, ch, p] - mean[ch]) ** 2
    return mean, total.sum(axis=1) / (n * length)


@njit(cache=True, error_model="numpy")
def _standardize(x, mean, inv_std, out):
    n, c, length = x.shape
    for b in range(n):
        for ch in range(c):
            m, s = mean[ch], inv_std[ch]
            for p in range(length):
                out[b, ch, p] = (x[b, ch, p] - m) * s


@njit(cache=True, error_model="numpy")
def _standardize_backward(g, xhat, inv_std, out):
    n, c, length = g.shape
    total_g, total_gx = np.zeros((c, length)), np.zeros((c, length))
    for b in range(n):
        for ch in range(c):
            for p in range(length):
                total_g[ch, p] += g[b, ch, p]
                total_gx[ch, p] += g[b, ch, p] * xhat[b, ch, p]
    mean_g, mean_gx = total_g.sum(axis=1) / (n * length), total_gx.sum(axis=1) / (n * length)
    for b in range(n):
        for ch in range(c):
            mg, mgx, s = mean_g[ch], mean_gx[ch], inv_std[ch]
            for p in range(length):
                out[b, ch, p] = (g[b, ch, p] - mg - xhat[b, ch, p] * mgx) * s


def _channels(x, axes):
    """``x`` as a contiguous ``(N, C, L)`` array if ``axes`` are batch norm's, else None."""
    if x.ndim < 2 or tuple(axes) != (0,) + tuple(range(2, x.ndim)):
        return None
    return np.ascontiguousarray(x).reshape(x.shape[0], x.shape[1], -1)


def _kept(stat, x):
    return stat.astype(x.dtype).reshape((1, -1) + (1,) * (x.ndim - 2))


def moments(x, axes):
    """As :func:`minigan.kernels.reference.moments`."""
    cube = _channels(x, axes)
    if cube is None:
        return reference.moments(x, axes)
    mean, var = _channel_moments(cube)
    return _kept(mean, x), _kept(var, x)


def standardize(x, axes, eps):
    """As :func:`minigan.kernels.reference.standardize`."""
    cube = _channels(x, axes)
    if cube is None:
        return reference.standardize(x, axes, eps)
    mean, var = _channel_moments(cube)
    out = np.empty(x.shape, dtype=x.dtype)
    _standardize(cube, mean, 1 / np.sqrt(var + eps), out.reshape(cube.shape))
    return out


def standardize_backward(g, xhat, x, axes, eps):
    """As :func:`minigan.kernels.reference.standardize_backward`."""
    cube = _channels(x, axes)
    if cube is None:
        return reference.standardize_backward(g, xhat, x, axes, eps)
    _, var = _channel_moments(cube)
    out = np.empty(g.shape, dtype=g.dtype)
    _standardize_backward(_channels(g, axes), _channels(xhat, axes), 1 / np.sqrt(var + eps), out.reshape(cube.shape))
    return out
