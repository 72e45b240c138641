r"""CatGAN: a discriminator that sorts the data into K classes it finds itself, and a generator that fools it."""

from __future__ import annotations

import numpy as np

import minigan as mg
from minigan.games.base import GAMES, Game, Objective
from minigan.games.networks import discriminator, generator
from minigan.losses import softmax_entropy
from minigan.registry import ConfigError

__all__ = ["CatGAN"]

POOL = 20  # generated samples drawn per picture cell, among which D's most confident are shown


@GAMES.register("catgan")
class CatGAN(Game):
    r"""Categorical GAN (Springenberg 2016): D puts each sample in one of ``classes`` = K classes, learned
    without labels; it is certain of a class on real data and uncertain on generated data.

    D gives K class logits, and so :math:`p(y \mid x, D) = \operatorname{softmax}(D(x))`.
    With :math:`H` the entropy of one sample's class distribution and
    :math:`H_X`, :math:`H_G` that of the class distribution averaged over the
    real and the generated batch (eq. 7 and 9 of the paper):

    .. math::

        L_D = \mathbb E_x H\bigl(p(y \mid x, D)\bigr) - \mathbb E_z H\bigl(p(y \mid G(z), D)\bigr)
              - \lambda H_X\bigl[p(y \mid D)\bigr]

        L_G = \mathbb E_z H\bigl(p(y \mid G(z), D)\bigr) - \lambda H_G\bigl[p(y \mid D)\bigr]

    the ``catgan`` loss of the recipe's ``[loss]`` table
    (:class:`~minigan.losses.CatGANLoss`, ``marginal_weight`` :math:`\lambda`),
    which this game requires. D's player minimises :math:`L_D` with G frozen:
    confident on real data, spread evenly over the classes there, and unsure
    on samples. G's player minimises :math:`L_G` through the frozen D: samples
    D is sure of, spread evenly over the classes. D never reads labels; its
    classes are clusters of the data, which :meth:`classify` reads out.

    References
    ----------
    Springenberg. Unsupervised and Semi-supervised Learning with Categorical
    Generative Adversarial Networks. ICLR 2016 (arXiv:1511.06390, 2015).
    """

    single_samples = True
    ranges = {"classes": "[2, inf)"}

    def __init__(self, data, model, loss, classes: int = 10):
        if loss.game != "catgan":
            raise ConfigError(f"game catgan needs loss.name = 'catgan' (entropies of D's class logits), "
                              f"got {loss.name!r}")
        self.classes = classes
        super().__init__(data, model, loss)

    def build(self):
        return {"G": generator(self.model, self.data, self.latent_dim),
                "D": discriminator(self.model, self.data, outputs=self.classes)}

    # -- the objectives ---------------------------------------------------------------------------------------

    def d_objective(self, batch):
        fake = self.G(self.z(len(batch))).detach()
        real_out, fake_out = self.D(batch.x), self.D(fake)
        logs = {"h_real": softmax_entropy(real_out.detach()), "h_fake": softmax_entropy(fake_out.detach())}
        return Objective(self.loss.d_loss(real_out, fake_out), logs, critic=self._certainty, real=batch.x, fake=fake)

    def g_objective(self, batch):
        return Objective(self.loss.g_loss(self.D(self.G(self.z(len(batch))))))

    def _certainty(self, x):
        """What a gradient penalty looks at: the negative entropy of D's prediction, one value per sample."""
        return -softmax_entropy(self.D(x)).reshape(-1, 1)

    def critic(self):
        return None  # D gives class logits, not a realness logit: no rejection sampling

    # -- the classes D found ----------------------------------------------------------------------------------

    def class_probabilities(self, x) -> np.ndarray:
        """:math:`p(y \\mid x, D)` in eval mode: samples ``(N, *shape)`` -> ``(N, classes)`` probabilities."""
        return self.on_samples(self.D, x, "class_probabilities", lambda D, batch: mg.softmax(D(batch), dim=1))

    def classify(self, x) -> np.ndarray:
        """The class D puts each sample in, ``(N,)`` integers in ``[0, classes)``."""
        return self.class_probabilities(x).argmax(axis=1)

    def sample_grid(self, n, generator=None):
        """One row per class of D: the real samples D is surest belong to it (most confident first), then the
        generated samples it is surest of; a cell is blank where D put too few samples in the class (plain
        samples for points)."""
        if self.data.kind != "image":
            return super().sample_grid(n, generator)
        columns = max(2, n // self.classes)
        real_columns = columns // 2
        real = self.real_samples(POOL * n, generator)
        fake = self.sample(POOL * n, generator)
        real_p, fake_p = self.class_probabilities(real), self.class_probabilities(fake)
        rows = [np.concatenate([_surest(real, real_p, k, real_columns),
                                _surest(fake, fake_p, k, columns - real_columns)]) for k in range(self.classes)]
        return np.concatenate(rows), columns


def _surest(x: np.ndarray, probabilities: np.ndarray, k: int, count: int) -> np.ndarray:
    """The ``count`` samples of ``x`` put in class ``k`` with the highest probability, then blanks to fill."""
    mine = np.flatnonzero(probabilities.argmax(axis=1) == k)
    chosen = x[mine[np.argsort(-probabilities[mine, k])][:count]]
    blank = np.full((count - len(chosen), *x.shape[1:]), x.min(), dtype=x.dtype)
    return np.concatenate([chosen, blank])
