"""The NumPy reference kernels: the definition every faster twin must match.

Written for reading, not speed. Each works on NumPy and CuPy arrays alike
(through :func:`array_module`), so it also serves as the fallback of any
backend that lacks a twin. One module per kernel family.
"""

from minigan.kernels.arrays import array_module
from minigan.kernels.reference.activation import leaky_relu, leaky_relu_backward, relu, softplus
from minigan.kernels.reference.conv import col2im, conv_output_size, fold, im2col, unfold
from minigan.kernels.reference.convolution import conv2d, conv2d_weight, conv_transpose2d
from minigan.kernels.reference.normalization import (batch_norm, batch_norm_backward, moments, standardize,
                                                     standardize_backward)
from minigan.kernels.reference.optim import adam_update, rmsprop_update, sgd_update

__all__ = ["array_module", "conv_output_size", "unfold", "fold", "im2col", "col2im", "conv2d", "conv_transpose2d",
           "conv2d_weight", "relu", "leaky_relu", "leaky_relu_backward", "softplus", "moments", "standardize",
           "standardize_backward", "batch_norm", "batch_norm_backward", "sgd_update", "adam_update", "rmsprop_update"]
