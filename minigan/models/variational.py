r"""A variational encoder: a network whose ``2k`` outputs are the mean and log-variance of
:math:`q(z \mid x) = \mathcal N(\mu(x), \operatorname{diag} \sigma^2(x))`, and the reparameterisation trick."""

from __future__ import annotations

from minigan import nn
from minigan.autograd.creation import Generator, randn

__all__ = ["GaussianEncoder", "reparameterize"]


def reparameterize(mu, logvar, noise=None, generator: Generator | None = None):
    r"""A draw of :math:`z \sim \mathcal N(\mu, \operatorname{diag} e^{v})` that is differentiable in
    :math:`\mu` and :math:`v = \log\sigma^2` (Kingma and Welling 2014):

    .. math:: z = \mu + e^{v/2} \odot \epsilon, \qquad \epsilon \sim \mathcal N(0, I)

    ``noise`` gives :math:`\epsilon` (shaped like ``mu``); by default it is drawn
    from ``generator`` (minigan's default one when None), in ``mu``'s dtype.
    A composition of ``exp``, ``mul`` and ``add``, so its gradient is theirs:
    :math:`\bar\mu = \bar z`, :math:`\bar v = \tfrac12\,\bar z \odot \epsilon\, e^{v/2}`.
    """
    if mu.shape != logvar.shape:
        raise ValueError(f"reparameterize: mu {mu.shape} and logvar {logvar.shape} must have the same shape")
    if noise is None:
        noise = randn(*mu.shape, generator=generator, dtype=mu.dtype)
    elif noise.shape != mu.shape:
        raise ValueError(f"reparameterize: noise {noise.shape} must have mu's shape {mu.shape}")
    return mu + (logvar * 0.5).exp() * noise


class GaussianEncoder(nn.Module):
    r"""``x`` -> :math:`(\mu, v)`, each ``(N, latent_dim)``: the first and second halves of a base network's
    ``2 * latent_dim`` outputs, the mean and the log-variance :math:`v = \log\sigma^2` of :math:`q(z \mid x)`.

    The base is any network with ``2 * latent_dim`` outputs (VAE-GAN's E is a
    discriminator body with that head). :func:`reparameterize` turns the pair
    into a differentiable sample.
    """

    def __init__(self, base: nn.Module, latent_dim: int):
        super().__init__()
        self.base, self.latent_dim = base, latent_dim

    def forward(self, x):
        out = self.base(x)
        if out.ndim != 2 or out.shape[1] != 2 * self.latent_dim:
            raise ValueError(f"GaussianEncoder: the base network must give (N, {2 * self.latent_dim}) outputs "
                             f"(a mean and a log-variance of {self.latent_dim} each), got {out.shape}")
        return out[:, :self.latent_dim], out[:, self.latent_dim:]

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}"
