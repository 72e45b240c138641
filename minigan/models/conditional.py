r"""Networks that see a class label or recover a latent code: cGAN, projection D, ACGAN, InfoGAN's Q head.

Each wraps an unconditional network of :mod:`minigan.models`. The
discriminator wrappers that read D's body and head use
:math:`D(x) = \psi(\phi(x))`, with ``base.features`` :math:`\phi` giving
``(N, F)`` (``F = base.feature_dim``) and ``base.head`` :math:`\psi` giving
``(N, 1)``; :class:`~minigan.models.DCGANDiscriminator` and
:class:`~minigan.models.MLPDiscriminator` provide both.

Labels are integer class indices of shape ``(N,)``, one per sample (a Tensor
or an array); anything else is refused with the expected and received shapes.
Wrappers that need one discriminator output per sample refuse a PacGAN base
(``pack > 1``), whose outputs each judge several samples.
"""

from __future__ import annotations

import math

import numpy as np

from minigan import nn, ops
from minigan.autograd import Tensor
from minigan.models.common import maybe_spectral_norm

__all__ = ["ConditionalGenerator", "ConcatDiscriminator", "ProjectionDiscriminator",
           "AuxiliaryClassifierDiscriminator", "LatentCodeHead"]


def _check_positive(owner: str, **sizes) -> None:
    for name, value in sizes.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")


def _check_labels(owner: str, y, n: int):
    """``y`` as given (a list becomes an array) when it holds ``n`` integer labels of shape ``(n,)``."""
    if not isinstance(y, Tensor) and not hasattr(y, "shape"):
        y = np.asarray(y)
    shape, dtype = tuple(y.shape), np.dtype(y.dtype)
    if shape != (n,) or dtype.kind not in "iu":
        raise ValueError(f"{owner}: labels must be integer class indices of shape ({n},), one per sample of the "
                         f"batch; got shape {shape} and dtype {dtype}")
    return y


def _check_body_and_head(owner: str, base: nn.Module) -> None:
    missing = [name for name in ("features", "head", "feature_dim") if not hasattr(base, name)]
    if missing:
        raise TypeError(f"{owner}: the base discriminator {type(base).__name__} has no {', '.join(missing)}; "
                        "it must split as D(x) = head(features(x)) (as DCGANDiscriminator and MLPDiscriminator do)")


def _refuse_packing(owner: str, base: nn.Module) -> None:
    pack = getattr(base, "pack", 1)
    if pack != 1:
        raise ValueError(f"{owner}: needs one discriminator output per sample, but the base discriminator packs "
                         f"{pack} samples into each output (PacGAN); build it with pack=1")


class ConditionalGenerator(nn.Module):
    r"""A generator conditioned on a class label by concatenating a learned label embedding to the latent.

    .. math:: G(z \mid y) = G_0([\,z;\ E_y\,]), \qquad
              z \in \mathbb R^{d - k},\ E \in \mathbb R^{K \times k},

    for a base generator :math:`G_0` of latent size :math:`d` (``base.latent_dim``),
    ``K = num_classes`` and ``k = embedding_dim``: this module's ``latent_dim``
    is :math:`d - k`. :math:`E` is an ``nn.Embedding``, rows
    :math:`\mathcal N(0, 1)` like the latent beside them. Its gradient
    scatter-adds: :math:`\bar E_c = \sum_{n: y_n = c} \bar u_n` for the
    embedding part :math:`\bar u` of :math:`G_0`'s input gradient.

    Shapes: ``z (N, latent_dim)``, ``y (N,)`` integers in ``[0, K)`` -> ``base``'s output.

    References
    ----------
    Mirza, Osindero. Conditional Generative Adversarial Nets. arXiv:1411.1784, 2014.
    """

    def __init__(self, base: nn.Module, num_classes: int, embedding_dim: int):
        super().__init__()
        _check_positive("ConditionalGenerator", num_classes=num_classes, embedding_dim=embedding_dim)
        if base.latent_dim <= embedding_dim:
            raise ValueError(f"ConditionalGenerator: the base generator's latent_dim {base.latent_dim} must exceed "
                             f"embedding_dim {embedding_dim}, leaving room for the noise z")
        self.base = base
        self.num_classes, self.embedding_dim = num_classes, embedding_dim
        self.latent_dim = base.latent_dim - embedding_dim
        self.embedding = nn.Embedding(num_classes, embedding_dim)

    def forward(self, z, y):
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"ConditionalGenerator: expected z of shape (N, {self.latent_dim}), got {z.shape}")
        y = _check_labels("ConditionalGenerator", y, z.shape[0])
        return self.base(ops.cat([z, self.embedding(y)], 1))

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, embedding_dim={self.embedding_dim}, latent_dim={self.latent_dim}"


def appended(x, e):
    r"""``[x; e]`` along axis 1: ``e`` ``(N, k)`` as :math:`k` more features of flat samples ``(N, d)``, or as
    :math:`k` constant maps after the channels of images ``(N, C, H, W)``. The maps are a broadcast, so
    :math:`\bar e` sums :math:`\bar x` over each map's pixels."""
    n, k = e.shape
    if x.ndim > 2:
        e = ops.broadcast_to(e.reshape((n, k) + (1,) * (x.ndim - 2)), shape=(n, k) + x.shape[2:])
    return ops.cat([x, e], 1)


class ConcatDiscriminator(nn.Module):
    r"""A discriminator conditioned on a class label by appending a learned label embedding to its input.

    .. math:: D(x \mid y) = D_0([\,x;\ E_y\,]),

    where, for images ``(N, C, H, W)``, :math:`E_y \in \mathbb R^k` enters as
    :math:`k` constant feature maps of size :math:`H \times W` stacked after
    the :math:`C` channels, and for flat samples ``(N, d)`` as :math:`k` more
    features. The base is therefore built for ``C + embedding_dim`` channels
    (``d + embedding_dim`` features). The maps are a broadcast, so
    :math:`\bar E_y` sums :math:`\bar x` over each map's pixels. Labels are
    attached per sample before the base packs (PacGAN works unchanged).

    Shapes: ``x (N, C, ...)`` or ``(N, d)``, ``y (N,)`` -> ``base``'s output,
    ``(N, 1)`` for the discriminators of :mod:`minigan.models`.
    :meth:`features` and :meth:`head` pass through to the base's.

    References
    ----------
    Mirza, Osindero. Conditional Generative Adversarial Nets. arXiv:1411.1784, 2014.
    """

    def __init__(self, base: nn.Module, num_classes: int, embedding_dim: int):
        super().__init__()
        _check_positive("ConcatDiscriminator", num_classes=num_classes, embedding_dim=embedding_dim)
        self.base = base
        self.num_classes, self.embedding_dim = num_classes, embedding_dim
        self.embedding = nn.Embedding(num_classes, embedding_dim)
        self.feature_dim = getattr(base, "feature_dim", None)
        self.pack = getattr(base, "pack", 1)

    def conditioned(self, x, y):
        """``[x; E_y]``: the input with the label embedding appended along axis 1, ``(N, C + k, ...)``."""
        if x.ndim < 2:
            raise ValueError(f"ConcatDiscriminator: expected samples of shape (N, C, ...) or (N, d), got {x.shape}")
        return appended(x, self.embedding(_check_labels("ConcatDiscriminator", y, x.shape[0])))

    def forward(self, x, y):
        return self.base(self.conditioned(x, y))

    def features(self, x, y):
        """The base's features of ``[x; E_y]``, ``(N, feature_dim)``."""
        return self.base.features(self.conditioned(x, y))

    def head(self, h):
        """The base's head, ``(N, 1)``."""
        return self.base.head(h)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, embedding_dim={self.embedding_dim}"


class ProjectionDiscriminator(nn.Module):
    r"""A discriminator conditioned on a class label by an inner product with its features.

    .. math:: D(x, y) = \psi(\phi(x)) + \langle E_y, \phi(x) \rangle,
              \qquad E \in \mathbb R^{K \times F},

    with :math:`\phi` = ``base.features``, :math:`\psi` = ``base.head`` and
    ``F = base.feature_dim``. It is the form the optimal logit takes when the
    conditionals are log-linear in the features: if
    :math:`p(y \mid x) \propto \exp(v^{p\top}_y \phi(x))` and likewise for
    :math:`q`, then :math:`\log \frac{q(x, y)}{p(x, y)} = (v^q_y - v^p_y)^\top \phi(x)
    + \log \frac{q(x)}{p(x)}` up to normalisers that depend on :math:`x` only,
    which :math:`\psi` absorbs; :math:`E_y` stands for :math:`v^q_y - v^p_y`.
    Gradients: :math:`\bar\phi = \bar D\,(\nabla\psi + E_y)` and
    :math:`\bar E_c = \sum_{n: y_n = c} \bar D_n\, \phi(x_n)`.

    Shapes: ``x`` as the base takes it, ``y (N,)`` -> ``(N, 1)``. With
    ``spectral_norm=True`` the table is spectrally normalised too, as in the
    paper's SNGAN discriminators. The base must not pack samples (one output
    per labelled sample).

    References
    ----------
    Miyato, Koyama. cGANs with Projection Discriminator. ICLR 2018.
    """

    def __init__(self, base: nn.Module, num_classes: int, *, spectral_norm: bool = False):
        super().__init__()
        _check_positive("ProjectionDiscriminator", num_classes=num_classes)
        _check_body_and_head("ProjectionDiscriminator", base)
        _refuse_packing("ProjectionDiscriminator", base)
        self.base = base
        self.num_classes, self.feature_dim = num_classes, base.feature_dim
        embedding = nn.Embedding(num_classes, base.feature_dim)
        # E's rows are drawn as a weight of psi, Linear(F, 1), is by default: U(-1/sqrt F, 1/sqrt F). Then at the
        # start <E_y, phi(x)> spreads like psi's own linear term, so neither drowns the other. Embedding's
        # N(0, 1) would make it sqrt(3F) times larger (about 140 for a width-64 DCGAN D on 28x28, F = 6272): the
        # logit would be decided by the label alone and the loss saturate before psi learned anything of realism.
        # Zeros would keep psi in charge too, but leave phi without any class signal until E has grown.
        bound = 1.0 / math.sqrt(base.feature_dim)
        nn.init.uniform_(embedding.weight, -bound, bound)
        self.embedding = maybe_spectral_norm(embedding, spectral_norm)

    def features(self, x):
        r""":math:`\phi(x)`, ``(N, feature_dim)``."""
        return self.base.features(x)

    def forward(self, x, y):
        y = _check_labels("ProjectionDiscriminator", y, x.shape[0])
        h = self.base.features(x)                                                  # (N, F)
        return self.base.head(h) + (self.embedding(y) * h).sum(axis=1, keepdims=True)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, feature_dim={self.feature_dim}"


class AuxiliaryClassifierDiscriminator(nn.Module):
    r"""A discriminator with a second head that classifies its input (ACGAN).

    .. math:: D(x) = \bigl(\psi(\phi(x)),\ W_c\,\phi(x) + b_c\bigr)
              \in \mathbb R \times \mathbb R^{K},

    the adversarial logit from the base's head :math:`\psi` and class logits
    from a ``Linear(F, K)`` on the same features :math:`\phi(x)`. The class
    head is trained with the log-likelihood of the correct class on real and
    generated samples alike, :math:`L_C = E[\log P(C = c \mid x_\text{real})]
    + E[\log P(C = c \mid x_\text{fake})]`; both heads send their gradients
    into the shared body :math:`\phi`.

    Shapes: ``x`` as the base takes it -> ``(adversarial (N, 1), class_logits
    (N, K))``. The base must not pack samples.

    References
    ----------
    Odena, Olah, Shlens. Conditional Image Synthesis with Auxiliary Classifier GANs. ICML 2017.
    """

    def __init__(self, base: nn.Module, num_classes: int, *, spectral_norm: bool = False):
        super().__init__()
        _check_positive("AuxiliaryClassifierDiscriminator", num_classes=num_classes)
        _check_body_and_head("AuxiliaryClassifierDiscriminator", base)
        _refuse_packing("AuxiliaryClassifierDiscriminator", base)
        self.base = base
        self.num_classes, self.feature_dim = num_classes, base.feature_dim
        self.classifier = maybe_spectral_norm(nn.Linear(base.feature_dim, num_classes), spectral_norm)

    def features(self, x):
        r""":math:`\phi(x)`, ``(N, feature_dim)``."""
        return self.base.features(x)

    def forward(self, x):
        h = self.base.features(x)
        return self.base.head(h), self.classifier(h)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, feature_dim={self.feature_dim}"


class LatentCodeHead(nn.Module):
    r"""InfoGAN's :math:`Q`: the latent codes a sample was generated from, read from D's features.

    .. math:: [\,\ell;\ \mu;\ \log\sigma\,] = W_2\, \mathrm{LeakyReLU}_{0.2}(W_1 h + b_1) + b_2,

    on features :math:`h = \phi(x)` ``(N, F)``: logits :math:`\ell` of a
    categorical code (``categories`` classes), means :math:`\mu` of
    ``continuous`` Gaussian codes and, with ``learn_std``, their log standard
    deviations (else :math:`\sigma = 1`, so the Gaussian log-likelihood is a
    squared error). Trained to maximise the variational lower bound on the
    mutual information between codes and samples,

    .. math:: I(c; G(z, c)) \ge E_{c,\,x \sim G(z, c)}[\log Q(c \mid x)] + H(c).

    Returns ``(cat_logits (N, categories) or None, cont_mean (N, continuous)
    or None, cont_log_std (N, continuous) or None)``: an entry is None when
    there is no such code (the log std also without ``learn_std``). Build it
    on a discriminator with :meth:`for_discriminator`, which refuses a PacGAN
    base: codes are recovered per sample.

    References
    ----------
    Chen, Duan, Houthooft, Schulman, Sutskever, Abbeel. InfoGAN: Interpretable
    Representation Learning by Information Maximizing Generative Adversarial Nets. NeurIPS 2016.
    """

    def __init__(self, in_features: int, categories: int, continuous: int, hidden: int = 128,
                 learn_std: bool = False):
        super().__init__()
        _check_positive("LatentCodeHead", in_features=in_features, hidden=hidden)
        for name, value in (("categories", categories), ("continuous", continuous)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"LatentCodeHead: {name} must be a non-negative integer, got {value!r}")
        if categories == 1:
            raise ValueError("LatentCodeHead: a categorical code needs at least 2 categories, got 1")
        if categories + continuous == 0:
            raise ValueError("LatentCodeHead: needs at least one code (categories >= 2 or continuous >= 1), "
                             "got categories=0 and continuous=0")
        if learn_std and not continuous:
            raise ValueError("LatentCodeHead: learn_std=True needs continuous codes, got continuous=0")
        self.in_features, self.hidden = in_features, hidden
        self.categories, self.continuous, self.learn_std = categories, continuous, bool(learn_std)
        out = categories + continuous * (2 if learn_std else 1)
        self.net = nn.Sequential(nn.Linear(in_features, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, out))

    @classmethod
    def for_discriminator(cls, D: nn.Module, categories: int, continuous: int, hidden: int = 128,
                          learn_std: bool = False) -> LatentCodeHead:
        """A head on ``D.features`` (``D.feature_dim`` inputs); refuses a ``D`` that packs samples."""
        _check_body_and_head("LatentCodeHead", D)
        _refuse_packing("LatentCodeHead", D)
        return cls(D.feature_dim, categories, continuous, hidden, learn_std)

    def forward(self, h):
        if h.ndim != 2 or h.shape[1] != self.in_features:
            raise ValueError(f"LatentCodeHead: expected features of shape (N, {self.in_features}), got {h.shape}")
        out = self.net(h)
        k, c = self.categories, self.continuous
        logits = out[:, :k] if k else None
        mean = out[:, k:k + c] if c else None
        log_std = out[:, k + c:] if self.learn_std else None
        return logits, mean, log_std

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, categories={self.categories}, continuous={self.continuous}, "
                f"hidden={self.hidden}, learn_std={self.learn_std}")
