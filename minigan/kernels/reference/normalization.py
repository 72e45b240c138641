r"""Standardisation over a set of axes, the core of batch norm and layer norm.

Over the :math:`\nu` entries of each normalisation group (for batch norm, every
axis but the channel axis 1):

.. math::

    \mu = \tfrac1\nu \textstyle\sum_i x_i, \quad
    \sigma^2 = \tfrac1\nu \textstyle\sum_i (x_i - \mu)^2, \quad
    \hat x_i = (x_i - \mu) / \sqrt{\sigma^2 + \epsilon},

    \bar x = \frac{1}{\sqrt{\sigma^2 + \epsilon}}
             \Bigl(\bar{\hat x} - \operatorname{mean}(\bar{\hat x})
                   - \hat x \odot \operatorname{mean}(\bar{\hat x} \odot \hat x)\Bigr)

(the gradient is derived in ``docs/layers.md``). Statistics keep the reduced
axes as size-1 axes, so they broadcast against ``x``.

Batch norm in training fuses the per-channel affine map into the same pass.
With :math:`s = 1/\sqrt{\sigma^2 + \epsilon}` per channel and sums over the
:math:`\nu` entries of a channel:

.. math::

    y = \gamma (x - \mu) s + \beta, \qquad
    \bar\beta = \textstyle\sum \bar y, \quad
    \bar\gamma = \textstyle\sum \bar y \hat x, \quad
    \bar x = \gamma s \bigl(\bar y - \bar\beta / \nu - \hat x\, \bar\gamma / \nu\bigr),

the standardisation's VJP above with :math:`\bar{\hat x} = \gamma \bar y`.
"""

from __future__ import annotations

from minigan.kernels.arrays import array_module

__all__ = ["moments", "standardize", "standardize_backward", "batch_norm", "batch_norm_backward"]


def moments(x, axes: tuple[int, ...]):
    r"""Mean :math:`\mu` and biased variance :math:`\sigma^2` of ``x`` over ``axes`` (kept as size-1 axes)."""
    mu = x.mean(axis=axes, keepdims=True)
    centred = x - mu
    return mu, (centred * centred).mean(axis=axes, keepdims=True)


def standardize(x, axes: tuple[int, ...], eps: float):
    r""":math:`\hat x = (x - \mu) / \sqrt{\sigma^2 + \epsilon}` over ``axes``."""
    mu, var = moments(x, axes)
    return (x - mu) / array_module(x).sqrt(var + x.dtype.type(eps))


def standardize_backward(g, xhat, x, axes: tuple[int, ...], eps: float):
    r""":math:`\bar x` from :math:`\bar{\hat x}` = ``g``, the output ``xhat`` and the input ``x`` (module docstring)."""
    _, var = moments(x, axes)
    centred_g = g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True)
    return centred_g / array_module(x).sqrt(var + x.dtype.type(eps))


def _per_channel(values, x):
    """A ``(C,)`` array shaped to broadcast along axis 1 of ``x``, in ``x``'s dtype."""
    return values.astype(x.dtype, copy=False).reshape((1, -1) + (1,) * (x.ndim - 2))


def batch_norm(x, weight, bias, mean, inv_std):
    r""":math:`y = \gamma (x - \mu) s + \beta` along axis 1; ``weight``, ``bias``, ``mean``, ``inv_std``: ``(C,)``."""
    return (x - _per_channel(mean, x)) * _per_channel(inv_std * weight, x) + _per_channel(bias, x)


def batch_norm_backward(g, x, weight, mean, inv_std):
    r""":math:`(\bar x, \bar\gamma, \bar\beta)` of :func:`batch_norm` for :math:`\bar y` = ``g`` (module docstring)."""
    axes = (0,) + tuple(range(2, x.ndim))
    m = x.size // x.shape[1]
    xhat = (x - _per_channel(mean, x)) * _per_channel(inv_std, x)
    grad_bias, grad_weight = g.sum(axis=axes), (g * xhat).sum(axis=axes)
    grad_x = _per_channel(weight * inv_std, x) * (g - _per_channel(grad_bias / m, x)
                                                  - xhat * _per_channel(grad_weight / m, x))
    return grad_x, grad_weight.astype(x.dtype, copy=False), grad_bias.astype(x.dtype, copy=False)
