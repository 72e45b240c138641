r"""Standardisation over a set of axes: the fused core of batch norm and layer norm.

Over the :math:`\nu` entries that share a normalisation group,

.. math::

    \mu = \tfrac1\nu \textstyle\sum_i x_i, \quad
    \sigma^2 = \tfrac1\nu \textstyle\sum_i (x_i - \mu)^2, \quad
    \hat x_i = (x_i - \mu) / \sqrt{\sigma^2 + \epsilon}.

Its VJP, derived in ``docs/layers.md``, is

.. math::

    \bar x = \frac{1}{\sqrt{\sigma^2 + \epsilon}}
             \Bigl(\bar{\hat x} - \operatorname{mean}(\bar{\hat x})
                   - \hat x \odot \operatorname{mean}(\bar{\hat x} \odot \hat x)\Bigr)

with means over the group. Written in minigan ops, with :math:`\hat x` the
recorded output and :math:`\sigma` recomputed from ``x`` by ops, so the
second derivative (gradient penalties through batch norm) follows. When no
graph is being recorded (a first-order backward), the same formula runs as
one fused kernel instead.

Batch norm in training is one primitive with its affine map,
:math:`y = \gamma \hat x + \beta` per channel; with
:math:`\bar{\hat x} = \gamma \bar y` the VJP is the one above plus
:math:`\bar\gamma = \sum \bar y \hat x` and :math:`\bar\beta = \sum \bar y`.
Its forward takes the batch statistics from the caller, who needs them
anyway for the running averages, so they are computed once per call.
"""

from __future__ import annotations

from minigan import kernels
from minigan.autograd import Tensor, is_grad_enabled, primitive
from minigan.ops.elementwise import sqrt
from minigan.ops.reduce import mean, sum
from minigan.ops.shape import reshape

__all__ = ["standardize", "batch_statistics", "batch_norm_training"]


def batch_statistics(x, axes: tuple[int, ...]):
    """Mean and biased variance of an array over ``axes`` (kept as size-1 axes)."""
    return kernels.moments(x, axes)


@primitive
def _standardize(x, *, axes, eps):
    r""":math:`\hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}` over ``axes``; VJP in the module docstring."""
    return kernels.standardize(x, axes, eps)


@_standardize.vjp
def _(g, xhat, x, *, axes, eps):
    if not is_grad_enabled():  # first order: nothing will differentiate this gradient again
        return Tensor(kernels.standardize_backward(g.array, xhat.array, x.array, axes, eps))
    centred = x - mean(x, axes, keepdims=True)
    sigma = sqrt(mean(centred * centred, axes, keepdims=True) + eps)
    return (g - mean(g, axes, keepdims=True) - xhat * mean(g * xhat, axes, keepdims=True)) / sigma


def standardize(x: Tensor, axes: tuple[int, ...], eps: float = 1e-5) -> Tensor:
    r"""Zero mean, unit (biased) variance over ``axes``: batch norm's and layer norm's :math:`\hat x`."""
    return _standardize(x, axes=tuple(a % x.ndim for a in axes), eps=float(eps))


@primitive(name="batch_norm")
def _batch_norm(x, weight, bias, *, eps, mean, inv_std):
    r""":math:`y = \gamma (x - \mu) s + \beta` along axis 1, with the batch statistics :math:`\mu` = ``mean`` and
    :math:`s = 1/\sqrt{\sigma^2 + \epsilon}` = ``inv_std`` as ``(C,)`` arrays; VJP in the module docstring."""
    return kernels.batch_norm(x, weight, bias, mean, inv_std)


@_batch_norm.vjp
def _(g, y, x, weight, bias, *, eps, mean, inv_std):
    if not is_grad_enabled():  # first order: one fused kernel
        return tuple(Tensor(a) for a in kernels.batch_norm_backward(g.array, x.array, weight.array, mean, inv_std))
    axes, shape = (0,) + tuple(range(2, x.ndim)), (1, -1) + (1,) * (x.ndim - 2)
    centred = x - _mean(x, axes)
    sigma = sqrt(_mean(centred * centred, axes) + eps)
    xhat, g_xhat = centred / sigma, g * reshape(weight, *shape)
    grad_x = (g_xhat - _mean(g_xhat, axes) - xhat * _mean(g_xhat * xhat, axes)) / sigma
    return grad_x, sum(g * xhat, axes), sum(g, axes)


def _mean(x: Tensor, axes) -> Tensor:
    return mean(x, axes, keepdims=True)


def batch_norm_training(x: Tensor, weight: Tensor, bias: Tensor, eps: float):
    r"""Batch norm with batch statistics, :math:`\gamma \hat x + \beta` over every axis but 1, as one primitive.

    Returns the output and the batch mean and biased variance as ``(C,)``
    arrays (for the running averages).
    """
    axes = (0,) + tuple(range(2, x.ndim))
    mu, var = kernels.moments(x.array, axes)
    mu, var = mu.reshape(-1), var.reshape(-1)
    inv_std = 1 / x.xp.sqrt(var + x.dtype.type(eps))
    return _batch_norm(x, weight, bias, eps=float(eps), mean=mu, inv_std=inv_std), mu, var
