r"""The auxiliary classifier GAN: a conditional generator and a discriminator that also names the class."""

from __future__ import annotations

from minigan.games.base import GAMES, Objective
from minigan.games.cgan import LabelledGame
from minigan.games.networks import discriminator, generator
from minigan.losses import acgan_class_loss
from minigan.models import AuxiliaryClassifierDiscriminator, ConditionalGenerator

__all__ = ["ACGAN"]


@GAMES.register("acgan")
class ACGAN(LabelledGame):
    r"""ACGAN (Odena et al. 2017): G(z, y) as in the conditional GAN, but D sees only x and predicts both S and C.

    D outputs an adversarial logit and class logits. With the source
    log-likelihood :math:`L_S` and the class log-likelihood :math:`L_C`,

    .. math::

        L_S &= \mathbb E[\log P(S{=}\text{real} \mid x)] + \mathbb E[\log P(S{=}\text{fake} \mid G(z, y))] \\
        L_C &= \mathbb E[\log P(C{=}y \mid x)] + \mathbb E[\log P(C{=}y \mid G(z, y))]

    D maximises :math:`L_S + L_C` and G maximises :math:`L_C - L_S`. With the
    recipe's adversarial loss :math:`\ell` in place of :math:`L_S` and the
    class cross-entropy :math:`\mathrm{CE}` (:func:`minigan.losses.acgan_class_loss`)
    in place of :math:`-L_C`, weighted by ``class_weight`` :math:`\lambda_C`:

    .. math::

        L_D = \ell_D(D_S(x), D_S(\tilde x)) + \lambda_C\,[\mathrm{CE}(D_C(x), y) + \mathrm{CE}(D_C(\tilde x), y)],
        \qquad
        L_G = \ell_G(D_S(\tilde x)) + \lambda_C\, \mathrm{CE}(D_C(\tilde x), y)

    with :math:`\tilde x = G(z, y)`.

    References
    ----------
    Odena, Olah, Shlens. Conditional Image Synthesis with Auxiliary Classifier
    GANs. ICML 2017 (arXiv:1610.09585, 2016).
    """

    single_samples = True
    ranges = {"embedding_dim": "[1, inf)", "class_weight": "[0, inf)"}

    def __init__(self, data, model, loss, embedding_dim: int = 16, class_weight: float = 1.0):
        self.embedding_dim, self.class_weight = embedding_dim, class_weight
        super().__init__(data, model, loss)

    def build(self):
        classes, e = self.data.num_classes, self.embedding_dim
        G = ConditionalGenerator(generator(self.model, self.data, self.latent_dim + e), classes, e)
        return {"G": G, "D": AuxiliaryClassifierDiscriminator(discriminator(self.model, self.data), classes)}

    def d_objective(self, batch):
        x, y = batch
        fake = self.G(self.z(len(batch)), y).detach()
        (real_out, real_class), (fake_out, fake_class) = self.D(x), self.D(fake)
        class_loss = acgan_class_loss(real_class, y) + acgan_class_loss(fake_class, y)
        return Objective(self.loss.d_loss(real_out, fake_out) + self.class_weight * class_loss,
                         {"d_real": real_out, "d_fake": fake_out, "d_class": class_loss},
                         critic=lambda samples: self.D(samples)[0], real=x, fake=fake)

    def g_objective(self, batch):
        x, y = batch
        fake_out, fake_class = self.D(self.G(self.z(len(batch)), y))
        real_out = self.D(x)[0] if self.loss.needs_real_for_g else None
        class_loss = acgan_class_loss(fake_class, y)
        return Objective(self.loss.g_loss(fake_out, real_out) + self.class_weight * class_loss, {"g_class": class_loss})

    def critic(self):
        return lambda samples: self.D(samples)[0]
