"""DCGAN generator and discriminator (Radford et al. 2016) for 8x8, 16x16, 28x28 and 32x32 images.

The architecture guidelines of the paper: strided convolutions in D and
fractionally-strided (transposed) convolutions in G instead of pooling; batch
norm in both (not on G's output nor D's input); ReLU in G with tanh on the
output; LeakyReLU(0.2) in D. Channel widths halve as resolution doubles.
"""

from __future__ import annotations

from itertools import islice

from minigan import nn
from minigan.models.common import maybe_spectral_norm, pack_samples

__all__ = ["DCGANGenerator", "DCGANDiscriminator", "dcgan_plan"]


def dcgan_plan(image_size: int) -> tuple[int, int]:
    """(size of the first feature map, number of stride-2 upsamplings) for a supported image size.

    8x8 images start from 1x1, so that G and D have three resampling layers
    each: from 2x2 with two, the digits came out markedly less recognisable.
    """
    plans = {8: (1, 3), 16: (4, 2), 28: (7, 2), 32: (4, 3)}
    if image_size not in plans:
        raise ValueError(f"DCGAN supports image sizes {sorted(plans)}, got {image_size}")
    return plans[image_size]


class DCGANGenerator(nn.Module):
    """``z (N, latent_dim)`` -> images ``(N, channels, size, size)`` in [-1, 1].

    ``output`` is ``"tanh"`` (the paper's) or ``"linear"``, for a decoder
    whose output must not saturate (an autoencoder discriminator's).
    """

    def __init__(self, latent_dim: int = 64, image_size: int = 28, channels: int = 1, width: int = 64,
                 batch_norm: bool = True, self_attention: bool = False, output: str = "tanh"):
        super().__init__()
        start, ups = dcgan_plan(image_size)
        self.latent_dim, self.image_size, self.channels = latent_dim, image_size, channels
        c = width * 2 ** (ups - 1)

        def block(conv, out):
            return [conv] + ([nn.BatchNorm2d(out)] if batch_norm else []) + [nn.ReLU()]

        layers = block(nn.ConvTranspose2d(latent_dim, c, start, 1, 0, bias=not batch_norm), c)
        for i in range(ups - 1):
            layers += block(nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=not batch_norm), c // 2)
            c //= 2
            if self_attention and i == ups - 2:
                layers.append(nn.SelfAttention2d(c))
        layers.append(nn.ConvTranspose2d(c, channels, 4, 2, 1))
        if output == "tanh":
            layers.append(nn.Tanh())
        elif output != "linear":
            raise ValueError(f"DCGANGenerator: output must be 'tanh' or 'linear', got {output!r}")
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return self.net(z.reshape(z.shape[0], self.latent_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    r"""Images ``(N, channels, size, size)`` -> one logit per image (per pack of ``pack`` images).

    Switches: ``batch_norm=False`` for WGAN-GP critics (the penalty is per
    sample), ``spectral_norm`` (SNGAN), ``minibatch_std`` (a std-dev feature
    map before the last conv), ``self_attention`` (SAGAN block after the first
    downsampling), ``pack`` (PacGAN).

    Body and head, for conditional and auxiliary discriminators:
    :math:`D(x) = \psi(\phi(x))` with :meth:`features` :math:`\phi`, the
    ``(C, s, s)`` map before the last conv flattened to ``(N, feature_dim)``,
    :math:`F = C s^2`, and :meth:`head` :math:`\psi`, that conv (its kernel
    covers the whole :math:`s \times s` map, so :math:`\psi` is affine in
    :math:`h`) giving ``(N, 1)``. ``D(x)`` and ``D.head(D.features(x))`` run the
    same layers on the same arrays and agree to the last bit. With
    ``outputs = k`` the head gives ``(N, k)``: the same body as an encoder of
    images into :math:`\mathbb R^k` (BiGAN's E).
    """

    def __init__(self, image_size: int = 28, channels: int = 1, width: int = 64, batch_norm: bool = True,
                 spectral_norm: bool = False, minibatch_std: bool = False, self_attention: bool = False,
                 pack: int = 1, outputs: int = 1):
        super().__init__()
        start, downs = dcgan_plan(image_size)
        self.pack = pack
        sn = spectral_norm
        c = width
        layers = [maybe_spectral_norm(nn.Conv2d(channels * pack, c, 4, 2, 1), sn), nn.LeakyReLU(0.2)]
        if self_attention:
            layers.append(nn.SelfAttention2d(c))
        for _ in range(downs - 1):
            layers.append(maybe_spectral_norm(nn.Conv2d(c, 2 * c, 4, 2, 1, bias=not batch_norm), sn))
            layers += ([nn.BatchNorm2d(2 * c)] if batch_norm else []) + [nn.LeakyReLU(0.2)]
            c *= 2
        if minibatch_std:
            layers.append(nn.MinibatchStdDev())
            c += 1
        layers += [maybe_spectral_norm(nn.Conv2d(c, outputs, start, 1, 0), sn), nn.Flatten()]
        self.net = nn.Sequential(*layers)
        self.feature_dim = c * start * start
        self._feature_map = (c, start, start)  # what the last conv reads

    def forward(self, x):
        return self.net(pack_samples(x, self.pack))

    def features(self, x):
        r""":math:`\phi(x)`: every layer but the last conv, flattened to ``(N, feature_dim)`` (one row per pack)."""
        h = pack_samples(x, self.pack)
        for layer in islice(self.net, len(self.net) - 2):
            h = layer(h)
        return h.reshape(h.shape[0], self.feature_dim)

    def head(self, h):
        r""":math:`\psi(h)`: the last conv on features ``(N, feature_dim)`` viewed as its map, ``(N, 1)``."""
        if h.ndim != 2 or h.shape[1] != self.feature_dim:
            raise ValueError(f"DCGANDiscriminator.head: expected features of shape (N, {self.feature_dim}), "
                             f"got {h.shape}")
        conv, flatten = self.net[-2], self.net[-1]
        return flatten(conv(h.reshape((h.shape[0],) + self._feature_map)))
