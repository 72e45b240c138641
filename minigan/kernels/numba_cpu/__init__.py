"""numba twins of the reference kernels: same signatures, same results, faster on the CPU.

Each is a plain loop nest compiled with ``@njit(cache=True, error_model="numpy")``, or NumPy
and BLAS calls on pieces of the data. The convolution, rectifier and batch-norm kernels
release the GIL and split large calls across the threads of the policy in
:mod:`minigan.kernels.threads`; the optimiser updates run serially. All are cached per user
(:mod:`minigan.kernels.cache`).
"""

from minigan.kernels.cache import compiling_into

with compiling_into():
    from minigan.kernels.numba_cpu.activation import leaky_relu, leaky_relu_backward, relu
    from minigan.kernels.numba_cpu.conv import col2im, fold, im2col, unfold
    from minigan.kernels.numba_cpu.convolution import conv2d, conv2d_weight, conv_transpose2d
    from minigan.kernels.numba_cpu.normalization import (batch_norm, batch_norm_backward, moments, standardize,
                                                         standardize_backward)
    from minigan.kernels.numba_cpu.optim import adam_update, rmsprop_update, sgd_update

__all__ = ["unfold", "fold", "im2col", "col2im", "conv2d", "conv_transpose2d", "conv2d_weight", "relu", "leaky_relu",
           "leaky_relu_backward", "moments", "standardize", "standardize_backward", "batch_norm", "batch_norm_backward",
           "sgd_update", "adam_update", "rmsprop_update"]
