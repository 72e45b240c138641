r"""pix2pix: a U-Net translates an image, a PatchGAN judges each patch of the (input, output) pair."""

from __future__ import annotations

from minigan.games.base import GAMES, Objective
from minigan.games.translation import ImageToImageGame
from minigan.models import PatchDiscriminator, UNetGenerator
from minigan.models.image_to_image import NORMS
from minigan.ops import abs as absolute
from minigan.ops import cat
from minigan.registry import ConfigError

__all__ = ["Pix2Pix"]


@GAMES.register("pix2pix")
class Pix2Pix(ImageToImageGame):
    r"""pix2pix (Isola et al. 2017): a conditional GAN from an image :math:`x` to its paired image :math:`y`.

    G is a U-Net (:class:`~minigan.models.UNetGenerator`), whose only noise is
    its dropout; D a PatchGAN (:class:`~minigan.models.PatchDiscriminator`)
    that reads :math:`x` and the real or generated :math:`y` concatenated on
    channels and gives one logit per patch. With the recipe's adversarial loss
    :math:`\ell` (the paper's is the non-saturating one), each taken as the
    mean over the patches,

    .. math::

        L_D = \tfrac12\, \ell_D\bigl(D(x, y),\ D(x, G(x))\bigr), \qquad
        L_G = \ell_G\bigl(D(x, G(x))\bigr) + \lambda\, \tfrac1d \lVert y - G(x) \rVert_1

    with :math:`d` the values in a batch of images. The L1 term pulls G's
    output towards the target at low frequencies; the PatchGAN, which sees
    only patches of ``patch`` pixels, asks for the local texture that L1
    alone blurs. The paper halves :math:`L_D` to slow D relative to G, and
    takes :math:`\lambda = 100`.

    Options: ``l1_weight`` (:math:`\lambda`), ``patch_layers`` (the PatchGAN's
    stride-2 layers :math:`L`; its patches are :math:`9 \cdot 2^L - 2` pixels
    across, 16 for :math:`L = 1`), ``dropout`` (G's), ``norm`` (``batch``, the
    paper's, ``instance`` or ``none``, in both networks), ``residual`` (G
    outputs :math:`x + U(x)` for a U-Net :math:`U`, not :math:`U(x)`; for
    super-resolution, where the bilinear input is most of the target, see
    :class:`~minigan.models.UNetGenerator`). The widths are ``model.g_width``
    (G's first layer) and ``model.d_width`` (D's).

    References
    ----------
    Isola, Zhu, Zhou, Efros. Image-to-Image Translation with Conditional
    Adversarial Networks. CVPR 2017.
    """

    ranges = {"l1_weight": "[0, inf)", "patch_layers": "[0, 5]", "dropout": "[0, 1)"}

    def __init__(self, data, model, loss, l1_weight: float = 100.0, patch_layers: int = 1, dropout: float = 0.5,
                 norm: str = "batch", residual: bool = False):
        if norm not in NORMS:
            raise ConfigError(f"game.norm must be one of {', '.join(map(repr, NORMS))}, got {norm!r}")
        if residual and data.task and data.shape[0] != data.shape_b[0]:
            raise ConfigError(f"game.residual adds G's input to its output, but data.task = {data.task!r} maps "
                              f"{data.shape[0]} channels to {data.shape_b[0]}")
        self.l1_weight, self.patch_layers, self.dropout, self.norm = l1_weight, patch_layers, dropout, norm
        self.residual = residual
        super().__init__(data, model, loss)

    def build(self):
        (c_in, size, _), c_out = self.data.shape, self.data.shape_b[0]
        G = UNetGenerator(c_in, c_out, size, self.model["g_width"], norm=self.norm, dropout=self.dropout,
                          residual=self.residual)
        D = PatchDiscriminator(c_in + c_out, self.model["d_width"], self.patch_layers, self.norm)
        return {"G": G, "D": D}

    def pair_critic(self, x):
        """D with the input ``x`` bound in: images ``y`` -> one logit per patch of the pair ``(x, y)``."""
        return lambda y: self.D(cat([x, y], dim=1))

    def d_objective(self, batch):
        x, y = batch.x, batch.x_b
        fake = self.G(x).detach()
        critic = self.pair_critic(x)
        real_out, fake_out = critic(y), critic(fake)
        return Objective(0.5 * self.loss.d_loss(real_out, fake_out), {"d_real": real_out, "d_fake": fake_out},
                         critic=critic, real=y, fake=fake)

    def g_objective(self, batch):
        x, y = batch.x, batch.x_b
        fake = self.G(x)
        critic = self.pair_critic(x)
        real_out = critic(y) if self.loss.needs_real_for_g else None
        l1 = absolute(fake - y).mean()
        return Objective(self.loss.g_loss(critic(fake), real_out) + self.l1_weight * l1, {"l1": l1})
