"""numba twins of the rectifier kernels: one pass, no boolean mask or scaled copy in between."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["leaky_relu", "leaky_relu_backward"]


@njit(cache=True, error_model="numpy")
def _leaky_relu(x, slope, out):
    for i in range(x.size):
        out[i] = x[i] if x[i] > 0 else x[i] * slope


@njit(cache=True, error_model="numpy")
def _leaky_relu_backward(g, x, slope, out):
    for i in range(g.size):
        out[i] = g[i] if x[i] > 0 else g[i] * slope


def leaky_relu(x, negative_slope):
    """As :func:`minigan.kernels.reference.leaky_relu`."""
    out = np.empty(x.shape, dtype=x.dtype)
    _leaky_relu(np.ascontiguousarray(x).reshape(-1), x.dtype.type(negative_slope), out.reshape(-1))
    return out


def leaky_relu_backward(g, x, negative_slope):
    """As :func:`minigan.kernels.reference.leaky_relu_backward`."""
    out = np.empty(g.shape, dtype=g.dtype)
    _leaky_relu_backward(np.ascontiguousarray(g).reshape(-1), np.ascontiguousarray(x).reshape(-1),
                         g.dtype.type(negative_slope), out.reshape(-1))
    return out
