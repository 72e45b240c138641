r"""CatGAN's entropies of a classifier's predictions, and the ``catgan`` loss built from them.

A categorical discriminator gives ``K`` class logits :math:`\ell_n` per sample
and so a class distribution :math:`p_n = \operatorname{softmax}(\ell_n)`. Two
entropies measure it over a batch of ``N`` samples: the mean **conditional**
entropy :math:`\mathbb E_n H(p_n)` (low when each sample is put in a class with
certainty) and the **marginal** entropy :math:`H(\mu_p)` of the batch-mean
distribution :math:`\mu_p = \tfrac1N\sum_n p_n` (high when the batch is spread
evenly over the classes). Both are primitives with closed-form gradients,
computed from log-softmax so that no probability that underflows turns into
:math:`0 \cdot \log 0`.
"""

from __future__ import annotations

import math

from minigan.autograd import Tensor, primitive
from minigan.kernels import array_module
from minigan.losses.registry import AdversarialLoss, register
from minigan.ops import log_softmax, logsumexp, mean, softmax, sum

__all__ = ["CatGANLoss", "conditional_entropy", "marginal_entropy", "softmax_entropy"]


def _log_softmax_rows(logits):
    xp = array_module(logits)
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))


def _log_marginal(log_p):
    r""":math:`\log \mu_{p,k} = \log \tfrac1N \sum_n p_{nk}`, ``(1, K)``, as a log-sum-exp of the log-probabilities."""
    xp = array_module(log_p)
    top = log_p.max(axis=0, keepdims=True)
    return top + xp.log(xp.exp(log_p - top).sum(axis=0, keepdims=True)) - math.log(log_p.shape[0])


@primitive(name="softmax_entropy")
def _softmax_entropy(logits):
    r"""Entropy of each row's softmax: :math:`H_n = -\sum_k p_{nk} \log p_{nk}`,
    :math:`p_n = \operatorname{softmax}(\ell_n)`.

    VJP: :math:`\partial H_n / \partial \ell_{nj} = -p_{nj}(\log p_{nj} + H_n)`, so
    :math:`\bar\ell_{nj} = -\bar H_n\, p_{nj} (\log p_{nj} + H_n)`.
    """
    log_p = _log_softmax_rows(logits)
    return -(array_module(logits).exp(log_p) * log_p).sum(axis=1)


@_softmax_entropy.vjp
def _(g, entropy, logits):
    return -g.reshape(-1, 1) * softmax(logits, dim=1) * (log_softmax(logits, dim=1) + entropy.reshape(-1, 1))


@primitive(name="marginal_entropy")
def _marginal_entropy(logits):
    r"""Entropy of the batch-mean softmax: :math:`H(\mu_p) = -\sum_k \mu_{p,k} \log \mu_{p,k}`,
    :math:`\mu_p = \tfrac1N \sum_n \operatorname{softmax}(\ell_n)`.

    VJP: :math:`\partial H / \partial \mu_{p,k} = -(\log \mu_{p,k} + 1)` and
    :math:`\partial \mu_{p,k} / \partial \ell_{nj} = p_{nk}(\delta_{kj} - p_{nj}) / N`; the constant
    cancels, leaving
    :math:`\bar\ell_{nj} = -\tfrac{\bar H}{N}\, p_{nj}\bigl(\log \mu_{p,j} - \sum_k p_{nk} \log \mu_{p,k}\bigr)`.
    """
    log_marginal = _log_marginal(_log_softmax_rows(logits))
    return -(array_module(logits).exp(log_marginal) * log_marginal).sum()


@_marginal_entropy.vjp
def _(g, entropy, logits):
    p = softmax(logits, dim=1)
    log_marginal = logsumexp(log_softmax(logits, dim=1), axis=0, keepdims=True) - math.log(logits.shape[0])
    return -g * (1.0 / logits.shape[0]) * p * (log_marginal - sum(p * log_marginal, 1, keepdims=True))


def _check(logits: Tensor, name: str) -> None:
    if logits.ndim != 2 or logits.shape[1] < 2 or logits.shape[0] < 1:
        raise ValueError(f"{name}: expected class logits of shape (N, K) with N >= 1 and K >= 2, got {logits.shape}")


def softmax_entropy(logits: Tensor) -> Tensor:
    r"""The entropy of each sample's class distribution, ``(N, K)`` logits -> ``(N,)`` entropies in nats.

    .. math:: H_n = -\sum_k p_{nk} \log p_{nk}, \qquad p_n = \operatorname{softmax}(\ell_n)

    0 for a certain prediction, :math:`\log K` for a uniform one.

    Gradient (a fused primitive): :math:`\bar\ell_{nj} = -\bar H_n\, p_{nj}(\log p_{nj} + H_n)`.
    """
    _check(logits, "softmax_entropy")
    return _softmax_entropy(logits)


def conditional_entropy(logits: Tensor) -> Tensor:
    r"""CatGAN's conditional entropy :math:`\mathbb E_x\bigl[H(p(y \mid x, D))\bigr]`, estimated on a batch.

    .. math:: H_{cond} = \frac1N \sum_n H(p_n) = -\frac1N \sum_{n,k} p_{nk} \log p_{nk},
        \qquad p_n = \operatorname{softmax}(\ell_n)

    ``logits`` is ``(N, K)``; the result a scalar in :math:`[0, \log K]`.

    Gradient: :math:`\bar\ell_{nj} = -\tfrac1N\, p_{nj}(\log p_{nj} + H(p_n))`.

    References
    ----------
    Springenberg. Unsupervised and Semi-supervised Learning with Categorical
    Generative Adversarial Networks. ICLR 2016 (arXiv:1511.06390, 2015).
    """
    _check(logits, "conditional_entropy")
    return mean(_softmax_entropy(logits))


def marginal_entropy(logits: Tensor) -> Tensor:
    r"""CatGAN's marginal class entropy :math:`H_X[p(y \mid D)]`, estimated on a batch.

    .. math:: H_{marg} = -\sum_k \mu_{p,k} \log \mu_{p,k}, \qquad
        \mu_p = \frac1N \sum_n \operatorname{softmax}(\ell_n)

    ``logits`` is ``(N, K)``; the result a scalar in :math:`[0, \log K]`,
    :math:`\log K` when the batch is spread evenly over the classes.

    Gradient (a fused primitive):
    :math:`\bar\ell_{nj} = -\tfrac1N\, p_{nj}\bigl(\log \mu_{p,j} - \sum_k p_{nk} \log \mu_{p,k}\bigr)`.

    References
    ----------
    Springenberg. Unsupervised and Semi-supervised Learning with Categorical
    Generative Adversarial Networks. ICLR 2016 (arXiv:1511.06390, 2015).
    """
    _check(logits, "marginal_entropy")
    return _marginal_entropy(logits)


@register("catgan")
class CatGANLoss(AdversarialLoss):
    r"""CatGAN's objectives on a categorical discriminator's ``(N, K)`` class logits.

    D is certain of a class on real data, uncertain on generated data, and
    uses every class evenly on real data; G makes samples D is certain of,
    spread evenly over the classes (Springenberg 2016, eq. 7 and 9):

    .. math::

        L_D = \mathbb E_x H\bigl(p(y \mid x, D)\bigr) - \mathbb E_z H\bigl(p(y \mid G(z), D)\bigr)
              - \lambda H_X\bigl[p(y \mid D)\bigr], \qquad
        L_G = \mathbb E_z H\bigl(p(y \mid G(z), D)\bigr) - \lambda H_G\bigl[p(y \mid D)\bigr]

    with :func:`conditional_entropy` for the expectations and :func:`marginal_entropy`
    on the real batch (:math:`H_X`) or the generated one (:math:`H_G`);
    ``marginal_weight`` is :math:`\lambda` (1 in the paper). The outputs are
    class logits, not a realness logit: only the ``catgan`` game reads them.

    Gradient: the sum of the two entropies' (see each function).

    References
    ----------
    Springenberg. Unsupervised and Semi-supervised Learning with Categorical
    Generative Adversarial Networks. ICLR 2016 (arXiv:1511.06390, 2015).
    """

    game = "catgan"
    ranges = {"marginal_weight": "[0, inf)"}

    def __init__(self, marginal_weight: float = 1.0):
        self.marginal_weight = float(marginal_weight)

    def d_loss(self, real_out, fake_out):
        return (conditional_entropy(real_out) - conditional_entropy(fake_out)
                - self.marginal_weight * marginal_entropy(real_out))

    def g_loss(self, fake_out, real_out=None):
        return conditional_entropy(fake_out) - self.marginal_weight * marginal_entropy(fake_out)
