r"""Functional forms of pooling, pixel shuffle and instance norm, re-exported by :mod:`minigan.nn.functional`.

Each is a composite of primitives, so its gradient and second derivative follow:

- pooling reads windows with ``unfold`` (im2col) and reduces each with ``mean``
  or ``max``; the VJP of ``unfold`` is ``fold``, which adds each window's
  gradient back onto the pixels it read;
- adaptive average pooling is two products with averaging matrices;
- pixel shuffle is a reshape and a permute;
- instance norm is the fused ``standardize`` primitive over the spatial axes.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from minigan import ops
from minigan.autograd import Tensor, no_grad
from minigan.kernels.reference import conv_output_size
from minigan.ops.conv import pair
from minigan.ops.normalization import batch_statistics, standardize

__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "instance_norm", "max_pool2d", "pixel_shuffle", "pixel_unshuffle"]


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _expect_4d(op: str, x: Tensor) -> None:
    hint = "; for a single image add the batch dimension: x[None] or x.unsqueeze(0)" if x.ndim == 3 else ""
    _expect(x.ndim == 4, f"{op}: expected a 4-D input (N, C, H, W), got a {x.ndim}-D input of shape "
                         f"{tuple(x.shape)}{hint}")


def _unbatched(pool):
    """Let a pooling function take an unbatched ``(C, H, W)`` image too, as PyTorch's do."""
    def wrapper(input: Tensor, *args, **kwargs) -> Tensor:
        if input.ndim == 3:
            return pool(input.unsqueeze(0), *args, **kwargs).squeeze(0)
        return pool(input, *args, **kwargs)
    return functools.wraps(pool)(wrapper)


def _windows(op: str, x: Tensor, kernel_size, stride, padding, dilation=1, fill: float = 0.0):
    """Every pooling window of ``x`` as ``(N, C, kh*kw, oh, ow)`` (padding with ``fill``), and the geometry."""
    _expect_4d(op, x)
    kernel_size = pair(kernel_size, "kernel_size")
    stride = kernel_size if stride is None or stride == () or stride == [] else pair(stride, "stride")
    padding, dilation = pair(padding, "padding"), pair(dilation, "dilation")
    _expect(min(kernel_size) >= 1 and min(stride) >= 1 and min(dilation) >= 1 and min(padding) >= 0,
            f"{op}: kernel_size {kernel_size}, stride {stride} and dilation {dilation} must be positive and "
            f"padding {padding} non-negative")
    _expect(all(2 * p <= k for p, k in zip(padding, kernel_size)),
            f"{op}: padding {padding} should be at most half of kernel_size {kernel_size}")
    n, c, h, w = x.shape
    oh, ow = (conv_output_size(s, k, d, p, st)
              for s, k, d, p, st in zip((h, w), kernel_size, dilation, padding, stride))
    _expect(oh >= 1 and ow >= 1, f"{op}: input {tuple(x.shape)} is too small for kernel_size {kernel_size} "
                                 f"(padding {padding}, dilation {dilation}): the output would be {oh}x{ow}")
    if any(padding) and fill != 0.0:
        x = ops.pad(x, (padding[1], padding[1], padding[0], padding[0]), value=fill)
        padding = (0, 0)
    cols = ops.unfold(x, kernel_size, dilation, padding, stride)                     # (N, C*kh*kw, oh*ow)
    return cols.reshape(n, c, kernel_size[0] * kernel_size[1], oh, ow), (kernel_size, stride, padding)


@_unbatched
def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    r"""Average over each ``kernel_size`` window, as ``torch.nn.functional.avg_pool2d``.

    .. math:: y_{n,c,i,j} = \frac{1}{|W|} \sum_{(a,b) \in W_{ij}} x_{n,c,\,s_h i + a - p_h,\, s_w j + b - p_w}

    with zero padding; :math:`|W|` is :math:`k_h k_w` (``count_include_pad``),
    the number of pixels of the window inside the image otherwise, or
    ``divisor_override``. ``stride`` defaults to ``kernel_size``.
    VJP: each :math:`\bar y_{ij} / |W|` is spread over its window and the
    windows are added up, :math:`\bar x = \mathrm{fold}(\bar y / |W|)`.
    Input and output ``(N, C, H, W)`` or ``(C, H, W)``; ``ceil_mode=True`` is not implemented.
    """
    if ceil_mode:
        raise NotImplementedError("avg_pool2d: ceil_mode=True is not implemented")
    windows, (kernel_size, _, padding) = _windows("avg_pool2d", input, kernel_size, stride, padding)
    total = ops.sum(windows, 2)                                                      # (N, C, oh, ow)
    if divisor_override is not None:
        _expect(int(divisor_override) > 0, f"avg_pool2d: divisor_override must be positive, got {divisor_override}")
        return total * (1.0 / int(divisor_override))
    if count_include_pad or not any(padding):
        return total * (1.0 / (kernel_size[0] * kernel_size[1]))
    ones = Tensor(input.xp.ones((1, 1) + tuple(input.shape[2:]), dtype=input.dtype))
    counts, _ = _windows("avg_pool2d", ones, kernel_size, stride, padding)
    return total / ops.sum(counts, 2).detach()


@_unbatched
def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor:
    r"""Largest value in each ``kernel_size`` window, as ``torch.nn.functional.max_pool2d``.

    .. math:: y_{n,c,i,j} = \max_{(a,b) \in W_{ij}} x_{n,c,\,s_h i + d_h a - p_h,\, s_w j + d_w b - p_w}

    with :math:`-\infty` padding (a pad never wins). ``stride`` defaults to
    ``kernel_size``. VJP: :math:`\bar y_{ij}` goes to the entry of the window
    that attains the maximum, and the windows are added up (``fold``). At a tie
    minigan splits it equally among the tied entries (the VJP of ``max``),
    where PyTorch gives it all to one; the two agree wherever the maximum is unique.
    Input and output ``(N, C, H, W)`` or ``(C, H, W)``; ``ceil_mode`` and ``return_indices`` are not implemented.
    """
    if ceil_mode:
        raise NotImplementedError("max_pool2d: ceil_mode=True is not implemented")
    if return_indices:
        raise NotImplementedError("max_pool2d: return_indices=True is not implemented")
    windows, _ = _windows("max_pool2d", input, kernel_size, stride, padding, dilation, fill=-math.inf)
    return ops.amax(windows, 2)


def _averaging_matrix(size: int, out: int, dtype) -> np.ndarray:
    """``(out, size)`` rows averaging ``x[floor(i*size/out) : ceil((i+1)*size/out)]``: PyTorch's adaptive bins."""
    a = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        start, stop = (i * size) // out, -((-(i + 1) * size) // out)
        a[i, start:stop] = 1.0 / (stop - start)
    return a


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    r"""Average pooling to a fixed ``output_size``, as ``torch.nn.functional.adaptive_avg_pool2d``.

    Output row :math:`i` averages input rows :math:`\lfloor iH/H_o \rfloor` to
    :math:`\lceil (i+1)H/H_o \rceil - 1` (likewise for columns), for any output size,
    dividing the input or not. With those averages as matrices :math:`A_h` (:math:`H_o \times H`)
    and :math:`A_w` (:math:`W_o \times W`):

    .. math:: y_{n,c} = A_h\, x_{n,c}\, A_w^\top, \qquad \bar x_{n,c} = A_h^\top\, \bar y_{n,c}\, A_w.

    ``output_size`` is an int, a pair, or a pair with ``None`` for "keep the input size";
    input ``(N, C, H, W)`` (or ``(C, H, W)``), output ``(N, C, H_o, W_o)``.
    """
    _expect(input.ndim in (3, 4), f"adaptive_avg_pool2d: expected a 3-D or 4-D input (N, C, H, W), "
                                  f"got a {input.ndim}-D input of shape {tuple(input.shape)}")
    h, w = input.shape[-2:]
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    _expect(len(sizes) == 2, f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}")
    oh, ow = (s if o is None else int(o) for o, s in zip(sizes, (h, w)))
    _expect(oh >= 1 and ow >= 1 and h >= 1 and w >= 1,
            f"adaptive_avg_pool2d: output_size {(oh, ow)} and input size {(h, w)} must be positive")
    a_h = Tensor(input.xp.asarray(_averaging_matrix(h, oh, input.dtype)))
    a_wt = Tensor(input.xp.asarray(_averaging_matrix(w, ow, input.dtype).T.copy()))
    return a_h @ (input @ a_wt)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    r"""Rearrange ``(N, C r^2, H, W)`` into ``(N, C, H r, W r)`` (Shi et al. 2016),
    as ``torch.nn.functional.pixel_shuffle``.

    .. math:: y_{n,\,c,\,h r + i,\,w r + j} = x_{n,\,c r^2 + i r + j,\,h,\,w}

    a reshape to ``(N, C, r, r, H, W)``, a permute to ``(N, C, H, r, W, r)`` and
    a reshape; the VJP is the inverse permutation, :func:`pixel_unshuffle`.

    References
    ----------
    Shi et al., "Real-Time Single Image and Video Super-Resolution Using an
    Efficient Sub-Pixel Convolutional Neural Network", CVPR 2016.
    """
    _expect_4d("pixel_shuffle", input)
    r = int(upscale_factor)
    n, c, h, w = input.shape
    _expect(r >= 1 and c % (r * r) == 0,
            f"pixel_shuffle: the number of channels {c} must be divisible by upscale_factor**2 = {r * r}")
    c //= r * r
    return input.reshape(n, c, r, r, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c, h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    r"""The inverse of :func:`pixel_shuffle`: ``(N, C, H r, W r)`` -> ``(N, C r^2, H, W)``,
    as ``torch.nn.functional.pixel_unshuffle``:
    :math:`y_{n,\,c r^2 + i r + j,\,h,\,w} = x_{n,\,c,\,h r + i,\,w r + j}`."""
    _expect_4d("pixel_unshuffle", input)
    r = int(downscale_factor)
    n, c, h, w = input.shape
    _expect(r >= 1 and h % r == 0 and w % r == 0,
            f"pixel_unshuffle: height {h} and width {w} must be divisible by downscale_factor {r}")
    h, w = h // r, w // r
    return input.reshape(n, c, h, r, w, r).permute(0, 1, 3, 5, 2, 4).reshape(n, c * r * r, h, w)


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    r"""Instance normalisation (Ulyanov et al. 2016), as ``torch.nn.functional.instance_norm``.

    Each sample's each channel is standardised over its own spatial axes,

    .. math:: \hat x_{n,c} = \frac{x_{n,c} - \mu_{n,c}}{\sqrt{\sigma^2_{n,c} + \epsilon}}, \qquad
              y_{n,c} = \gamma_c \hat x_{n,c} + \beta_c,

    with the biased variance (the fused ``standardize`` primitive, whose VJP is
    :math:`\bar x = (\bar{\hat x} - \mathrm{mean}(\bar{\hat x})
    - \hat x\,\mathrm{mean}(\bar{\hat x} \odot \hat x))/\sqrt{\sigma^2_{n,c} + \epsilon}`).
    Given ``running_mean`` and ``running_var``, ``use_input_stats=True`` also
    updates them in place with the batch averages of the instance statistics,
    :math:`r_\mu \leftarrow (1 - \omega) r_\mu + \omega\,\mathbb E_n \mu_{n,c}` and
    :math:`r_{\sigma^2} \leftarrow (1 - \omega) r_{\sigma^2} + \omega\,\mathbb E_n \sigma^2_{n,c} \tfrac{k}{k-1}`
    (momentum :math:`\omega`, :math:`\mathbb E_n` the mean over the batch; unbiased, :math:`k` pixels per
    channel); ``use_input_stats=False`` normalises
    with them instead, :math:`\hat x = (x - r_\mu)/\sqrt{r_{\sigma^2} + \epsilon}`, a fixed affine map.
    Input ``(N, C, ...)`` with at least one spatial axis.

    References
    ----------
    Ulyanov, Vedaldi & Lempitsky, "Instance Normalization: The Missing Ingredient
    for Fast Stylization", arXiv:1607.08022, 2016.
    """
    _expect(input.ndim >= 3, f"instance_norm: expected input of shape (N, C, ...) with spatial axes, "
                             f"got {tuple(input.shape)}")
    c = input.shape[1]
    shape = (1, c) + (1,) * (input.ndim - 2)
    for name, p in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if p is not None:
            if p.dtype != input.dtype:
                raise TypeError(f"instance_norm: input has dtype {input.dtype} but {name} has dtype {p.dtype}")
            _expect(p.shape == (c,), f"instance_norm: {name} must have shape ({c},) for input "
                                     f"{tuple(input.shape)}, got {tuple(p.shape)}")
    axes = tuple(range(2, input.ndim))
    if use_input_stats:
        count = math.prod(input.shape[2:])
        _expect(count > 1, f"instance_norm: expected more than 1 spatial element per channel, got input of shape "
                           f"{tuple(input.shape)}")
        out = standardize(input, axes, eps)
        if running_mean is not None and running_var is not None:
            with no_grad():
                mu, var = batch_statistics(input.array, axes)                          # (N, C, 1, ...) each
                m = input.dtype.type(momentum)
                mu = mu.reshape(input.shape[0], c).mean(axis=0).astype(input.dtype, copy=False)
                var = (var.reshape(input.shape[0], c).mean(axis=0) * (count / (count - 1))).astype(input.dtype,
                                                                                                  copy=False)
                running_mean.array = (1 - m) * running_mean.array + m * mu
                running_var.array = (1 - m) * running_var.array + m * var
    else:
        _expect(running_mean is not None and running_var is not None,
                "instance_norm: use_input_stats=False needs running_mean and running_var")
        out = (input - running_mean.reshape(shape)) / ops.sqrt(running_var.reshape(shape) + eps)
    return scale_shift(out, weight, bias, shape)


def scale_shift(xhat: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple) -> Tensor:
    r"""The normalisation layers' per-channel affine :math:`\gamma \hat x + \beta` (either may be None), with
    ``weight`` and ``bias`` reshaped to ``shape``; gradients :math:`\bar\gamma = \sum \bar y \hat x`,
    :math:`\bar\beta = \sum \bar y`, :math:`\bar{\hat x} = \gamma \bar y` follow from the product and sum."""
    if weight is not None:
        xhat = xhat * weight.reshape(shape)
    if bias is not None:
        xhat = xhat + bias.reshape(shape)
    return xhat
