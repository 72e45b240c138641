r"""BEGAN: an autoencoder discriminator held in equilibrium with the generator by an integral controller."""

from __future__ import annotations

from minigan.games.base import GAMES, Objective
from minigan.games.ebgan import AutoencoderGame

__all__ = ["BEGAN"]


@GAMES.register("began")
class BEGAN(AutoencoderGame):
    r"""BEGAN (Berthelot et al. 2017): D is an autoencoder; G and D play on its reconstruction losses, balanced by
    :math:`k_t`.

    With :math:`\mathcal L(v) = |v - D(v)|` the pixel-wise L1 reconstruction loss (``energy = "l1"``;
    ``"mse"`` is :math:`\eta = 2`), averaged over a batch,

    .. math::

        L_D = \mathcal L(x) - k_t\, \mathcal L(G(z_D)), \qquad L_G = \mathcal L(G(z_G)), \qquad
        k_{t+1} = \operatorname{clip}_{[0, 1]}\bigl(k_t + \lambda_k (\gamma\, \mathcal L(x) - \mathcal L(G(z_D)))\bigr)

    (the ``began`` loss: ``gamma``, ``lambda_k`` and the starting ``k``). The
    controller holds :math:`\mathbb E\,\mathcal L(G(z)) = \gamma\, \mathbb E\,\mathcal L(x)`:
    when D rebuilds G's samples too well, :math:`k_t` grows and D pushes their
    loss up. :math:`k_t` sums the balance errors of all steps so far (until
    the clip acts), so it is an integral controller, although the paper calls
    it proportional. The convergence measure

    .. math:: \mathcal M_{global} = \mathcal L(x) + |\gamma\, \mathcal L(x) - \mathcal L(G(z_D))|

    falls as the samples improve. D's player updates D with G frozen; then
    :math:`k_t` moves once, after D's optimiser step, from the losses of that
    step (the objective hands the move to the trainer as ``after_step``,
    which logs ``k`` and ``m_global``). G's player updates G through the
    frozen D. :math:`k_t` is the loss's state, saved in every checkpoint.

    References
    ----------
    Berthelot, Schumm, Metz. BEGAN: Boundary Equilibrium Generative Adversarial
    Networks. arXiv:1703.10717, 2017.
    """

    curves = ("m_global", "k")

    def __init__(self, data, model, loss, code_dim: int = 32, energy: str = "l1"):
        super().__init__(data, model, loss, code_dim, energy)

    def d_objective(self, batch):
        real_loss, fake_loss, fake = self.energies(batch)
        real_value, fake_value = real_loss.detach(), fake_loss.detach()
        return Objective(self.loss.d_loss(real_loss, fake_loss), {"d_real": real_loss, "d_fake": fake_loss},
                         critic=self.D, real=batch.x, fake=fake,
                         after_step=lambda: self.balance(real_value, fake_value))

    def g_objective(self, batch):
        return Objective(self.loss.g_loss(self.D(self.G(self.z(len(batch))))))

    def balance(self, real_loss, fake_loss) -> dict:
        r"""Move :math:`k_t` by the losses of one D step; returns the new ``k`` and that step's ``m_global``."""
        m_global = self.loss.update(real_loss, fake_loss)
        return {"k": self.loss.k, "m_global": m_global}
