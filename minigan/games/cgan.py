r"""The conditional GAN: generator and discriminator both see the class label."""

from __future__ import annotations

import numpy as np

import minigan as mg
from minigan.games.base import GAMES, Game, Objective
from minigan.games.networks import discriminator, generator
from minigan.models import ConcatDiscriminator, ConditionalGenerator, ProjectionDiscriminator

__all__ = ["ConditionalGAN", "LabelledGame"]


class LabelledGame(Game):
    """A family whose generator is asked for a class: ``sample(n, labels=...)``, one picture row per class."""

    needs_labels = True
    condition = "labels"

    @property
    def condition_count(self) -> int:
        return self.data.num_classes

    def generator_inputs(self, n, generator=None, z=None, labels=None):
        """Noise and labels: ``labels`` is one class or ``n`` of them (default: 0, 1, 2, ... cycling)."""
        y = self._classes(labels, n, self.data.num_classes, "labels")
        return self._given_z(n, z, generator), mg.tensor(y)

    def sample_grid(self, n, generator=None):
        """One row per class, one noise vector per column shared down it: what changes with the label alone."""
        classes = self.data.num_classes
        columns = max(1, n // classes)
        z = np.tile(self.z(columns, generator).numpy(), (classes, 1))  # row c holds z_1, ..., z_columns again
        labels = np.repeat(np.arange(classes), columns)                   # 0, 0, ..., 1, 1, ...
        return self.sample(len(z), generator, z=z, labels=labels), columns


@GAMES.register("cgan")
class ConditionalGAN(LabelledGame):
    r"""Conditional GAN (Mirza & Osindero 2014): G and D both see the label :math:`y`.

    .. math::

        \min_G \max_D\; \mathbb E_{x,y}\bigl[\log D(x \mid y)\bigr]
                      + \mathbb E_{z,y}\bigl[\log\bigl(1 - D(G(z \mid y) \mid y)\bigr)\bigr]

    written with the recipe's adversarial loss :math:`\ell` as
    :math:`L_D = \ell_D(D(x \mid y), D(G(z \mid y) \mid y))` and
    :math:`L_G = \ell_G(D(G(z \mid y) \mid y))`. G is asked for the labels of
    the real batch, so generated classes follow the data's class frequencies.

    G receives an embedding of :math:`y` concatenated to :math:`z`. D receives
    it as extra input channels, or, with ``projection = true``, through the
    projection discriminator of Miyato & Koyama (2018),
    :math:`D(x \mid y) = \psi(\phi(x)) + \langle E_y, \phi(x) \rangle`, which
    scores how well the features of :math:`x` fit class :math:`y`.

    Options: ``embedding_dim`` (size of the label embeddings of G and of the
    concatenating D), ``projection``.

    References
    ----------
    Mirza, Osindero. Conditional Generative Adversarial Nets. arXiv:1411.1784, 2014.
    Miyato, Koyama. cGANs with Projection Discriminator. ICLR 2018.
    """

    ranges = {"embedding_dim": "[1, inf)"}

    def __init__(self, data, model, loss, embedding_dim: int = 16, projection: bool = False):
        self.embedding_dim, self.projection = embedding_dim, projection
        self.single_samples = projection  # the projection reads one sample's features per label
        super().__init__(data, model, loss)

    def build(self):
        classes, e = self.data.num_classes, self.embedding_dim
        G = ConditionalGenerator(generator(self.model, self.data, self.latent_dim + e), classes, e)
        if self.projection:
            D = ProjectionDiscriminator(discriminator(self.model, self.data), classes)
        else:
            D = ConcatDiscriminator(discriminator(self.model, self.data, extra_channels=e), classes, e)
        return {"G": G, "D": D}

    def d_objective(self, batch):
        x, y = batch
        fake = self.G(self.z(len(batch)), y).detach()
        real_out, fake_out = self.D(x, y), self.D(fake, y)
        return Objective(self.loss.d_loss(real_out, fake_out), {"d_real": real_out, "d_fake": fake_out},
                         critic=lambda samples: self.D(samples, y), real=x, fake=fake)

    def g_objective(self, batch):
        x, y = batch
        fake_out = self.D(self.G(self.z(len(batch)), y), y)
        real_out = self.D(x, y) if self.loss.needs_real_for_g else None
        return Objective(self.loss.g_loss(fake_out, real_out))

    def critic(self):
        return None  # D judges (sample, label) pairs

