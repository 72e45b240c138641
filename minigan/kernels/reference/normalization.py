r"""Standardisation over a set of axes, the core of batch norm and layer norm.

Over the :math:`m` entries of each normalisation group (for batch norm, every
axis but the channel axis 1):

.. math::

    \mu = \tfrac1m \textstyle\sum_i x_i, \quad
    \sigma^2 = \tfrac1m \textstyle\sum_i (x_i - \mu)^2, \quad
    \hat x_i = (x_i - \mu) / \sqrt{\sigma^2 + \epsilon},

    \bar x = \frac{1}{\sqrt{\sigma^2 + \epsilon}}
             \Bigl(\bar{\hat x} - \operatorname{mean}(\bar{\hat x})
                   - \hat x \odot \operatorname{mean}(\bar{\hat x} \odot \hat x)\Bigr)

(the gradient is derived in ``docs/layers.md``). Statistics keep the reduced
axes as size-1 axes, so they broadcast against ``x``.
"""

from __future__ import annotations

from minigan.kernels.arrays import array_module

__all__ = ["moments", "standardize", "standardize_backward"]


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
