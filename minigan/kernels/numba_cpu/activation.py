"""numba twins of the rectifier kernels: one pass, no boolean mask or scaled copy in between.

Large arrays split into one contiguous range per thread of the policy
(:func:`minigan.kernels.threads.parallel_range`); ReLU is NumPy's own
``maximum`` on those ranges, which releases the GIL too.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minigan.kernels.threads import parallel_range

__all__ = ["relu", "leaky_relu", "leaky_relu_backward"]

_PARALLEL_ELEMENTS = 1 << 18  # below this a pass is too short to be worth splitting (an MLP layer at batch 256)


# Each loop runs over whole (sliced) arrays from 0: a loop from a variable start does not vectorise.
@njit(cache=True, error_model="numpy", nogil=True)
def _leaky_relu(x, slope, out):
    for i in range(x.size):
        out[i] = x[i] if x[i] > 0 else x[i] * slope


@njit(cache=True, error_model="numpy", nogil=True)
def _leaky_relu_backward(g, x, slope, out):
    for i in range(g.size):
        out[i] = g[i] if x[i] > 0 else g[i] * slope


def _elementwise(body, *arrays):
    """``body(*pieces, out piece)`` over flat pieces of ``arrays`` and of a fresh output shaped like
    ``arrays[0]``, one contiguous piece per thread."""
    out = np.empty(arrays[0].shape, dtype=arrays[0].dtype)
    flat = [np.ascontiguousarray(a).reshape(-1) for a in arrays] + [out.reshape(-1)]
    parallel_range(out.size, lambda first, stop: body(*(a[first:stop] for a in flat)), elements=out.size,
                   at_least=_PARALLEL_ELEMENTS)
    return out


def relu(x):
    """As :func:`minigan.kernels.reference.relu`."""
    return _elementwise(lambda x, out: np.maximum(x, 0, out=out), x)


def leaky_relu(x, negative_slope):
    """As :func:`minigan.kernels.reference.leaky_relu`."""
    slope = x.dtype.type(negative_slope)
    return _elementwise(lambda x, out: _leaky_relu(x, slope, out), x)


def leaky_relu_backward(g, x, negative_slope):
    """As :func:`minigan.kernels.reference.leaky_relu_backward`."""
    slope = g.dtype.type(negative_slope)
    return _elementwise(lambda g, x, out: _leaky_relu_backward(g, x, slope, out), g, x)
