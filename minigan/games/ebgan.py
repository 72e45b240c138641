r"""EBGAN: the discriminator is an autoencoder that assigns low energy to the data and high energy to samples."""

from __future__ import annotations


import numpy as np

import minigan as mg
from minigan.games.base import GAMES, Game, Objective
from minigan.games.networks import autoencoder, generator
from minigan.losses import pulling_away_term
from minigan.models import ENERGIES
from minigan.registry import ConfigError

__all__ = ["AutoencoderGame", "EBGAN"]


class AutoencoderGame(Game):
    """A game whose D is an :class:`~minigan.models.AutoencoderDiscriminator`, played with the loss of the same
    name on the energies it outputs (EBGAN, BEGAN)."""

    single_samples = True  # the energy is per sample
    ranges = {"code_dim": "[1, inf)"}

    def __init__(self, data, model, loss, code_dim: int, energy: str):
        if loss.game != self.name:
            raise ConfigError(f"game {self.name!r} plays on reconstruction energies with loss.name = "
                              f"{self.name!r}, got {loss.name!r}; set loss.name = {self.name!r}")
        if energy not in ENERGIES:
            raise ConfigError(f"game.energy must be one of {', '.join(map(repr, ENERGIES))}, got {energy!r}")
        self.code_dim, self.energy = code_dim, energy
        super().__init__(data, model, loss)

    def build(self):
        return {"G": generator(self.model, self.data, self.latent_dim),
                "D": autoencoder(self.model, self.data, self.code_dim, self.energy)}

    def energies(self, batch) -> tuple[mg.Tensor, mg.Tensor, mg.Tensor]:
        """D's energies of the real batch and of as many samples of the frozen G, with those samples."""
        fake = self.G(self.z(len(batch))).detach()
        return self.D(batch.x), self.D(fake), fake

    def critic(self):
        return None  # D's output is an energy, not the logit that rejection sampling reads

    def reconstruct(self, x) -> np.ndarray:
        """D's reconstructions of samples ``(N, *shape)``, in eval mode."""
        return self.on_samples(self.D, x, "reconstruct", lambda D, batch: D.reconstruct(batch))


@GAMES.register("ebgan")
class EBGAN(AutoencoderGame):
    r"""EBGAN (Zhao et al. 2017): D is an autoencoder, and its reconstruction error is an energy that it lowers on
    the data and raises, up to a margin, on G's samples.

    With :math:`D(x) = \lVert \operatorname{Dec}(\operatorname{Enc}(x)) - x \rVert^2` (per pixel, ``energy = "mse"``)
    and the margin :math:`\kappa` of the ``ebgan`` loss,

    .. math::

        L_D = \mathbb E_x\, D(x) + \mathbb E_z \bigl[\kappa - D(G(z))\bigr]^+, \qquad
        L_G = \mathbb E_z\, D(G(z)) + \lambda_{PT}\, PT\bigl(\operatorname{Enc}(G(z))\bigr)

    where the pulling-away term :math:`PT` (:func:`minigan.losses.pulling_away_term`),
    the mean squared cosine similarity of the codes of distinct samples,
    pushes G's batch apart against mode collapse. D's player updates D
    (encoder and decoder) with G frozen; G's player updates G through the
    frozen D: its samples must be easy to rebuild and their codes unlike each
    other. ``pt_weight`` is :math:`\lambda_{PT}` (the paper's 0.1).

    References
    ----------
    Zhao, Mathieu, LeCun. Energy-based Generative Adversarial Network. ICLR
    2017 (arXiv:1609.03126, 2016).
    """

    ranges = {**AutoencoderGame.ranges, "pt_weight": "[0, inf)"}

    def __init__(self, data, model, loss, code_dim: int = 32, energy: str = "mse", pt_weight: float = 0.1):
        self.pt_weight = pt_weight
        super().__init__(data, model, loss, code_dim, energy)

    def d_objective(self, batch):
        real_energy, fake_energy, fake = self.energies(batch)
        return Objective(self.loss.d_loss(real_energy, fake_energy), {"d_real": real_energy, "d_fake": fake_energy},
                         critic=self.D, real=batch.x, fake=fake)

    def g_objective(self, batch):
        fake = self.G(self.z(len(batch)))
        code = self.D.encode(fake)
        loss = self.loss.g_loss(self.D.energy_of(code, fake))
        if not self.pt_weight:
            return Objective(loss)
        pulling_away = pulling_away_term(code)
        return Objective(loss + self.pt_weight * pulling_away, {"g_pt": pulling_away})

    def sample_grid(self, n, generator=None):
        """Groups of four rows: real digits, D's reconstructions of them, samples, D's reconstructions of those;
        a sample's energy is how far it and its reconstruction differ (plain samples for points)."""
        if self.data.kind != "image":
            return super().sample_grid(n, generator)

        def images(count):
            real, fake = self.real_samples(count, generator), self.sample(count, generator)
            return [real, self.reconstruct(real), fake, self.reconstruct(fake)]

        return self.grouped_rows(n, 4, images)
