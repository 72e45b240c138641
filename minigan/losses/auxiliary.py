r"""Auxiliary GAN objectives: ACGAN, InfoGAN, feature matching, EBGAN and BEGAN.

The class and information losses are added to D's (and G's) adversarial
loss; ``ebgan`` and ``began`` are whole adversarial losses, registered by
name, whose discriminator is an autoencoder and whose "output" is its
reconstruction energy. Every function here is a composite of differentiable
minigan ops except the Gaussian negative log-likelihood, a primitive with a
closed-form VJP; each docstring states the gradient.
"""

from __future__ import annotations

import math

import numpy as np

from minigan.autograd import Tensor, primitive
from minigan.kernels import array_module
from minigan.losses.registry import AdversarialLoss, register
from minigan.ops import clamp, cross_entropy, exp, mean, norm, relu, sum
from minigan.ops.shape import unbroadcast

__all__ = [
    "BEGANLoss",
    "EBGANLoss",
    "acgan_class_loss",
    "feature_matching_loss",
    "gaussian_nll",
    "infogan_loss",
    "pulling_away_term",
]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def acgan_class_loss(class_logits: Tensor, labels) -> Tensor:
    r"""ACGAN's auxiliary classifier loss: softmax cross-entropy of D's class logits.

    .. math:: L_C = -\mathbb E_n \log \operatorname{softmax}(\ell_n)_{y_n}

    Both players minimise it, D on real and generated samples, G on generated
    ones (whose labels are the classes G was asked for).
    ``class_logits`` is ``(N, K)``, ``labels`` holds ``N`` integer classes.

    Gradient (from the fused log-softmax): :math:`\bar\ell_n = (\operatorname{softmax}(\ell_n) - e_{y_n}) / N`.

    References
    ----------
    Odena, Olah, Shlens. Conditional Image Synthesis with Auxiliary Classifier
    GANs. ICML 2017 (arXiv:1610.09585, 2016).
    """
    return cross_entropy(class_logits, labels)


@primitive(name="gaussian_nll")
def _gaussian_nll(c, mu, log_std):
    r"""Elementwise :math:`-\log \mathcal N(c;\ \mu, \sigma^2)` with :math:`\sigma = e^s`:

    .. math:: \ell = s + \tfrac12 \log 2\pi + \tfrac12 (c - \mu)^2 e^{-2s}

    VJP, with :math:`r = (c - \mu)e^{-2s}`: :math:`\bar c = \bar\ell\, r`,
    :math:`\bar\mu = -\bar\ell\, r`, :math:`\bar s = \bar\ell\,(1 - (c - \mu) r)`.
    """
    z = (c - mu) * array_module(c).exp(-log_std)
    return log_std + 0.5 * z * z + _HALF_LOG_2PI


@_gaussian_nll.vjp
def _(g, nll, c, mu, log_std):
    residual = c - mu
    r = residual * exp(-2 * log_std)
    return (unbroadcast(g * r, c.shape) if c.requires_grad else None,
            unbroadcast(-g * r, mu.shape) if mu.requires_grad else None,
            unbroadcast(g * (1 - residual * r), log_std.shape) if log_std.requires_grad else None)


def gaussian_nll(codes: Tensor, mu: Tensor, log_std: Tensor | None = None) -> Tensor:
    r"""Negative log-likelihood of ``codes`` under :math:`\mathcal N(\mu, e^{2s})`, per element.

    .. math:: \ell = s + \tfrac12 \log 2\pi + \tfrac12 (c - \mu)^2 e^{-2s}

    ``mu`` and ``log_std`` :math:`s` broadcast against ``codes``; None fixes
    :math:`\sigma = 1` (:math:`s = 0`), where :math:`\ell = \tfrac12 (c - \mu)^2 + \tfrac12\log 2\pi`.

    Gradient (a fused primitive): with :math:`r = (c - \mu)e^{-2s}`,
    :math:`\bar c = \bar\ell r`, :math:`\bar\mu = -\bar\ell r`, :math:`\bar s = \bar\ell (1 - (c - \mu) r)`.
    """
    if log_std is None:
        log_std = Tensor(mu.xp.zeros((), dtype=mu.dtype))
    return _gaussian_nll(codes, mu, log_std)


def infogan_loss(cat_logits: Tensor | None = None, cat_codes=None, cont_mean: Tensor | None = None,
                 cont_codes: Tensor | None = None, cont_log_std: Tensor | None = None,
                 lambda_cat: float = 1.0, lambda_cont: float = 1.0) -> Tensor:
    r"""InfoGAN's variational bound on the mutual information :math:`I(c; G(z, c))`, as a loss.

    Q (a head on D) predicts the codes :math:`c` that G was given. Maximising
    :math:`\mathbb E \log Q(c \mid G(z, c))` maximises a lower bound on the
    mutual information (Chen et al. 2016, Lemma 5.1); both G and Q minimise

    .. math::

        L_I = \lambda_{cat}\, \mathbb E_n\bigl[-\log \operatorname{softmax}(\ell_n)_{c_n}\bigr]
            + \lambda_{cont}\, \mathbb E_n \sum_j \bigl[s_{nj} + \tfrac12\log 2\pi
              + \tfrac12 (c_{nj} - \mu_{nj})^2 e^{-2 s_{nj}}\bigr]

    the cross-entropy of a categorical code and the Gaussian negative
    log-likelihood of continuous codes (summed over code dimensions, averaged
    over the batch). Either part may be left out.

    Parameters
    ----------
    cat_logits : Tensor, optional
        ``(N, K)`` Q's logits for a ``K``-way categorical code.
    cat_codes : Tensor or array, optional
        ``(N,)`` integer codes that G received.
    cont_mean : Tensor, optional
        ``(N, d)`` Q's predicted means :math:`\mu` of the continuous codes.
    cont_codes : Tensor, optional
        ``(N, d)`` continuous codes that G received.
    cont_log_std : Tensor, optional
        Q's predicted :math:`s = \log\sigma` (broadcasting against the codes);
        None fixes :math:`\sigma = 1`, where the term is half the squared error
        plus a constant.
    lambda_cat, lambda_cont : float
        Weights of the two parts.

    Notes
    -----
    Gradient: :math:`\bar\ell_n = \lambda_{cat}(\operatorname{softmax}(\ell_n) - e_{c_n})/N`;
    with :math:`r = (c - \mu)e^{-2s}`, :math:`\bar\mu = -\lambda_{cont} r / N` and
    :math:`\bar s = \lambda_{cont}(1 - (c - \mu) r)/N`.

    References
    ----------
    Chen, Duan, Houthooft, Schulman, Sutskever, Abbeel. InfoGAN: Interpretable
    Representation Learning by Information Maximizing Generative Adversarial
    Nets. NeurIPS 2016.
    """
    has_cat = _given_together("cat_logits", cat_logits, "cat_codes", cat_codes)
    has_cont = _given_together("cont_mean", cont_mean, "cont_codes", cont_codes)
    if not (has_cat or has_cont):
        raise ValueError("infogan_loss: give cat_logits and cat_codes, cont_mean and cont_codes, or both")
    terms = []
    if has_cat:
        terms.append(lambda_cat * cross_entropy(cat_logits, cat_codes))
    if has_cont:
        if cont_codes.shape != cont_mean.shape:
            raise ValueError(f"infogan_loss: cont_codes {cont_codes.shape} and cont_mean {cont_mean.shape} differ")
        nll = gaussian_nll(cont_codes, cont_mean, cont_log_std)
        terms.append(lambda_cont * mean(sum(nll.reshape(nll.shape[0], -1), axis=1)))
    return terms[0] if len(terms) == 1 else terms[0] + terms[1]


def _given_together(name_a, a, name_b, b) -> bool:
    if (a is None) != (b is None):
        raise ValueError(f"infogan_loss: {name_a} and {name_b} go together; got only "
                         f"{name_a if b is None else name_b}")
    return a is not None


def feature_matching_loss(real_features: Tensor, fake_features: Tensor) -> Tensor:
    r"""Feature matching: G matches the mean of D's intermediate features on real data.

    .. math:: L = \lVert \mu_r - \mu_f \rVert_2^2, \qquad
              \mu_r = \mathbb E_n D_l(x_n), \quad \mu_f = \mathbb E_n D_l(G(z_n)),

    with :math:`D_l` an intermediate layer of D, the means over the batch and
    the norm over every feature axis. The
    real features are a target, not a path for gradients: they are detached.

    Gradient: :math:`\bar f_n = \tfrac2N (\mu_f - \mu_r)` for each of the
    :math:`N` generated samples' features :math:`f_n = D_l(G(z_n))`.

    References
    ----------
    Salimans, Goodfellow, Zaremba, Cheung, Radford, Chen. Improved Techniques
    for Training GANs. NeurIPS 2016.
    """
    if real_features.shape[1:] != fake_features.shape[1:]:
        raise ValueError(f"feature_matching_loss: real features {real_features.shape} and fake features "
                         f"{fake_features.shape} differ beyond the batch axis")
    gap = mean(real_features.detach(), axis=0) - mean(fake_features, axis=0)
    return sum(gap * gap)


def pulling_away_term(embeddings: Tensor) -> Tensor:
    r"""EBGAN's pulling-away term: the mean squared cosine similarity between distinct samples.

    .. math:: PT = \frac{1}{N(N-1)} \sum_{i \ne j} \left(\frac{s_i^\top s_j}{\lVert s_i\rVert \lVert s_j\rVert}\right)^2

    for the ``N`` embeddings :math:`s_i` (each flattened). 0 for orthogonal
    embeddings, 1 for parallel ones: added to G's loss, it pushes the batch
    apart and so against mode collapse. A zero embedding counts as orthogonal
    to all (its norm is clamped at 1e-12, as ``torch.nn.functional.normalize``).

    Gradient: with :math:`\hat s_i = s_i/\lVert s_i\rVert` and :math:`C = \hat S \hat S^\top`,
    :math:`\bar{\hat s}_i = \tfrac{4}{N(N-1)}\sum_{j \ne i} C_{ij}\hat s_j` and
    :math:`\bar s_i = (I - \hat s_i \hat s_i^\top)\,\bar{\hat s}_i / \lVert s_i\rVert`.

    References
    ----------
    Zhao, Mathieu, LeCun. Energy-based Generative Adversarial Network. ICLR
    2017 (arXiv:1609.03126, 2016).
    """
    n = embeddings.shape[0]
    if n < 2:
        raise ValueError(f"pulling_away_term: needs at least 2 embeddings, got a batch of shape {embeddings.shape}")
    s = embeddings.reshape(n, -1)
    unit = s / clamp(norm(s, axis=1, keepdims=True), min=1e-12)
    cosine = unit @ unit.T
    off_diagonal = Tensor(1 - s.xp.eye(n, dtype=s.dtype))
    return sum((cosine * off_diagonal) ** 2) * (1.0 / (n * (n - 1)))


@register("ebgan")
class EBGANLoss(AdversarialLoss):
    r"""EBGAN's margin loss, with D's output the reconstruction energy :math:`E \ge 0` per sample.

    .. math::

        L_D = \mathbb E\, E(x) + \mathbb E \bigl[\kappa - E(G(z))\bigr]^+, \qquad L_G = \mathbb E\, E(G(z))

    D lowers the energy of real data and raises that of generated data up
    to the margin :math:`\kappa` (``margin``), beyond which fakes cost it nothing. ``margin``
    must be chosen on the scale of the energy (the paper searches 1 to 32).

    Gradient: :math:`\bar E(x_n) = 1/N`,
    :math:`\bar E(G(z_n)) = -[E(G(z_n)) < \kappa]/N` for D and :math:`1/N` for G
    (the hinge has a kink at :math:`E = \kappa`).

    References
    ----------
    Zhao, Mathieu, LeCun. Energy-based Generative Adversarial Network. ICLR
    2017 (arXiv:1609.03126, 2016).
    """

    game = "ebgan"
    ranges = {"margin": "(0, inf)"}

    def __init__(self, margin: float = 1.0):
        self.margin = float(margin)

    def d_loss(self, real_out, fake_out):
        return mean(real_out) + mean(relu(self.margin - fake_out))

    def g_loss(self, fake_out, real_out=None):
        return mean(fake_out)


@register("began")
class BEGANLoss(AdversarialLoss):
    r"""BEGAN: D is an autoencoder whose output is the reconstruction loss :math:`\mathcal L(v)`.

    .. math::

        L_D = \mathcal L(x) - k_t\, \mathcal L(G(z)), \qquad L_G = \mathcal L(G(z))

    (each :math:`\mathcal L` a batch mean), with the balance :math:`k_t \in [0, 1]`
    moved after every step by :meth:`update`,

    .. math:: k_{t+1} = \operatorname{clip}(k_t + \lambda_k(\gamma\,\mathcal L(x) - \mathcal L(G(z))),\ 0,\ 1),

    a controller that holds
    :math:`\mathbb E\,\mathcal L(G(z)) = \gamma\, \mathbb E\,\mathcal L(x)`. It is
    an *integral* controller, although the paper calls it proportional: until
    the clip acts, :math:`k_t = k_0 + \lambda_k \sum_{s < t} e_s` accumulates the
    balance error :math:`e_s = \gamma\,\mathcal L(x) - \mathcal L(G(z))` of every
    step so far, rather than following the current error. The diversity ratio
    :math:`\gamma` trades sample diversity for quality.

    Gradient: :math:`\bar{\mathcal L}(x_n) = 1/N`,
    :math:`\bar{\mathcal L}(G(z_n)) = -k_t/N` for D and :math:`1/N` for G;
    :math:`k_t` is a constant of the step.

    References
    ----------
    Berthelot, Schumm, Metz. BEGAN: Boundary Equilibrium Generative Adversarial
    Networks. arXiv:1703.10717, 2017.
    """

    game = "began"
    ranges = {"gamma": "[0, 1]", "lambda_k": "[0, inf)", "k": "[0, 1]"}

    def __init__(self, gamma: float = 0.5, lambda_k: float = 0.001, k: float = 0.0):
        self.gamma, self.lambda_k, self.k = float(gamma), float(lambda_k), float(k)

    def d_loss(self, real_out, fake_out):
        return mean(real_out) - self.k * mean(fake_out)

    def g_loss(self, fake_out, real_out=None):
        return mean(fake_out)

    def update(self, real_loss, fake_loss) -> float:
        r"""Move :math:`k_t` and return the convergence measure
        :math:`M_{global} = \mathcal L(x) + |\gamma\,\mathcal L(x) - \mathcal L(G(z))|`.

        ``real_loss`` and ``fake_loss`` are :math:`\mathcal L(x)` and
        :math:`\mathcal L(G(z))` (Tensors or numbers; per-sample values are averaged).
        """
        real, fake = _value(real_loss), _value(fake_loss)
        balance = self.gamma * real - fake
        self.k = min(max(self.k + self.lambda_k * balance, 0.0), 1.0)
        return real + abs(balance)

    def state_dict(self) -> dict:
        return {"k": self.k}

    def load_state_dict(self, state: dict) -> None:
        self.k = float(state["k"])


def _value(x) -> float:
    """The mean of a Tensor or number, as a Python float (outside any graph)."""
    data = x.numpy() if isinstance(x, Tensor) else x
    return float(np.mean(data))
