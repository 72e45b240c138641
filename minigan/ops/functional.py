r"""Fused, numerically stable primitives for classification losses.

Written as single primitives with closed-form gradients because their naive
compositions overflow: :math:`\log\sum e^{x}` for large logits,
:math:`\log(1 + e^{x})` for :math:`x > 88` in float32.
"""

from __future__ import annotations

from minigan.autograd import Tensor, primitive
from minigan import kernels
from minigan.kernels import array_module
from minigan.ops.elementwise import exp, sigmoid, softplus
from minigan.ops.reduce import mean, sum
from minigan.ops.shape import getitem

__all__ = ["log_softmax", "softmax", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss"]


def _stable_log_softmax(x, axis):
    xp = array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


@primitive(name="log_softmax")
def _log_softmax(x, *, axis):
    r""":math:`y_i = x_i - \log\sum_j e^{x_j}` along ``axis``.

    VJP: :math:`\bar x_i = \bar y_i - e^{y_i} \sum_j \bar y_j` (since
    :math:`\partial y_i / \partial x_k = \delta_{ik} - \mathrm{softmax}(x)_k`).
    """
    return _stable_log_softmax(x, axis)


@_log_softmax.vjp
def _(g, y, x, *, axis):
    return g - exp(y) * sum(g, axis, keepdims=True)


@primitive(name="softmax")
def _softmax(x, *, axis):
    r""":math:`y_i = e^{x_i} / \sum_j e^{x_j}` along ``axis``.

    VJP: :math:`\bar x = y \odot (\bar y - \sum_j \bar y_j y_j)`.
    """
    return array_module(x).exp(_stable_log_softmax(x, axis))


@_softmax.vjp
def _(g, y, x, *, axis):
    return y * (g - sum(g * y, axis, keepdims=True))


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Log of the softmax along ``dim``, stable for logits of any size."""
    return _log_softmax(x, axis=dim % x.ndim)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Softmax along ``dim``."""
    return _softmax(x, axis=dim % x.ndim)


@primitive(name="bce_with_logits")
def _bce_with_logits(x, t):
    r"""Per-element binary cross-entropy from a logit :math:`x` and target :math:`t \in [0, 1]`:

    .. math:: \ell = -t \log\sigma(x) - (1 - t)\log(1 - \sigma(x)) = \operatorname{softplus}(x) - t x

    evaluated with :func:`minigan.kernels.softplus`, finite for any :math:`x`.

    VJP: :math:`\bar x = \bar\ell\,(\sigma(x) - t)`, :math:`\bar t = -\bar\ell\, x`.
    """
    return kernels.softplus(x) - t * x


@_bce_with_logits.vjp
def _(g, loss, x, t):
    return (g * (sigmoid(x) - t) if x.requires_grad else None,
            -g * x if t.requires_grad else None)


def _reduce(loss: Tensor, reduction: str, name: str) -> Tensor:
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def binary_cross_entropy_with_logits(input: Tensor, target, weight=None, reduction: str = "mean",  # noqa: A002
                                     pos_weight=None) -> Tensor:
    r"""Binary cross-entropy on logits, as ``torch.nn.functional.binary_cross_entropy_with_logits``.

    .. math:: \ell_i = w_i\,[\operatorname{softplus}(x_i) - t_i x_i]

    ``pos_weight`` :math:`p` weighs positives: :math:`\ell_i = w_i[(1 + (p-1)t_i)\operatorname{softplus}(-x_i) + (1 - t_i)x_i]`.
    """
    target = target if isinstance(target, Tensor) else Tensor(input.xp.asarray(target, dtype=input.dtype))
    if target.shape != input.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target shape {target.shape} "
                         f"!= input shape {input.shape}")
    if pos_weight is None:
        loss = _bce_with_logits(input, target)
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus(-input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def nll_loss(log_probs: Tensor, target, reduction: str = "mean") -> Tensor:
    r"""Negative log-likelihood of integer classes: :math:`\ell_n = -\log p_{n, t_n}`.

    ``log_probs`` is ``(N, C)`` or ``(N, C, d1, ...)``; ``target`` holds class
    indices of shape ``(N,)`` or ``(N, d1, ...)``.
    """
    t = target.array if isinstance(target, Tensor) else log_probs.xp.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer class indices, got dtype {t.dtype}")
    if log_probs.ndim < 2 or t.shape != log_probs.shape[:1] + log_probs.shape[2:]:
        raise ValueError(f"nll_loss: input of shape {log_probs.shape} (N, C, ...) needs a target of shape "
                         f"{log_probs.shape[:1] + log_probs.shape[2:]}, got {t.shape}")
    n_classes = log_probs.shape[1]
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        raise IndexError(f"nll_loss: target values must lie in [0, {n_classes}), got [{t.min()}, {t.max()}]")
    xp = log_probs.xp
    grids = xp.meshgrid(*[xp.arange(s) for s in t.shape], indexing="ij")
    picked = getitem(log_probs, index=(grids[0], t, *grids[1:]))
    return _reduce(-picked, reduction, "nll_loss")


def cross_entropy(input: Tensor, target, reduction: str = "mean") -> Tensor:  # noqa: A002
    r"""Softmax cross-entropy with integer targets: :math:`\ell_n = -\log \mathrm{softmax}(x_n)_{t_n}`.

    The composite ``nll_loss(log_softmax(x))``: stable because log_softmax is
    fused, and its gradient :math:`\bar x_n = \bar\ell_n(\mathrm{softmax}(x_n) - e_{t_n})`
    follows from the two.
    """
    return nll_loss(log_softmax(input, dim=1), target, reduction)
