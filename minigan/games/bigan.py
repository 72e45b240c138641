r"""BiGAN / ALI: an encoder learns the generator's inverse because the discriminator judges (sample, latent) pairs."""

from __future__ import annotations

import math

import numpy as np

import minigan as mg
from minigan.games.base import GAMES, Game, Objective, Player
from minigan.games.networks import discriminator, generator
from minigan.models import JointDiscriminator

__all__ = ["BiGAN"]


@GAMES.register("bigan")
class BiGAN(Game):
    r"""BiGAN (Donahue et al. 2017), also ALI (Dumoulin et al. 2017): G maps z to x, E maps x to z, and D tells
    the pairs :math:`(x, E(x))` from the pairs :math:`(G(z), z)`.

    .. math::

        \min_{G, E} \max_D\; V(D, E, G) = \mathbb E_{x}\bigl[\log D(x, E(x))\bigr]
            + \mathbb E_{z}\bigl[\log\bigl(1 - D(G(z), z)\bigr)\bigr]

    At the optimum the two joint distributions are equal, so E inverts G:
    :math:`E = G^{-1}` on the data and :math:`G(E(x)) = x` (Donahue et al., Theorem 2).
    With the recipe's adversarial loss :math:`\ell_D` (real first, then fake),
    D's player minimises

    .. math:: L_D = \ell_D\bigl(D(x, E(x)),\ D(G(z), z)\bigr)

    with G and E frozen, and the player of G and E minimises the same loss with
    the roles swapped, as the papers train it ("inverting the labels", the
    non-saturating form of :math:`\min_{G,E} V`):

    .. math:: L_{G,E} = \ell_D\bigl(D(G(z), z),\ D(x, E(x))\bigr)

    through the frozen D. D is a :class:`~minigan.models.JointDiscriminator`
    on the recipe's discriminator architecture, E that architecture with a
    ``latent_dim``-wide head. A gradient penalty, when configured, is taken on
    the joined pair :math:`[x; z]`, the input D actually judges. The trainer's
    EMA, when configured, averages E as well as G.

    References
    ----------
    Donahue, Krähenbühl, Darrell. Adversarial Feature Learning. ICLR 2017.
    Dumoulin, Belghazi, Poole, Mastropietro, Lamb, Arjovsky, Courville.
    Adversarially Learned Inference. ICLR 2017.
    """

    networks = ("G", "E", "D")
    players = (Player("D", ("D",), lr="d_lr", critic=True), Player("G", ("G", "E"), lr="g_lr"))
    generators = ("G", "E")  # both averaged (EMA) alike, so that a reconstruction pairs an E and a G of one time
    single_samples = True

    def build(self):
        G = generator(self.model, self.data, self.latent_dim)
        E = discriminator(self.model, self.data, outputs=self.latent_dim)
        D = JointDiscriminator(discriminator(self.model, self.data, extra_channels=self.latent_dim), self.latent_dim)
        return {"G": G, "E": E, "D": D}

    # -- the objectives ---------------------------------------------------------------------------------------

    def d_objective(self, batch):
        z = self.z(len(batch))
        fake, code = self.G(z).detach(), self.E(batch.x).detach()
        real_out, fake_out = self.D(batch.x, code), self.D(fake, z)
        return Objective(self.loss.d_loss(real_out, fake_out), {"d_real": real_out, "d_fake": fake_out},
                         critic=self._pair_critic, real=self._pair(batch.x, code), fake=self._pair(fake, z))

    def g_objective(self, batch):
        z = self.z(len(batch))
        real_out, fake_out = self.D(batch.x, self.E(batch.x)), self.D(self.G(z), z)
        return Objective(self.loss.d_loss(fake_out, real_out))

    def _pair(self, x, z):
        """``[x; z]`` flattened to ``(N, x's size + latent_dim)``: one point for the gradient penalty."""
        return mg.cat([x.reshape(x.shape[0], -1), z], 1)

    def _pair_critic(self, pairs):
        """D on joined pairs (the penalty's interpolates), split back into samples and latents."""
        size = math.prod(self.data.shape)
        return self.D(pairs[:, :size].reshape(pairs.shape[0], *self.data.shape), pairs[:, size:])

    def critic(self):
        return None  # D judges pairs, not samples: no rejection sampling

    # -- the encoder ------------------------------------------------------------------------------------------

    def encode(self, x) -> np.ndarray:
        """E(x) in eval mode, with E's sampling copy (its EMA average when the run keeps one): samples
        ``(N, *shape)`` -> latent codes ``(N, latent_dim)``."""
        return self.on_samples(self.sampler("E"), x, "encode")

    def reconstruct(self, x) -> np.ndarray:
        """G(E(x)), with G's sampling copy (its EMA average when the run keeps one)."""
        return self.sample(len(x), z=self.encode(x))

    def sample_grid(self, n, generator=None):
        """Real images and their reconstructions G(E(x)), in alternating rows of the same images (plain samples
        for points, which the picture draws as a cloud)."""
        if self.data.kind != "image":
            return super().sample_grid(n, generator)

        def images(count):
            real = self.real_samples(count, generator)
            return [real, self.reconstruct(real)]

        return self.grouped_rows(n, 2, images)
