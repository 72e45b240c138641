"""numba twins of the reference kernels: same signatures, same results, faster on the CPU.

Each is a plain loop nest compiled with ``@njit(cache=True, error_model="numpy")``. They run
serially, by the thread policy in :mod:`minigan.kernels.threads`, and are cached per user
(:mod:`minigan.kernels.cache`).
"""

from minigan.kernels.cache import compiling_into

with compiling_into():
    from minigan.kernels.numba_cpu.activation import leaky_relu, leaky_relu_backward
    from minigan.kernels.numba_cpu.conv import col2im, fold, im2col, unfold
    from minigan.kernels.numba_cpu.normalization import moments, standardize, standardize_backward
    from minigan.kernels.numba_cpu.optim import adam_update, rmsprop_update, sgd_update

__all__ = ["unfold", "fold", "im2col", "col2im", "leaky_relu", "leaky_relu_backward", "moments", "standardize",
           "standardize_backward", "sgd_update", "adam_update", "rmsprop_update"]
