r"""numba twins of the standardisation kernels, for batch norm's layout.

Batch norm reduces over every axis but the channel axis 1, which NumPy does
in several strided passes with a temporary per pass. Here the input is
viewed as ``(N, C, L)`` and each statistic is one pass per channel: the
images are added into a float64 ``(L,)`` accumulator (an elementwise loop
that vectorises, unlike a running scalar sum), which is summed at the end.
The backward pass reads ``g`` and ``x`` twice and writes once; standardising
is batch norm with :math:`\gamma = 1, \beta = 0`, so both share the kernels. Any other
choice of axes (layer norm) goes to the reference, whose reductions over
trailing axes NumPy already does well.

The kernels release the GIL and large calls split across minigan's threads
(:func:`minigan.kernels.threads.parallel_range`): the statistics and the
backward pass over ranges of channels, each range with its own scratch, the
affine map over ranges of images.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minigan.kernels import reference
from minigan.kernels.threads import parallel_range

__all__ = ["moments", "standardize", "standardize_backward", "batch_norm", "batch_norm_backward"]

_PARALLEL_ELEMENTS = 1 << 18  # below this a call is too short to be worth splitting (an MLP layer at batch 256)


@njit(cache=True, error_model="numpy", nogil=True)
def _channel_moments(x, mean, var, total, first, stop):
    """Per channel ``first`` to ``stop`` (exclusive) of ``(N, C, L)`` ``x``, the mean and biased variance into
    ``mean`` and ``var``; ``total`` is ``(L,)`` scratch. The caller allocates: numba compiles allocations and
    slice assignments slowly."""
    n, c, length = x.shape
    for ch in range(first, stop):
        for p in range(length):
            total[p] = 0.0
        for b in range(n):
            for p in range(length):
                total[p] += x[b, ch, p]
        mu = 0.0
        for p in range(length):
            mu += total[p]
        mu /= n * length
        for p in range(length):
            total[p] = 0.0
        for b in range(n):
            for p in range(length):
                d = x[b, ch, p] - mu
                total[p] += d * d
        sum_squares = 0.0
        for p in range(length):
            sum_squares += total[p]
        mean[ch], var[ch] = mu, sum_squares / (n * length)


def _cube_moments(cube):
    """``(mean, var)``, float64 ``(C,)``, of a contiguous ``(N, C, L)`` array."""
    mean, var = np.empty(cube.shape[1]), np.empty(cube.shape[1])
    _over_channels(cube, lambda first, stop: _channel_moments(cube, mean, var, np.empty(cube.shape[2]), first, stop))
    return mean, var


def _over_channels(cube, body):
    """``body(first, stop)`` over the channels of ``cube``, split across threads when the call is large."""
    parallel_range(cube.shape[1], body, elements=cube.size, at_least=_PARALLEL_ELEMENTS)


def _over_images(cube, body):
    """``body(first, stop)`` over the images of ``cube``, split across threads when the call is large."""
    parallel_range(cube.shape[0], body, elements=cube.size, at_least=_PARALLEL_ELEMENTS)


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
    mean, var = _cube_moments(cube)
    return _kept(mean, x), _kept(var, x)


def standardize(x, axes, eps):
    """As :func:`minigan.kernels.reference.standardize`."""
    cube = _channels(x, axes)
    if cube is None:
        return reference.standardize(x, axes, eps)
    mean, var = _cube_moments(cube)
    out = np.empty(x.shape, dtype=x.dtype)
    scale = (1 / np.sqrt(var + eps)).astype(x.dtype)  # per channel, in x's dtype as batch norm's: one compilation
    _centred_affine_over_images(cube, mean.astype(x.dtype), scale, np.zeros_like(scale), out)
    return out


def standardize_backward(g, xhat, x, axes, eps):
    r"""As :func:`minigan.kernels.reference.standardize_backward`: batch norm's input gradient with
    :math:`\gamma = 1`, since :math:`(x - \mu) s = \hat x`."""
    cube = _channels(x, axes)
    if cube is None:
        return reference.standardize_backward(g, xhat, x, axes, eps)
    mean, var = _cube_moments(cube)
    return batch_norm_backward(g, x, np.ones_like(mean), mean, 1 / np.sqrt(var + eps))[0]


@njit(cache=True, error_model="numpy", nogil=True)
def _centred_affine(x, mean, scale, shift, out, first, stop):
    """``out = (x - mean) * scale + shift`` per channel, for images ``first`` to ``stop`` (exclusive):
    standardisation (``shift`` 0) and batch norm alike."""
    n, c, length = x.shape
    for b in range(first, stop):
        for ch in range(c):
            m, a, s = mean[ch], scale[ch], shift[ch]
            for p in range(length):
                out[b, ch, p] = (x[b, ch, p] - m) * a + s


def _centred_affine_over_images(cube, mean, scale, shift, out):
    """:func:`_centred_affine` of a ``(N, C, L)`` cube into ``out``, an array of the cube's size."""
    target = out.reshape(cube.shape)
    _over_images(cube, lambda first, stop: _centred_affine(cube, mean, scale, shift, target, first, stop))


@njit(cache=True, error_model="numpy", nogil=True)
def _affine_backward(g, x, weight, mean, inv_std, grad_x, grad_weight, grad_bias, total_g, total_gx, first, stop):
    """Batch norm's three gradients for channels ``first`` to ``stop`` (exclusive); ``total_g`` and
    ``total_gx`` are ``(L,)`` scratch, per position sums (elementwise adds that vectorise)."""
    n, c, length = x.shape
    m = n * length
    for ch in range(first, stop):
        mu, s = mean[ch], inv_std[ch]
        for p in range(length):
            total_g[p], total_gx[p] = 0.0, 0.0
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
    _centred_affine_over_images(cube, mean.astype(x.dtype), (inv_std * weight).astype(x.dtype),
                                bias.astype(x.dtype), out)
    return out


def batch_norm_backward(g, x, weight, mean, inv_std):
    """As :func:`minigan.kernels.reference.batch_norm_backward`; the sums accumulate in float64."""
    axes = (0,) + tuple(range(2, x.ndim))
    cube, g_cube = _channels(x, axes), _channels(g, axes)
    grad_x = np.empty(x.shape, dtype=x.dtype)
    grad_weight, grad_bias = np.empty(x.shape[1]), np.empty(x.shape[1])
    weight, mean, inv_std = (np.asarray(a, dtype=np.float64) for a in (weight, mean, inv_std))
    _over_channels(cube, lambda first, stop: _affine_backward(
        g_cube, cube, weight, mean, inv_std, grad_x.reshape(cube.shape), grad_weight, grad_bias,
        *np.empty((2, cube.shape[2])), first, stop))
    return grad_x, grad_weight.astype(x.dtype), grad_bias.astype(x.dtype)
