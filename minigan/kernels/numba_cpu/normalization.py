"""numba twins of the standardisation kernels, for batch norm's layout.

Batch norm reduces over every axis but the channel axis 1, which NumPy does
in several strided passes with a temporary per pass. Here the input is
viewed as ``(N, C, L)`` and each statistic is one pass: the images are added
into a float64 ``(C, L)`` accumulator (an elementwise loop that vectorises,
unlike a running scalar sum), which is summed over ``L`` at the end. The
backward pass reads ``g`` and ``xhat`` twice and writes once. Any other
choice of axes (layer norm) goes to the reference, whose reductions over
trailing axes NumPy already does well.

Batch norm's fused affine kernels work channel by channel. They stay on one
thread: split over channels across two threads they ran slower (their loops
are short and bound by memory traffic; ``docs/performance.md``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minigan.kernels import reference

__all__ = ["moments", "standardize", "standardize_backward", "batch_norm", "batch_norm_backward"]



@njit(cache=True, error_model="numpy")
def _row_means(total, count):
    """``total.sum(axis=1) / count``, spelled out: numba compiles its reductions seconds slower than loops."""
    out = np.zeros(total.shape[0])
    for ch in range(total.shape[0]):
        for p in range(total.shape[1]):
            out[ch] += total[ch, p]
        out[ch] /= count
    return out


@njit(cache=True, error_model="numpy")
def _channel_moments(x):
    n, c, length = x.shape
    total = np.zeros((c, length))
    for b in range(n):
        for ch in range(c):
            for p in range(length):
                total[ch, p] += x[b, ch, p]
    mean = _row_means(total, n * length)
    total[:] = 0
    for b in range(n):
        for ch in range(c):
            for p in range(length):
                total[ch, p] += (x[b, ch, p] - mean[ch]) ** 2
    return mean, _row_means(total, n * length)


@njit(cache=True, error_model="numpy")
def _standardize_backward(g, xhat, inv_std, out):
    n, c, length = g.shape
    total_g, total_gx = np.zeros((c, length)), np.zeros((c, length))
    for b in range(n):
        for ch in range(c):
            for p in range(length):
                total_g[ch, p] += g[b, ch, p]
                total_gx[ch, p] += g[b, ch, p] * xhat[b, ch, p]
    mean_g, mean_gx = _row_means(total_g, n * length), _row_means(total_gx, n * length)
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
    _centred_affine(cube, mean, 1 / np.sqrt(var + eps), np.zeros_like(mean), out.reshape(cube.shape))
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


@njit(cache=True, error_model="numpy")
def _centred_affine(x, mean, scale, shift, out):
    """``out = (x - mean) * scale + shift`` per channel: standardisation (``shift`` 0) and batch norm alike."""
    n, c, length = x.shape
    for b in range(n):
        for ch in range(c):
            m, a, s = mean[ch], scale[ch], shift[ch]
            for p in range(length):
                out[b, ch, p] = (x[b, ch, p] - m) * a + s


@njit(cache=True, error_model="numpy")
def _affine_backward(g, x, weight, mean, inv_std, grad_x, grad_weight, grad_bias):
    n, c, length = x.shape
    m = n * length
    total_g, total_gx = np.empty(length), np.empty(length)  # per position: elementwise adds that vectorise
    for ch in range(c):
        mu, s = mean[ch], inv_std[ch]
        total_g[:] = 0
        total_gx[:] = 0
        for b in range(n):
            for p in range(length):
                total_g[p] += g[b, ch, p]
                total_gx[p] += g[b, ch, p] * (x[b, ch, p] - mu)
        sum_g, sum_gx = 0.0, 0.0
        for p in range(length):
            sum_g += total_g[p]
            sum_gx += total_gx[p]
        grad_bias[ch], grad_weight[ch] = sum_g, sum_gx * s
        k, mean_g, mean_gx = weight[ch] * s, sum_g / m, sum_gx * s * s / m
        for b in range(n):
            for p in range(length):
                grad_x[b, ch, p] = k * (g[b, ch, p] - mean_g - (x[b, ch, p] - mu) * mean_gx)


def batch_norm(x, weight, bias, mean, inv_std):
    """As :func:`minigan.kernels.reference.batch_norm`."""
    cube = _channels(x, (0,) + tuple(range(2, x.ndim)))
    out = np.empty(x.shape, dtype=x.dtype)
    _centred_affine(cube, mean.astype(x.dtype), (inv_std * weight).astype(x.dtype), bias.astype(x.dtype),
                    out.reshape(cube.shape))
    return out


def batch_norm_backward(g, x, weight, mean, inv_std):
    """As :func:`minigan.kernels.reference.batch_norm_backward`; the sums accumulate in float64."""
    axes = (0,) + tuple(range(2, x.ndim))
    cube, g_cube = _channels(x, axes), _channels(g, axes)
    grad_x = np.empty(x.shape, dtype=x.dtype)
    grad_weight, grad_bias = np.empty(x.shape[1]), np.empty(x.shape[1])
    _affine_backward(g_cube, cube, weight.astype(np.float64), mean.astype(np.float64), inv_std.astype(np.float64),
                     grad_x.reshape(cube.shape), grad_weight, grad_bias)
    return grad_x, grad_weight.astype(x.dtype), grad_bias.astype(x.dtype)
