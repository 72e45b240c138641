r"""Standardisation over a set of axes: the fused core of batch norm and layer norm.

Over the :math:`m` entries that share a normalisation group,

.. math::

    \mu = \tfrac1m \textstyle\sum_i x_i, \quad
    \sigma^2 = \tfrac1m \textstyle\sum_i (x_i - \mu)^2, \quad
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
"""

from __future__ import annotations

from minigan import kernels
from minigan.autograd import Tensor, is_grad_enabled, primitive
from minigan.ops.elementwise import sqrt
from minigan.ops.reduce import mean

__all__ = ["standardize", "batch_statistics"]


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
