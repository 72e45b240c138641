r"""A style-based generator (Karras, Laine, Aila 2019, StyleGAN), with StyleGAN2's weight demodulation.

A mapping network :math:`f` turns the latent :math:`z` into an intermediate
latent :math:`w`; the synthesis network starts from a learned constant and,
at every layer, takes a style from a copy of :math:`w` (a modulated
convolution) and per-pixel noise. The copies of :math:`w` are the
``(N, num_ws, w_dim)`` tensor ``ws``: giving the layers different
:math:`w`'s is style mixing.
"""

from __future__ import annotations

import math

from minigan import nn
from minigan.autograd.creation import randn, zeros
from minigan.nn import functional as F
from minigan.nn.module import Parameter
from minigan.nn.style import EqualizedLinear, ModulatedConv2d, NoiseInjection, PixelNorm
from minigan.ops import broadcast_to, cat

__all__ = ["MappingNetwork", "StyledConv2d", "StyleGenerator", "style_plan"]


def style_plan(image_size: int) -> tuple[int, int]:
    """(side of the learned constant, number of 2x upsamplings) for a supported image size.

    8x8 images start from 2x2, so that the synthesis network has three
    resolutions, and so coarse and fine styles to mix.
    """
    plans = {8: (2, 2), 16: (4, 2), 28: (7, 2), 32: (4, 3)}
    if image_size not in plans:
        raise ValueError(f"StyleGenerator supports image sizes {sorted(plans)}, got {image_size}")
    return plans[image_size]


def leaky_relu_gain(x):
    r"""StyleGAN's activation: :math:`\sqrt 2\, \mathrm{LeakyReLU}_{0.2}(x)`; the gain keeps the activations' scale
    from layer to layer under the equalized learning rate's unit-variance weights."""
    return F.leaky_relu(x, 0.2) * math.sqrt(2.0)


class MappingNetwork(nn.Module):
    r"""The mapping network :math:`f: z \mapsto w`: pixel norm, then ``depth`` equalized linear layers with leaky ReLU.

    Its layers learn ``lr_multiplier`` times slower than the rest (Karras et
    al. 2019, Appendix C: 0.01). Shapes: ``(N, latent_dim)`` -> ``(N, w_dim)``.
    """

    def __init__(self, latent_dim: int, w_dim: int, depth: int = 4, lr_multiplier: float = 0.01):
        super().__init__()
        if depth < 1:
            raise ValueError(f"MappingNetwork: depth must be at least 1, got {depth}")
        self.latent_dim, self.w_dim = latent_dim, w_dim
        self.norm = PixelNorm()
        self.layers = nn.ModuleList([EqualizedLinear(latent_dim if i == 0 else w_dim, w_dim,
                                                     lr_multiplier=lr_multiplier) for i in range(depth)])

    def forward(self, z):
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"MappingNetwork: expected latents (N, {self.latent_dim}), got {z.shape}")
        w = self.norm(z)
        for layer in self.layers:
            w = leaky_relu_gain(layer(w))
        return w


class StyledConv2d(nn.Module):
    r"""One layer of the synthesis network: (nearest 2x upsampling,) a 3x3 modulated convolution, noise, bias,
    activation:

    .. math:: y = \sqrt 2\, \mathrm{LeakyReLU}_{0.2}\bigl(\mathrm{ModConv}(x, w) + \beta \odot \xi + b\bigr).
    """

    def __init__(self, in_channels: int, out_channels: int, style_dim: int, upsample: bool = False):
        super().__init__()
        self.upsample = upsample
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, style_dim)
        self.noise = NoiseInjection(out_channels)
        self.bias = Parameter(zeros(out_channels))

    def forward(self, x, w, noise=None):
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        y = self.noise(self.conv(x, w), noise)
        return leaky_relu_gain(y + self.bias.reshape(1, -1, 1, 1))


class StyleGenerator(nn.Module):
    r"""``z (N, latent_dim)`` -> images ``(N, channels, size, size)`` in [-1, 1], through :math:`w = G_{map}(z)` and the
    synthesis network :math:`G_{syn}(w_1, \ldots, w_L)`.

    The synthesis network starts from a learned constant at the coarsest
    resolution (2x2 for 8x8 images) with ``width * 2**ups`` channels, halved
    at each doubling: one :class:`StyledConv2d` there, two at each higher
    resolution (the first upsampling), then a 1x1 modulated convolution
    without demodulation to the image's channels ("toRGB") and tanh. Each of
    these :attr:`num_ws` layers reads its own :math:`w_\ell`;
    :meth:`forward` gives them all :math:`G_{map}(z)`, :meth:`synthesis` takes them
    one by one. ``coarse_ws`` of them (the layers below the full resolution)
    make the coarse styles.

    Noise: one ``(N, noise_dim)`` tensor of standard normals holds every
    layer's noise map, flattened in layer order; when not given it is drawn
    from minigan's default generator.
    """

    def __init__(self, latent_dim: int = 32, image_size: int = 8, channels: int = 1, width: int = 32,
                 w_dim: int = 64, mapping_depth: int = 4, mapping_lr_multiplier: float = 0.01):
        super().__init__()
        start, ups = style_plan(image_size)
        self.latent_dim, self.image_size, self.channels, self.w_dim = latent_dim, image_size, channels, w_dim
        self.mapping = MappingNetwork(latent_dim, w_dim, mapping_depth, mapping_lr_multiplier)
        c = width * 2 ** ups
        self.constant = Parameter(randn(1, c, start, start))
        layers, sides = [StyledConv2d(c, c, w_dim)], [start]
        for level in range(1, ups + 1):
            layers += [StyledConv2d(c, c // 2, w_dim, upsample=True), StyledConv2d(c // 2, c // 2, w_dim)]
            sides += [start * 2 ** level] * 2
            c //= 2
        self.layers = nn.ModuleList(layers)
        self.to_rgb = ModulatedConv2d(c, channels, 1, w_dim, demodulate=False)
        self.rgb_bias = Parameter(zeros(channels))
        self.num_ws = len(layers) + 1
        self.coarse_ws = len(layers) - 2
        self._sides = sides
        self.noise_dim = sum(side * side for side in sides)

    def forward(self, z, noise=None):
        w = self.mapping(z)
        return self.synthesis(broadcast_to(w.unsqueeze(1), shape=(w.shape[0], self.num_ws, self.w_dim)), noise)

    def synthesis(self, ws, noise=None):
        r""":math:`G_{syn}(w_1, \ldots, w_L)`: images with the style :math:`w_\ell` = ``ws[:, l]`` at layer
        :math:`\ell`."""
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"StyleGenerator.synthesis: expected ws (N, {self.num_ws}, {self.w_dim}), got {ws.shape}")
        n = ws.shape[0]
        if noise is not None and noise.shape != (n, self.noise_dim):
            raise ValueError(f"StyleGenerator: expected noise ({n}, {self.noise_dim}), got {noise.shape}")
        x = broadcast_to(self.constant, shape=(n, *self.constant.shape[1:]))
        offset = 0
        for i, (layer, side) in enumerate(zip(self.layers, self._sides)):
            xi = None if noise is None else noise[:, offset:offset + side * side].reshape(n, 1, side, side)
            x = layer(x, ws[:, i], xi)
            offset += side * side
        rgb = self.to_rgb(x, ws[:, -1]) + self.rgb_bias.reshape(1, -1, 1, 1)
        return rgb.tanh()

    def mix(self, coarse, fine, cutoff: int):
        r"""``ws`` with :math:`w_\ell` = ``coarse`` for the layers :math:`\ell <` ``cutoff`` and ``fine`` after:
        ``(N, w_dim)`` each -> ``(N, num_ws, w_dim)``."""
        if not 0 <= cutoff <= self.num_ws:
            raise ValueError(f"StyleGenerator.mix: cutoff must lie in [0, {self.num_ws}], got {cutoff}")
        n = coarse.shape[0]
        return cat([broadcast_to(coarse.unsqueeze(1), shape=(n, cutoff, self.w_dim)),
                    broadcast_to(fine.unsqueeze(1), shape=(n, self.num_ws - cutoff, self.w_dim))], 1)

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}, image_size={self.image_size}, w_dim={self.w_dim}, num_ws={self.num_ws}"
