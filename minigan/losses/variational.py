r"""Variational autoencoder terms: the KL divergence of a diagonal Gaussian to the prior, and a Gaussian
reconstruction likelihood measured in a network's feature space (VAE-GAN).

The KL divergence is a fused primitive with a closed-form VJP; the feature
reconstruction is a composite of differentiable minigan ops. Each docstring
states the function and its gradient.
"""

from __future__ import annotations

from minigan.autograd import Tensor, primitive
from minigan.kernels import array_module
from minigan.ops import exp, mean, sum

__all__ = ["gaussian_kl", "feature_reconstruction_loss"]


@primitive(name="gaussian_kl_elementwise")
def _gaussian_kl(mu, logvar):
    r"""Elementwise :math:`\mathrm{KL}\bigl(\mathcal N(\mu, e^{v})\,\Vert\,\mathcal N(0, 1)\bigr)`:

    .. math:: k = \tfrac12\bigl(\mu^2 + e^{v} - 1 - v\bigr)

    VJP: :math:`\bar\mu = \bar k\,\mu`, :math:`\bar v = \tfrac12 \bar k\,(e^{v} - 1)`.
    """
    return 0.5 * (mu * mu + array_module(logvar).exp(logvar) - 1 - logvar)


@_gaussian_kl.vjp
def _(g, kl, mu, logvar):
    return (g * mu if mu.requires_grad else None,
            g * (exp(logvar) - 1) * 0.5 if logvar.requires_grad else None)


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    r"""The KL divergence of :math:`q(z \mid x) = \mathcal N(\mu, \operatorname{diag} e^{v})` from the prior
    :math:`\mathcal N(0, I)`, summed over the latent dimensions and averaged over the batch:

    .. math::

        L_{prior} = \frac1N \sum_n \sum_j \tfrac12\bigl(\mu_{nj}^2 + e^{v_{nj}} - 1 - v_{nj}\bigr)

    (Kingma and Welling 2014, Appendix B), with :math:`v = \log\sigma^2` the
    encoder's log-variance. ``mu`` and ``logvar`` are ``(N, k)``. It is 0 exactly
    when :math:`\mu = 0` and :math:`v = 0`.

    Gradient (a fused primitive): :math:`\bar\mu_{nj} = \mu_{nj}/N`,
    :math:`\bar v_{nj} = \tfrac12(e^{v_{nj}} - 1)/N`.

    References
    ----------
    Kingma, Welling. Auto-Encoding Variational Bayes. ICLR 2014.
    """
    if mu.ndim != 2 or mu.shape != logvar.shape:
        raise ValueError(f"gaussian_kl: mu and logvar must both have shape (N, latent_dim); got {mu.shape} "
                         f"and {logvar.shape}")
    return mean(sum(_gaussian_kl(mu, logvar), axis=1))


def feature_reconstruction_loss(real_features: Tensor, fake_features: Tensor) -> Tensor:
    r"""VAE-GAN's reconstruction error in a discriminator's feature space, a Gaussian negative log-likelihood:

    .. math::

        L_{llike} = -\frac1N \sum_n \log \mathcal N\bigl(D_l(x_n);\ D_l(\tilde x_n),\ I\bigr)
                  = \frac1{2N} \sum_n \bigl\lVert D_l(x_n) - D_l(\tilde x_n) \bigr\rVert_2^2 + \text{const}

    without the constant, for the features :math:`D_l` of each sample
    :math:`x_n` and its reconstruction :math:`\tilde x_n = G(E(x_n))`, row for
    row (the norm runs over every feature axis). Both arguments receive
    gradients; in VAE-GAN the real features come from a frozen D and need none.

    Gradient: :math:`\bar f_n = (f_n - r_n)/N` for the reconstructions'
    features :math:`f_n`, and its negative for the real ones :math:`r_n`.

    References
    ----------
    Larsen, Sønderby, Larochelle, Winther. Autoencoding beyond pixels using a
    learned similarity metric. ICML 2016.
    """
    if real_features.shape != fake_features.shape or real_features.ndim < 2:
        raise ValueError(f"feature_reconstruction_loss: real features {real_features.shape} and reconstructed "
                         f"features {fake_features.shape} must have one and the same shape (N, ...)")
    gap = real_features - fake_features
    return 0.5 * mean(sum((gap * gap).reshape(gap.shape[0], -1), axis=1))
