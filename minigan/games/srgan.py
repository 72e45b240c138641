r"""SRGAN: a residual generator sharpens an upsampled image; its loss is a content loss plus a small adversarial one."""

from __future__ import annotations

from minigan.games.base import GAMES, Objective
from minigan.games.translation import ImageToImageGame
from minigan.metrics import load_photo_features
from minigan.models import SRDiscriminator, SRGenerator
from minigan.registry import ConfigError

__all__ = ["SRGAN"]


@GAMES.register("srgan")
class SRGAN(ImageToImageGame):
    r"""SRGAN (Ledig et al. 2017): super-resolution by a content loss in a feature network's maps, plus a GAN.

    G (:class:`~minigan.models.SRGenerator`) reads the low-resolution image
    :math:`x` (upsampled bilinearly, as minigan's ``superres`` task gives it)
    and returns an image of the target's resolution; D
    (:class:`~minigan.models.SRDiscriminator`) judges single images, real
    targets :math:`y` against G's outputs, without seeing :math:`x`. With the
    recipe's adversarial loss :math:`\ell` (the paper's is the
    non-saturating one, :math:`-\log D(G(x))` for G),

    .. math::

        L_D = \ell_D\bigl(D(y),\ D(G(x))\bigr), \qquad
        L_G = \underbrace{\lambda_c\, \ell_{\mathrm{content}} + \lambda_p\, \tfrac1d \lVert G(x) - y \rVert^2}
                          _{\text{content}}
              + \lambda_a\, \ell_G\bigl(D(G(x))\bigr),

        \ell_{\mathrm{content}} = \frac{1}{|L|} \sum_{l \in L} \frac{1}{C_l H_l W_l}
              \bigl\lVert \phi_l(G(x)) - \phi_l(y) \bigr\rVert^2

    averaged over the batch, with :math:`d` the values of an image. The
    feature maps :math:`\phi_l` are those of the bundled photo feature
    network (:class:`~minigan.metrics.PhotoFeatures`: :math:`\phi_1` at half
    the resolution, :math:`\phi_2` at a quarter, each divided by its
    root-mean-square value on the training crops), standing in for the
    paper's VGG19 :math:`\phi_{5,4}`. It is trained on the training crops
    only, frozen (its parameters do not require grad), kept in eval mode,
    and is not one of the game's networks: no player updates it, and
    checkpoints do not hold it (it is read again from the package). The
    gradient of :math:`\ell_{\mathrm{content}}` passes through it to G.

    The paper's weights are :math:`\lambda_c = 1`, :math:`\lambda_p = 0`,
    :math:`\lambda_a = 10^{-3}`; minigan's default adds a small pixel MSE,
    :math:`\lambda_p = 0.1`, whose gradient reaches every pixel of the output
    (a feature map after a ReLU passes none back where it is zero), keeping
    the colours where the features are blind.

    Options: ``content_weight`` (:math:`\lambda_c`), ``pixel_weight``
    (:math:`\lambda_p`), ``adversarial_weight`` (:math:`\lambda_a`),
    ``blocks`` (G's residual blocks; the paper's 16), ``global_residual``
    (G adds its output to the bilinear input: see
    :class:`~minigan.models.SRGenerator`), ``d_stages`` (D's stride-2 stages;
    4 in the paper, 3 leave a 4x4 map of a 32x32 crop). The widths are
    ``model.g_width`` (G's trunk) and ``model.d_width`` (D's first layer).

    References
    ----------
    Ledig, Theis, Huszár, Caballero, Cunningham, Acosta, Aitken, Tejani, Totz,
    Wang, Shi. Photo-Realistic Single Image Super-Resolution Using a
    Generative Adversarial Network. CVPR 2017 (Section 2.2, Equations 3-6).
    """

    ranges = {"content_weight": "[0, inf)", "pixel_weight": "[0, inf)", "adversarial_weight": "[0, inf)",
              "blocks": "[1, inf)", "d_stages": "[1, inf)"}

    def __init__(self, data, model, loss, content_weight: float = 1.0, pixel_weight: float = 0.1,
                 adversarial_weight: float = 1e-3, blocks: int = 16, global_residual: bool = True,
                 d_stages: int = 3):
        self.content_weight, self.pixel_weight, self.adversarial_weight = content_weight, pixel_weight, \
            adversarial_weight
        self.blocks, self.global_residual, self.d_stages = blocks, global_residual, d_stages
        super().__init__(data, model, loss)
        self.features = load_photo_features()  # frozen and in eval mode; not in `networks`

    def _check_data(self) -> None:
        super()._check_data()
        if self.data.task != "superres":
            raise ConfigError(f"game 'srgan' learns super-resolution: set data.task = 'superres' "
                              f"(got {self.data.task!r})")

    def build(self):
        (channels, size, _) = self.data.shape
        if size % 4:
            raise ConfigError(f"game 'srgan' needs crops whose side is a multiple of 4 (G halves it, the feature "
                              f"network quarters it); data.image_size = {size}")
        G = SRGenerator(channels, self.model["g_width"], self.blocks, self.global_residual, self.model["g_batch_norm"])
        D = SRDiscriminator(self.data.shape_b[0], size, self.model["d_width"], self.d_stages,
                            batch_norm=self.model["d_batch_norm"])
        return {"G": G, "D": D}

    def content_loss(self, output, target):
        r""":math:`\ell_{\mathrm{content}}`: the mean squared difference of the feature maps, averaged over maps.

        The feature network follows the images' dtype and device (a float64
        gradient check casts it), staying frozen; the target's maps carry no
        graph.
        """
        self._match(output)
        ours, theirs = self.features.feature_maps(output), self.features.feature_maps(target.detach())
        terms = [((a - b.detach()) ** 2).mean() for a, b in zip(ours, theirs)]
        return sum(terms[1:], terms[0]) * (1.0 / len(terms))

    def _match(self, images) -> None:
        weight = self.features.feature_scales
        if weight.dtype != images.dtype or weight.device != images.device:
            self.features.to(device=str(images.device), dtype=images.dtype)

    def d_objective(self, batch):
        x, y = batch.x, batch.x_b
        fake = self.G(x).detach()
        real_out, fake_out = self.D(y), self.D(fake)
        return Objective(self.loss.d_loss(real_out, fake_out), {"d_real": real_out, "d_fake": fake_out},
                         critic=self.D, real=y, fake=fake)

    def g_objective(self, batch):
        x, y = batch.x, batch.x_b
        fake = self.G(x)
        real_out = self.D(y) if self.loss.needs_real_for_g else None
        content = self.content_loss(fake, y)
        pixel = ((fake - y) ** 2).mean()
        adversarial = self.loss.g_loss(self.D(fake), real_out)
        loss = self.content_weight * content + self.pixel_weight * pixel + self.adversarial_weight * adversarial
        return Objective(loss, {"content": content, "pixel_mse": pixel, "adversarial": adversarial})
