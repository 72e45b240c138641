r"""BiGAN's discriminator of (sample, latent) pairs.

An encoder needs no class of its own: it is a discriminator body with a
``latent_dim``-wide head (``outputs=latent_dim`` in
:class:`~minigan.models.MLPDiscriminator` and
:class:`~minigan.models.DCGANDiscriminator`).
"""

from __future__ import annotations

from minigan import nn
from minigan.models.conditional import appended

__all__ = ["JointDiscriminator"]


class JointDiscriminator(nn.Module):
    r"""A discriminator of pairs: the latent appended to the sample, then any base discriminator.

    .. math:: D(x, z) = D_0([\,x;\ z\,]),

    :math:`z \in \mathbb R^k` entering as :math:`k` more features of flat samples or
    :math:`k` constant maps after the channels of images (as a
    :class:`~minigan.models.ConcatDiscriminator`'s label embedding), so the
    base is built for ``C + latent_dim`` channels. Both arguments receive
    gradients: :math:`\bar x` from the base, :math:`\bar z` summed over each map's
    pixels, which is how an encoder and a generator learn through it.

    Shapes: ``x (N, C, ...)`` or ``(N, d)``, ``z (N, k)`` -> ``(N, 1)``.
    """

    def __init__(self, base: nn.Module, latent_dim: int):
        super().__init__()
        self.base, self.latent_dim = base, latent_dim

    def forward(self, x, z):
        if z.ndim != 2 or z.shape != (x.shape[0], self.latent_dim):
            raise ValueError(f"JointDiscriminator: expected latents of shape ({x.shape[0]}, {self.latent_dim}) "
                             f"for {x.shape[0]} samples, got {z.shape}")
        return self.base(appended(x, z))

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}"
