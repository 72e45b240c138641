r"""VAE-GAN: a variational autoencoder whose decoder is a GAN's generator, its reconstructions measured in
the discriminator's features."""

from __future__ import annotations


import numpy as np

from minigan.games.base import GAMES, Game, Objective, Player
from minigan.games.networks import discriminator, generator
from minigan.losses import feature_reconstruction_loss, gaussian_kl
from minigan.models import GaussianEncoder, reparameterize

__all__ = ["VAEGAN"]


@GAMES.register("vaegan")
class VAEGAN(Game):
    r"""VAE-GAN (Larsen et al. 2016): E encodes x into :math:`q(z \mid x)`, G decodes, and D both judges
    samples and supplies the features :math:`D_l` in which a reconstruction is compared with its input.

    With :math:`(\mu, v) = E(x)`, :math:`z = \mu + e^{v/2}\epsilon` (the
    reparameterisation), the reconstruction :math:`\tilde x = G(z)` and a
    prior sample :math:`x_p = G(z_p)`, :math:`z_p \sim \mathcal N(0, I)`:

    .. math::

        L_{prior} &= \mathrm{KL}\bigl(q(z \mid x)\,\Vert\,\mathcal N(0, I)\bigr), \qquad
        L_{llike} = \tfrac12 \bigl\lVert D_l(x) - D_l(\tilde x) \bigr\rVert^2, \\
        L_{GAN} &= \log D(x) + \log(1 - D(\tilde x)) + \log(1 - D(x_p))

    E minimises :math:`L_{prior} + L_{llike}`, G minimises
    :math:`\gamma L_{llike} - L_{GAN}` and D maximises :math:`L_{GAN}`. With the
    recipe's adversarial loss :math:`\ell` each kind of fake is judged against
    the real batch, and G plays the loss's own generator side (the
    non-saturating :math:`-\log D` by default):

    .. math::

        L_D = \ell_D(D(x), D(\tilde x)) + \ell_D(D(x), D(x_p)), \qquad
        L_G = \gamma L_{llike} + \ell_G(D(\tilde x)) + \ell_G(D(x_p)), \qquad
        L_E = \beta L_{prior} + L_{llike}

    (for the standard loss, :math:`L_D` is :math:`-L_{GAN}` with the real
    term counted once per kind of fake). Three players, each on the same
    batch: D with E and G frozen; E through the frozen G and D; G through the
    frozen D, with E frozen. ``gamma`` is the paper's :math:`\gamma`,
    ``kl_weight`` :math:`\beta` (1 in the paper). E is the recipe's
    discriminator architecture with a ``2 * latent_dim``-wide head, read as
    the mean and the log-variance of :math:`q(z \mid x)`.

    References
    ----------
    Larsen, Sønderby, Larochelle, Winther. Autoencoding beyond pixels using a
    learned similarity metric. ICML 2016.
    Kingma, Welling. Auto-Encoding Variational Bayes. ICLR 2014.
    """

    networks = ("G", "E", "D")
    players = (Player("D", ("D",), lr="d_lr", critic=True), Player("E", ("E",), lr="g_lr"),
               Player("G", ("G",), lr="g_lr"))
    generators = ("G", "E")  # both averaged (EMA) alike, so that a reconstruction pairs an E and a G of one time
    single_samples = True   # reconstructions are compared sample by sample in D's features
    ranges = {"gamma": "[0, inf)", "kl_weight": "[0, inf)"}

    def __init__(self, data, model, loss, gamma: float = 1.0, kl_weight: float = 1.0):
        self.gamma, self.kl_weight = gamma, kl_weight
        super().__init__(data, model, loss)

    def build(self):
        G = generator(self.model, self.data, self.latent_dim)
        E = GaussianEncoder(discriminator(self.model, self.data, outputs=2 * self.latent_dim), self.latent_dim)
        return {"G": G, "E": E, "D": discriminator(self.model, self.data)}

    # -- the objectives ---------------------------------------------------------------------------------------

    def reconstruction(self, x):
        r""":math:`(\tilde x, \mu, v)`: G of a reparameterised draw from :math:`q(z \mid x)`, and its parameters."""
        mu, logvar = self.E(x)
        return self.G(reparameterize(mu, logvar)), mu, logvar

    def d_objective(self, batch):
        reconstructed = self.reconstruction(batch.x)[0].detach()
        prior = self.G(self.z(len(batch))).detach()
        real_out, reconstructed_out, prior_out = self.D(batch.x), self.D(reconstructed), self.D(prior)
        loss = self.loss.d_loss(real_out, reconstructed_out) + self.loss.d_loss(real_out, prior_out)
        return Objective(loss, {"d_real": real_out, "d_reconstructed": reconstructed_out, "d_prior": prior_out},
                         critic=self.D, real=batch.x, fake=prior)

    def e_objective(self, batch):
        reconstructed, mu, logvar = self.reconstruction(batch.x)
        prior_loss = gaussian_kl(mu, logvar)
        like_loss = feature_reconstruction_loss(self.D.features(batch.x), self.D.features(reconstructed))
        return Objective(self.kl_weight * prior_loss + like_loss, {"kl": prior_loss, "llike": like_loss})

    def g_objective(self, batch):
        reconstructed = self.reconstruction(batch.x)[0]
        reconstructed_features = self.D.features(reconstructed)
        like_loss = feature_reconstruction_loss(self.D.features(batch.x), reconstructed_features)
        real_out = self.D(batch.x) if self.loss.needs_real_for_g else None
        adversarial = (self.loss.g_loss(self.D.head(reconstructed_features), real_out)
                       + self.loss.g_loss(self.D(self.G(self.z(len(batch)))), real_out))
        return Objective(self.gamma * like_loss + adversarial)

    # -- the encoder ------------------------------------------------------------------------------------------

    def encode(self, x) -> np.ndarray:
        r""":math:`\mu(x)`, the mean of :math:`q(z \mid x)`, in eval mode with E's sampling copy (its EMA average
        when the run keeps one): samples ``(N, *shape)`` -> latent codes ``(N, latent_dim)``."""
        return self.on_samples(self.sampler("E"), x, "encode", lambda E, batch: E(batch)[0])

    def reconstruct(self, x) -> np.ndarray:
        r""":math:`G(\mu(x))`, with G's sampling copy (its EMA average when the run keeps one)."""
        return self.sample(len(x), z=self.encode(x))

    def sample_grid(self, n, generator=None):
        """Groups of three rows: real images, their reconstructions G(mu(x)) beneath, then samples from the prior
        (plain samples for points, which the picture draws as a cloud)."""
        if self.data.kind != "image":
            return super().sample_grid(n, generator)

        def images(count):
            real = self.real_samples(count, generator)
            return [real, self.reconstruct(real), self.sample(count, generator)]

        return self.grouped_rows(n, 3, images)
