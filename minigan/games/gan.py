r"""The unconditional GAN: one generator against one discriminator, with any adversarial loss."""

from __future__ import annotations

from minigan.games.base import GAMES, Game, Objective
from minigan.games.networks import discriminator, generator

__all__ = ["GAN"]


@GAMES.register("gan")
class GAN(Game):
    r"""G maps noise to samples; D tells them from the data (Goodfellow et al. 2014).

    .. math:: \min_G \max_D\; \mathbb E_x[\log D(x)] + \mathbb E_z[\log(1 - D(G(z)))]

    in its general form: with the adversarial loss :math:`\ell` of the
    recipe's ``[loss]`` table (non-saturating, hinge, Wasserstein, ...),

    .. math::

        L_D = \ell_D\bigl(D(x),\ D(G(z))\bigr), \qquad
        L_G = \ell_G\bigl(D(G(z))\ [,\ D(x)]\bigr)

    (relativistic losses also read :math:`D(x)` in G's loss). D's player
    updates D with G frozen; G's player updates G through the frozen D.

    References
    ----------
    Goodfellow, Pouget-Abadie, Mirza, Xu, Warde-Farley, Ozair, Courville,
    Bengio. Generative Adversarial Nets. NeurIPS 2014.
    """

    def build(self):
        return {"G": generator(self.model, self.data, self.latent_dim), "D": discriminator(self.model, self.data)}

    def d_objective(self, batch):
        fake = self.G(self.z(len(batch))).detach()
        real_out, fake_out = self.D(batch.x), self.D(fake)
        return Objective(self.loss.d_loss(real_out, fake_out), {"d_real": real_out, "d_fake": fake_out},
                         critic=self.D, real=batch.x, fake=fake)

    def g_objective(self, batch):
        fake_out = self.D(self.G(self.z(len(batch))))
        real_out = self.D(batch.x) if self.loss.needs_real_for_g else None
        return Objective(self.loss.g_loss(fake_out, real_out))
