r"""Functional forms of the layers, as ``torch.nn.functional``.

Each is a short composite of primitives from :mod:`minigan.ops`, so its
gradient, and its second derivative, follow from theirs. The formulas are
stated once here; ``docs/layers.md`` derives them.

Errors: a shape that does not fit raises ``ValueError``; an input whose dtype
differs from a parameter's (weight, bias, running statistics) raises
``TypeError``. As in PyTorch, nothing is promoted: a float64 batch through a
float32 layer would otherwise compute in float64 and leave float64 running
statistics in the model's state.
"""

from __future__ import annotations

import math

import numpy as np

from minigan import ops
from minigan.ops import convolution
from minigan.autograd import Tensor, no_grad
from minigan.autograd.creation import Generator, rand
from minigan.kernels import array_module
from minigan.kernels.reference import conv_output_size
from minigan.nn.resize import interpolate
from minigan.nn.spatial import (adaptive_avg_pool2d, avg_pool2d, instance_norm, max_pool2d, pixel_shuffle,
                               pixel_unshuffle, scale_shift)
from minigan.ops import (binary_cross_entropy_with_logits, fold, leaky_relu, log_sigmoid, log_softmax, pad, relu,
                         sigmoid, softmax, softplus, tanh, unfold)
from minigan.ops.conv import pair
from minigan.ops.normalization import batch_statistics, standardize

__all__ = [
    "avg_pool2d", "max_pool2d", "adaptive_avg_pool2d", "pixel_shuffle", "pixel_unshuffle", "instance_norm",
    "linear", "conv2d", "conv_transpose2d", "batch_norm", "layer_norm", "dropout", "embedding", "one_hot",
    "interpolate", "pad", "unfold", "fold", "relu", "leaky_relu", "prelu", "tanh", "sigmoid", "softplus",
    "log_sigmoid", "log_softmax", "softmax", "cross_entropy", "nll_loss",
    "binary_cross_entropy_with_logits", "binary_cross_entropy", "mse_loss", "l1_loss", "dropout2d",
]


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _same_dtype(op: str, x, **params) -> None:
    """Raise ``TypeError`` unless every given parameter (``None`` ones skipped) has the dtype of the input ``x``.

    The message names both dtypes and the conversions that make them agree.
    """
    for name, p in params.items():
        if p is not None and p.dtype != x.dtype:
            raise TypeError(f"{op}: input has dtype {x.dtype} but {name} has dtype {p.dtype}; "
                            f"convert one of them ({_conversions(x.dtype, p.dtype)})")


def _conversions(have, want) -> str:
    """How to make an input of dtype ``have`` and a model of dtype ``want`` agree, as code to type."""
    methods = {"float32": ".float()", "float64": ".double()"}
    to_input = f"x.astype(np.{want.name}) / x{methods.get(want.name, f'.to(np.{want.name})')}"
    if have.kind != "f":  # integer or bool input: only the input can change
        return to_input
    return f"model{methods.get(have.name, f'.to(dtype=np.{have.name})')}, or {to_input}"


def _expect_4d(op: str, x: Tensor, layout: str) -> None:
    """An image batch ``(N, C, H, W)``; a single ``(C, H, W)`` image is told how to add the batch dimension."""
    hint = "; for a single image add the batch dimension: x[None] or x.unsqueeze(0)" if x.ndim == 3 else ""
    _expect(x.ndim == 4, f"{op}: expected a 4-D input {layout}, got a {x.ndim}-D input of shape {tuple(x.shape)}{hint}")


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    r""":math:`y = x W^\top + b` with ``weight`` of shape ``(out, in)``.

    Gradients: :math:`\bar x = \bar y W`, :math:`\bar W = \bar y^\top x`,
    :math:`\bar b = \sum_n \bar y_n` (with a bias, one fused primitive, :func:`minigan.ops.affine`).
    """
    _same_dtype("linear", input, weight=weight, bias=bias)
    _expect(input.ndim >= 1 and input.shape[-1] == weight.shape[1],
            f"linear: input of shape {input.shape} needs last dimension {weight.shape[1]} "
            f"for a weight of shape {weight.shape}")
    if bias is None:
        return input @ weight.T
    _expect(bias.shape == weight.shape[:1], f"linear: bias of shape {bias.shape} for a weight of shape {weight.shape}; "
                                            f"expected {weight.shape[:1]}")
    return ops.affine(input, weight, bias)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,  # noqa: A002
           dilation=1, groups: int = 1) -> Tensor:
    r"""2-D cross-correlation, as ``torch.nn.functional.conv2d``, built as im2col + matmul.

    With :math:`X = \mathrm{im2col}(x)` of shape ``(C*kh*kw, N*L)`` (the
    ``unfold`` columns of all images side by side) and :math:`W` reshaped to
    ``(O, C*kh*kw)``, each of these is one matrix product:

    .. math:: y = W X + b, \quad \bar X = W^\top \bar y, \quad \bar x = \mathrm{col2im}(\bar X),
              \quad \bar W = \bar y X^\top

    ``input`` is ``(N, C, H, W)``, ``weight`` ``(O, C, kh, kw)``; the output is
    ``(N, O, H_out, W_out)``. A kernel that covers the unpadded image (a
    DCGAN discriminator's last layer) has one position: then :math:`X^\top` is
    the batch flattened to ``(N, C*H*W)``, and :math:`y = X^\top W^\top` needs no im2col.
    Otherwise the convolution is one primitive (:mod:`minigan.ops.convolution`) that keeps
    :math:`x`, not :math:`X`, for backward.
    """
    _expect(groups == 1, "conv2d: only groups=1 is implemented")
    _expect_4d("conv2d", input, "(N, C, H, W)")
    _expect(weight.ndim == 4, f"conv2d: expected a 4-D weight (O, C, kh, kw), got shape {weight.shape}")
    _expect(input.shape[1] == weight.shape[1],
            f"conv2d: input {input.shape} (N, C, H, W) and weight {weight.shape} (O, C, kh, kw) "
            "must agree on C")
    _same_dtype("conv2d", input, weight=weight, bias=bias)
    n, _, h, w = input.shape
    out_channels, _, kh, kw = weight.shape
    stride, padding, dilation = pair(stride, "stride"), pair(padding, "padding"), pair(dilation, "dilation")
    oh = conv_output_size(h, kh, dilation[0], padding[0], stride[0])
    ow = conv_output_size(w, kw, dilation[1], padding[1], stride[1])
    _expect(oh >= 1 and ow >= 1, f"conv2d: input {input.shape} is smaller than the dilated kernel "
                                 f"{(kh, kw)} (dilation {dilation}, padding {padding})")
    if (kh, kw) == (h, w) and padding == (0, 0) and dilation == (1, 1):  # one position: a dense layer, no copies
        return linear(input.reshape(n, -1), weight.reshape(out_channels, -1), bias).reshape(n, out_channels, 1, 1)
    return convolution.conv2d(input, weight, bias, stride, padding, dilation, (oh, ow))


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,  # noqa: A002
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    r"""Transposed convolution, as ``torch.nn.functional.conv_transpose2d``: the adjoint of conv2d.

    With ``weight`` of shape ``(C_in, C_out, kh, kw)`` reshaped to
    :math:`W` ``(C_in, C_out*kh*kw)`` and :math:`x` to ``(C_in, N*H*W)``:

    .. math:: y = \mathrm{col2im}(W^\top x) + b

    the transpose of ``conv2d`` with the same weight, so
    :math:`\langle \mathrm{conv2d}(z, W), x\rangle = \langle z, \mathrm{conv\_transpose2d}(x, W)\rangle`.
    A ``1x1`` input without padding or dilation (a DCGAN generator's first
    layer) spreads one position over the whole kernel: :math:`y = x W`, with :math:`x`
    ``(N, C_in)`` and :math:`y` reshaped from ``(N, C_out*kh*kw)``, no col2im.
    Output size :math:`(H - 1)s - 2p + d(k - 1) + p_{out} + 1`, with :math:`p_{out} < \max(s, d)` as torch.
    """
    _expect(groups == 1, "conv_transpose2d: only groups=1 is implemented")
    _expect_4d("conv_transpose2d", input, "(N, C_in, H, W)")
    _expect(weight.ndim == 4,
            f"conv_transpose2d: expected a 4-D weight (C_in, C_out, kh, kw), got shape {weight.shape}")
    _expect(input.shape[1] == weight.shape[0],
            f"conv_transpose2d: input {input.shape} (N, C_in, H, W) and weight {weight.shape} "
            "(C_in, C_out, kh, kw) must agree on C_in")
    _same_dtype("conv_transpose2d", input, weight=weight, bias=bias)
    n, c_in, h, w = input.shape
    _, c_out, kh, kw = weight.shape
    stride, padding, dilation = pair(stride, "stride"), pair(padding, "padding"), pair(dilation, "dilation")
    output_padding = pair(output_padding, "output_padding")
    _expect(all(0 <= op < max(s, d) for op, s, d in zip(output_padding, stride, dilation)),
            f"conv_transpose2d: output_padding {output_padding} must be smaller than stride {stride} "
            f"or dilation {dilation}")
    full = tuple((h_ - 1) * s + d * (k - 1) + 1 for h_, s, d, k in zip((h, w), stride, dilation, (kh, kw)))
    size = tuple(f - 2 * p + op for f, p, op in zip(full, padding, output_padding))
    _expect(size[0] >= 1 and size[1] >= 1, f"conv_transpose2d: output size {size} is not positive")
    if (h, w) == (1, 1) and padding == (0, 0) and output_padding == (0, 0) and dilation == (1, 1):
        out = (input.reshape(n, c_in) @ weight.reshape(c_in, -1)).reshape(n, c_out, *size)  # a dense layer
        return out if bias is None else out + bias.reshape(1, -1, 1, 1)
    if all(op < s for op, s in zip(output_padding, stride)):  # one primitive, which keeps no columns
        return convolution.conv_transpose2d(input, weight, bias, stride, padding, dilation, size)
    # stride <= output_padding < dilation: fold onto the whole canvas, then cut the padding off
    x = ops.conv.im2col(input, 1)                                               # (C_in, N*H*W): a transpose
    cols = weight.reshape(c_in, -1).T @ x                                       # (C_out*kh*kw, N*H*W)
    (ph, pw), (oh, ow) = padding, size
    canvas = ops.conv.col2im(cols, full, (kh, kw), dilation, 0, stride)         # (N, C_out, *full)
    canvas = pad(canvas, (0, max(0, pw + ow - full[1]), 0, max(0, ph + oh - full[0])))  # zero rows past it
    out = canvas[:, :, ph:ph + oh, pw:pw + ow]
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


def _channel_shape(x: Tensor) -> tuple[int, ...]:
    """Shape that broadcasts a per-channel vector against ``(N, C, ...)``."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float | None = 0.1, eps: float = 1e-5) -> Tensor:
    r"""Batch normalisation (Ioffe & Szegedy 2015), as ``torch.nn.functional.batch_norm``.

    Training: :math:`y = \gamma \hat x + \beta` with :math:`\hat x` standardised by the
    batch statistics over every axis but the channel axis 1 (one fused primitive with
    its affine map, see :mod:`minigan.ops.normalization`); the running statistics are updated in
    place, the variance unbiased: :math:`r \leftarrow (1 - \omega) r + \omega\,\sigma^2 \tfrac{\nu}{\nu-1}`
    (momentum :math:`\omega`, :math:`\nu` values per channel).
    ``momentum=None`` gives the cumulative average (handled by the module).
    Evaluation: :math:`\hat x = (x - r_\mu)/\sqrt{r_{\sigma^2} + \epsilon}`, a fixed affine map.
    """
    _expect(input.ndim >= 2, f"batch_norm: expected input of shape (N, C, ...), got {input.shape}")
    _same_dtype("batch_norm", input, weight=weight, bias=bias, running_mean=running_mean, running_var=running_var)
    axes = (0,) + tuple(range(2, input.ndim))
    shape = _channel_shape(input)
    if not training:
        _expect(running_mean is not None and running_var is not None,
                "batch_norm: evaluation mode needs running_mean and running_var")
        xhat = (input - running_mean.reshape(shape)) / ops.sqrt(running_var.reshape(shape) + eps)
        return scale_shift(xhat, weight, bias, shape)
    count = input.numel() // input.shape[1]
    _expect(count > 1, f"batch_norm: expected more than 1 value per channel when training, "
                       f"got input of shape {input.shape}")
    if weight is not None and bias is not None:  # the usual case: one fused primitive
        out, mu, var = ops.normalization.batch_norm_training(input, weight, bias, eps)
    else:
        out = scale_shift(standardize(input, axes, eps), weight, bias, shape)
        mu, var = batch_statistics(input.array, axes)
    if running_mean is not None and running_var is not None:
        with no_grad():
            m = input.dtype.type(momentum)
            # the kernels may accumulate in a wider dtype; the statistics keep the model's
            running_mean.array = (1 - m) * running_mean.array + m * mu.reshape(-1).astype(input.dtype, copy=False)
            unbiased = var.reshape(-1) * (count / (count - 1))
            running_var.array = (1 - m) * running_var.array + m * unbiased.astype(input.dtype, copy=False)
    return out


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    r"""Layer normalisation (Ba et al. 2016): standardise over the trailing ``normalized_shape`` axes,
    then :math:`y = \gamma \hat x + \beta` elementwise (same fused primitive as batch norm)."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    _expect(input.shape[input.ndim - k:] == normalized_shape,
            f"layer_norm: input of shape {input.shape} does not end in normalized_shape {normalized_shape}")
    _same_dtype("layer_norm", input, weight=weight, bias=bias)
    out = standardize(input, tuple(range(input.ndim - k, input.ndim)), eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def dropout(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
            generator: Generator | None = None) -> Tensor:
    r"""Inverted dropout, in training only: :math:`y = x \odot z / (1 - p)`, :math:`z_i \sim \mathrm{Bernoulli}(1 - p)`.

    Its gradient is the same mask: :math:`\bar x = \bar y \odot z / (1 - p)`.
    """
    _expect(0 <= p <= 1, f"dropout: probability must be in [0, 1], got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    keep = rand(input.shape, generator=generator).array >= p
    keep = Tensor(input.xp.asarray(keep, dtype=input.dtype) / input.dtype.type(1 - p))
    return input * keep


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """Integer classes ``(...)`` as int64 indicator vectors ``(..., num_classes)``, outside the graph (as torch).

    ``num_classes=-1`` takes one more than the largest class.
    """
    idx = tensor.array if isinstance(tensor, Tensor) else np.asarray(tensor)
    _expect(idx.dtype.kind in "iu", f"one_hot: classes must be integers, got dtype {idx.dtype}")
    n = int(idx.max()) + 1 if num_classes == -1 and idx.size else max(num_classes, 0)
    if idx.size:
        _expect(0 <= int(idx.min()) and int(idx.max()) < n,
                f"one_hot: classes must lie in [0, {n}), got [{idx.min()}, {idx.max()}]")
    xp = array_module(idx)
    return Tensor((idx[..., None] == xp.arange(n)).astype(np.int64))


def embedding(input, weight: Tensor) -> Tensor:  # noqa: A002
    r"""Rows of ``weight`` picked by integer ``input``: :math:`y = W[i]`; :math:`\bar W` scatter-adds :math:`\bar y`."""
    idx = input.array if isinstance(input, Tensor) else weight.xp.asarray(input)
    _expect(idx.dtype.kind in "iu", f"embedding: indices must be integers, got dtype {idx.dtype}")
    if idx.size:
        _expect(0 <= int(idx.min()) and int(idx.max()) < weight.shape[0],
                f"embedding: indices must lie in [0, {weight.shape[0]}), got [{idx.min()}, {idx.max()}]")
    return ops.getitem(weight, index=(idx,))


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    r"""Parametric ReLU (He et al. 2015): :math:`y = x` for :math:`x > 0`, else :math:`a_c x`, a learned slope.

    ``weight`` holds the slopes :math:`a`, ``(1,)`` (one for every value) or
    ``(C,)`` (one per channel, dimension 1 of ``input``, as PyTorch). Written
    as :math:`y = r + a\,(x - r)` with :math:`r = \mathrm{ReLU}(x)`, so that

    .. math:: \bar x = \bar y \odot \bigl([x > 0] + a\,[x \le 0]\bigr), \qquad
              \bar a_c = \textstyle\sum_{i \in c} \bar y_i \min(x_i, 0)

    follow from the primitives (not differentiable in :math:`x` at 0).
    """
    _expect(weight.ndim == 1, f"prelu: weight must be 1-D (1,) or (C,), got shape {tuple(weight.shape)}")
    _same_dtype("prelu", input, weight=weight)
    count = weight.shape[0]
    if count != 1:
        channels = input.shape[1] if input.ndim >= 2 else None
        _expect(channels == count, f"prelu: {count} slopes need an input with {count} channels on dimension 1, got "
                                   f"shape {tuple(input.shape)}")
    slope = weight.reshape(()) if count == 1 else weight.reshape((1, count) + (1,) * (input.ndim - 2))
    r = relu(input)
    return r + slope * (input - r)


def _reduce(loss: Tensor, reduction: str, name: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    _expect(reduction == "none", f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return loss


def _like(input: Tensor, value) -> Tensor:  # noqa: A002
    """``value`` as a tensor; arrays and numbers take the dtype and device of ``input``."""
    return value if isinstance(value, Tensor) else Tensor(input.xp.asarray(value, dtype=input.dtype))


def _same_shape(input: Tensor, target, name: str) -> Tensor:  # noqa: A002
    target = _like(input, target)
    _expect(target.shape == input.shape, f"{name}: target shape {target.shape} != input shape {input.shape}")
    return target


def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:  # noqa: A002
    r""":math:`\ell_i = (x_i - t_i)^2`; :math:`\bar x_i = 2\bar\ell_i (x_i - t_i)`."""
    diff = input - _same_shape(input, target, "mse_loss")
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:  # noqa: A002
    r""":math:`\ell_i = |x_i - t_i|`."""
    return _reduce(ops.abs(input - _same_shape(input, target, "l1_loss")), reduction, "l1_loss")


def _clamped_log(p: Tensor) -> Tensor:
    r""":math:`\max(\log p, -100)`; its gradient is 0, not NaN, where the clamp binds (:math:`p \le e^{-100}`)."""
    live = p.array > math.exp(-100)
    return ops.where(live, ops.log(ops.where(live, p, 1.0)), -100.0)


def binary_cross_entropy(input: Tensor, target, weight=None, reduction: str = "mean") -> Tensor:  # noqa: A002
    r"""BCE on probabilities: :math:`\ell_i = -[t_i \log p_i + (1 - t_i)\log(1 - p_i)]`, logs clamped at -100 as torch.

    Prefer :func:`binary_cross_entropy_with_logits`, which is exact for any logit.
    """
    target = _same_shape(input, target, "binary_cross_entropy")
    loss = -(target * _clamped_log(input) + (1 - target) * _clamped_log(1 - input))
    return _reduce(loss if weight is None else loss * _like(input, weight), reduction, "binary_cross_entropy")


def _no_legacy(name: str, size_average, reduce) -> None:
    if size_average is not None or reduce is not None:
        raise NotImplementedError(f"{name}: size_average and reduce are deprecated in PyTorch and not supported; "
                                  "use reduction='mean', 'sum' or 'none'")


def _class_targets(name: str, input: Tensor, target):
    """Integer class indices ``(N, d1, ...)`` for an input ``(N, C, d1, ...)``, as a raw array."""
    t = target.array if isinstance(target, Tensor) else input.xp.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {t.dtype}")
    _expect(input.ndim >= 2 and t.shape == input.shape[:1] + input.shape[2:],
            f"{name}: input of shape {input.shape} (N, C, ...) needs a target of shape "
            f"{input.shape[:1] + input.shape[2:]}, got {t.shape}")
    return t


def nll_loss(input: Tensor, target, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    r"""Negative log-likelihood of integer classes, as ``torch.nn.functional.nll_loss``.

    .. math:: \ell_n = -w_{t_n}\, x_{n, t_n}\, [t_n \ne \text{ignore\_index}]

    ``input`` ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)`` holds log-probabilities;
    ``target`` ``(N,)``, ``(N, d1, ...)`` or ``()`` class indices; ``weight`` ``(C,)``
    (all ones by default). ``reduction='mean'`` divides :math:`\sum_n \ell_n` by the
    weight of the counted targets, :math:`\sum_n w_{t_n}[t_n \ne \text{ignore\_index}]`
    (NaN when every target is ignored, as in torch).

    Gradient: a scatter of the picked entries,
    :math:`\bar x_{n,c} = -\bar\ell_n\, w_{t_n} [c = t_n \ne \text{ignore\_index}]`.
    """
    _no_legacy("nll_loss", size_average, reduce)
    _expect(reduction in ("mean", "sum", "none"),
            f"nll_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if input.ndim == 1:                                     # unbatched (C,) with a scalar target
        loss = nll_loss(input.reshape(1, -1), input.xp.asarray(target.array if isinstance(target, Tensor) else target)
                        .reshape(1), weight, None, ignore_index, None, reduction)
        return loss.reshape(()) if reduction == "none" else loss
    t = _class_targets("nll_loss", input, target)
    xp, n_classes = input.xp, input.shape[1]
    counted = t != ignore_index
    live = t[counted]
    if live.size and (live.min() < 0 or live.max() >= n_classes):
        raise IndexError(f"nll_loss: target values must lie in [0, {n_classes}) or equal ignore_index={ignore_index}, "
                         f"got [{live.min()}, {live.max()}]")
    safe = xp.where(counted, t, 0)
    grids = xp.meshgrid(*[xp.arange(s) for s in t.shape], indexing="ij")
    picked = ops.getitem(input, index=(grids[0], safe, *grids[1:]))     # x_{n, t_n}, shape of target
    w = Tensor(xp.asarray(counted, dtype=input.dtype))
    if weight is not None:
        weight = _like(input, weight)
        _expect(weight.shape == (n_classes,), f"nll_loss: weight must have shape ({n_classes},), got {weight.shape}")
        w = ops.getitem(weight, index=(safe,)) * w
    loss = -(picked * w)
    return loss.sum() / w.sum() if reduction == "mean" else _reduce(loss, reduction, "nll_loss")


def cross_entropy(input: Tensor, target, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    r"""Softmax cross-entropy, as ``torch.nn.functional.cross_entropy``, over the class dimension 1 (0 if unbatched).

    With class indices :math:`t_n` and smoothing :math:`\varepsilon` over :math:`C` classes,

    .. math:: \ell_n = (1 - \varepsilon)\,\mathrm{NLL}_n + \frac{\varepsilon}{C}\sum_c -w_c \log\mathrm{softmax}(x_n)_c,

    both terms reduced as :func:`nll_loss` (``'mean'`` divides by the counted weight).
    With class probabilities (a float ``target`` of the input's shape),
    :math:`\ell_n = -\sum_c w_c\, \tilde t_{n,c} \log\mathrm{softmax}(x_n)_c`,
    :math:`\tilde t = (1 - \varepsilon) t + \varepsilon / C`, and ``'mean'`` divides by :math:`N`.

    A composite of the fused ``log_softmax`` and a gather, so stable for any logit;
    without weights or smoothing its gradient is :math:`\bar x_n = \bar\ell_n(\mathrm{softmax}(x_n) - e_{t_n})`.
    """
    _no_legacy("cross_entropy", size_average, reduce)
    _expect(0.0 <= label_smoothing <= 1.0, f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    _expect(reduction in ("mean", "sum", "none"),
            f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    logp = log_softmax(input, dim=class_dim)
    if weight is not None:
        weight = _like(input, weight)
        _expect(weight.shape == (n_classes,),
                f"cross_entropy: weight must have shape ({n_classes},), got {weight.shape}")
    per_class = logp if weight is None else logp * weight.reshape((n_classes,) + (1,) * (input.ndim - class_dim - 1))
    t = target.array if isinstance(target, Tensor) else input.xp.asarray(target)
    if t.dtype.kind == "f":                                 # class probabilities
        _expect(t.shape == input.shape,
                f"cross_entropy: probability target shape {t.shape} != input shape {input.shape}")
        _expect(ignore_index < 0, "cross_entropy: ignore_index is not supported for class-probability targets")
        probs = _like(input, target)
        if label_smoothing:
            probs = probs * (1 - label_smoothing) + label_smoothing / n_classes
        loss = -ops.sum(per_class * probs, class_dim)
        return loss.sum() / (input.numel() // n_classes) if reduction == "mean" else _reduce(loss, reduction, "")
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if not label_smoothing:
        return nll
    counted = t != ignore_index
    smooth = -ops.sum(per_class, class_dim) * Tensor(input.xp.asarray(counted, dtype=input.dtype))
    if reduction == "mean":
        safe = input.xp.where(counted, t, 0)
        total = counted.sum() if weight is None else (ops.getitem(weight, index=(safe,)) * Tensor(
            input.xp.asarray(counted, dtype=input.dtype))).sum()
        smooth = smooth.sum() / total
    else:
        smooth = _reduce(smooth, reduction, "cross_entropy")
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / n_classes)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
              *, generator: Generator | None = None) -> Tensor:
    r"""Channel dropout, in training only: whole feature maps are zeroed.

    .. math:: y_{n,c,h,w} = x_{n,c,h,w}\, z_{n,c} / (1 - p), \qquad z_{n,c} \sim \mathrm{Bernoulli}(1 - p)

    for ``(N, C, H, W)``; a 3-D input is read as ``(N, C, L)`` (as torch does), one
    draw per ``(n, c)``. Gradient: the same mask, :math:`\bar x = \bar y \odot z / (1 - p)`.
    ``inplace`` is accepted and ignored: the result is always a new tensor.
    """
    _expect(0 <= p <= 1, f"dropout2d: probability must be in [0, 1], got {p}")
    _expect(input.ndim in (3, 4), f"dropout2d: expected a 4-D input (N, C, H, W) or 3-D (N, C, L), "
                                  f"got a {input.ndim}-D input of shape {tuple(input.shape)}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    mask_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)     # (N, C, 1, 1): one draw per channel
    keep = rand(mask_shape, generator=generator).array >= p
    keep = Tensor(input.xp.asarray(keep, dtype=input.dtype) / input.dtype.type(1 - p))
    return input * keep
