r"""The layers of a style-based generator (Karras et al. 2019, StyleGAN; 2020, StyleGAN2).

- :class:`PixelNorm`: each sample's feature vector scaled to unit root mean square.
- :class:`EqualizedLinear`: an affine map whose weights are drawn from
  :math:`\mathcal N(0, 1)` and scaled at every call (the "equalized learning rate").
- :class:`ModulatedConv2d`: a convolution whose input channels are scaled per
  sample by a style, then demodulated (StyleGAN2's replacement for AdaIN).
- :class:`NoiseInjection`: per-pixel Gaussian noise, added with a learned
  strength per channel.

All are compositions of minigan ops, so their gradients and second
derivatives follow from those of the ops; each docstring states the function
and its derivative.
"""

from __future__ import annotations

import math

from minigan.autograd.creation import empty, randn, zeros
from minigan.nn import functional as F
from minigan.nn import init
from minigan.nn.module import Module, Parameter

__all__ = ["PixelNorm", "EqualizedLinear", "ModulatedConv2d", "NoiseInjection"]


class PixelNorm(Module):
    r"""Scale each sample's features to unit root mean square over ``dim`` (Karras et al. 2018, ProGAN).

    .. math::

        y_i = x_i\, r, \qquad r = \Bigl(\tfrac 1C \textstyle\sum_j x_j^2 + \epsilon\Bigr)^{-1/2},
        \qquad
        \frac{\partial y_i}{\partial x_j} = r\,\delta_{ij} - \frac{r^3}{C}\, x_i x_j,

    so :math:`\bar x = r\,\bar y - \tfrac{r^3}{C}\, x\,(x \cdot \bar y)`. StyleGAN
    applies it to :math:`z` before the mapping network. Shapes: ``(N, C, ...)``.
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x):
        if x.ndim < 2:
            raise ValueError(f"PixelNorm: expected an input of shape (N, C, ...), got {x.shape}")
        return x * ((x * x).mean(axis=self.dim, keepdims=True) + self.eps) ** -0.5

    def extra_repr(self) -> str:
        return f"dim={self.dim}, eps={self.eps}"


class EqualizedLinear(Module):
    r"""An affine map with StyleGAN's equalized learning rate: weights drawn from :math:`\mathcal N(0, 1/\lambda^2)`
    and scaled by :math:`c = \lambda / \sqrt{\mathrm{in}}` at every call.

    .. math::

        y = c\, x W^\top + \lambda\, b, \qquad
        \bar x = c\, \bar y W, \quad \bar W = c\, \bar y^\top x, \quad \bar b = \lambda \textstyle\sum_n \bar y_n

    with :math:`\lambda` = ``lr_multiplier``. Every weight then moves at the
    same rate under Adam whatever its layer's fan-in (Karras et al. 2018,
    Section 4.1); :math:`\lambda < 1` slows the layer down (StyleGAN's mapping
    network uses 0.01). The bias starts at ``bias_init`` (1 for the affine maps
    that make styles, so that a style starts as the identity scaling). Weight
    ``(out_features, in_features)`` as :class:`~minigan.nn.Linear`.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, bias_init: float = 0.0,
                 lr_multiplier: float = 1.0, device=None, dtype=None):
        super().__init__()
        if lr_multiplier <= 0:
            raise ValueError(f"EqualizedLinear: lr_multiplier must be positive, got {lr_multiplier}")
        self.in_features, self.out_features, self.lr_multiplier = in_features, out_features, lr_multiplier
        factory = dict(device=device or "cpu", dtype=dtype)
        self.weight = Parameter(empty(out_features, in_features, **factory))
        init.normal_(self.weight, 0.0, 1.0 / lr_multiplier)
        self.bias = Parameter(empty(out_features, **factory)) if bias else None
        if bias:
            init.constant_(self.bias, bias_init / lr_multiplier)  # so that the scaled bias starts at bias_init
        self.scale = lr_multiplier / math.sqrt(in_features)

    def forward(self, x):
        bias = None if self.bias is None else self.bias * self.lr_multiplier
        return F.linear(x, self.weight * self.scale, bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}, "
                f"lr_multiplier={self.lr_multiplier}")


class ModulatedConv2d(Module):
    r"""A convolution modulated per sample by a style and demodulated (Karras et al. 2020, StyleGAN2, Eq. 1-3).

    The style :math:`s = A(w)` (an :class:`EqualizedLinear` ``style_dim -> in_channels``,
    bias 1) scales the input channels of the shared weight :math:`\hat w = c\,W`
    (:math:`c = 1/\sqrt{\mathrm{in}\,k^2}`), and demodulation rescales each output
    channel back to unit expected variance:

    .. math::

        w'_{n,o,i,k} = s_{n,i}\, \hat w_{o,i,k}, \qquad
        d_{n,o} = \Bigl(\textstyle\sum_{i,k} (w'_{n,o,i,k})^2 + \epsilon\Bigr)^{-1/2}, \qquad
        y_n = d_n \odot (w'_n \star x_n).

    A per-sample weight is a grouped convolution; since convolution is linear in
    its input channels it equals, with one shared weight,

    .. math::

        y = d \odot \bigl(\hat w \star (s \odot x)\bigr), \qquad
        d_{n,o} = \bigl(\textstyle\sum_i s_{n,i}^2 q_{o,i} + \epsilon\bigr)^{-1/2}, \qquad
        q_{o,i} = \textstyle\sum_k \hat w_{o,i,k}^2,

    which is how it is computed. Its derivatives, with :math:`u = \hat w \star (s \odot x)`:

    .. math::

        \bar u = d \odot \bar y, \quad
        \bar x = s \odot (\hat w^\top \star \bar u), \quad
        \bar s_{n,i} = \textstyle\sum_{h,w} x_{n,i} (\hat w^\top \star \bar u)_{n,i}
            - s_{n,i} \sum_o q_{o,i}\, d_{n,o}^3 \sum_{h,w} \bar y_{n,o}\, u_{n,o},

        \bar{\hat w}_{o,i,k} = \bigl(\bar u \star (s \odot x)\bigr)_{o,i,k}
            - \hat w_{o,i,k} \textstyle\sum_n s_{n,i}^2\, d_{n,o}^3 \sum_{h,w} \bar y_{n,o}\, u_{n,o}

    (the second terms are the demodulation's; :math:`\hat w^\top \star` is the
    transposed convolution), then :math:`\bar W = c\,\bar{\hat w}` and :math:`\bar s` flows
    back through :math:`A` to :math:`w`. With ``demodulate=False`` (StyleGAN2's toRGB)
    :math:`d = 1` and they vanish. Stride 1 and "same" padding :math:`\lfloor k/2 \rfloor`,
    no bias (the block adds it after the noise). Weight ``(out, in, k, k)`` as
    :class:`~minigan.nn.Conv2d`, drawn from :math:`\mathcal N(0, 1)`.

    Shapes: ``x (N, in, H, W)``, ``w (N, style_dim)`` -> ``(N, out, H, W)``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, style_dim: int,
                 demodulate: bool = True, eps: float = 1e-8, device=None, dtype=None):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"ModulatedConv2d: kernel_size must be odd to keep the size, got {kernel_size}")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.style_dim, self.demodulate, self.eps = style_dim, demodulate, eps
        factory = dict(device=device or "cpu", dtype=dtype)
        self.weight = Parameter(empty(out_channels, in_channels, kernel_size, kernel_size, **factory))
        init.normal_(self.weight)
        self.affine = EqualizedLinear(style_dim, in_channels, bias_init=1.0, **factory)
        self.scale = 1.0 / math.sqrt(in_channels * kernel_size ** 2)

    def forward(self, x, w):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"ModulatedConv2d: expected input (N, {self.in_channels}, H, W), got {x.shape}")
        if w.shape != (x.shape[0], self.style_dim):
            raise ValueError(f"ModulatedConv2d: expected styles ({x.shape[0]}, {self.style_dim}) for "
                             f"{x.shape[0]} inputs, got {w.shape}")
        s = self.affine(w)                                                     # (N, in)
        weight = self.weight * self.scale
        y = F.conv2d(x * s.reshape(*s.shape, 1, 1), weight, padding=self.kernel_size // 2)
        if not self.demodulate:
            return y
        q = (weight * weight).sum(axis=(2, 3))                                 # (out, in)
        d = ((s * s) @ q.transpose(0, 1) + self.eps) ** -0.5                   # (N, out)
        return y * d.reshape(*d.shape, 1, 1)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"style_dim={self.style_dim}, demodulate={self.demodulate}")


class NoiseInjection(Module):
    r"""Add per-pixel Gaussian noise with a learned strength per channel (Karras et al. 2019, Section 3.2).

    .. math::

        y_{n,c,h,w} = x_{n,c,h,w} + \beta_c\, \xi_{n,h,w}, \qquad \xi \sim \mathcal N(0, 1), \qquad
        \bar x = \bar y, \quad \bar\beta_c = \textstyle\sum_{n,h,w} \bar y_{n,c,h,w}\, \xi_{n,h,w}.

    One noise map ``(N, 1, H, W)`` is shared by the channels; it is drawn from
    minigan's default generator unless given. :math:`\beta` starts at 0, so
    the layer starts as the identity and learns how much stochastic detail
    each channel takes.
    """

    def __init__(self, channels: int, device=None, dtype=None):
        super().__init__()
        self.channels = channels
        self.weight = Parameter(zeros(channels, device=device or "cpu", dtype=dtype))

    def forward(self, x, noise=None):
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(f"NoiseInjection: expected input (N, {self.channels}, H, W), got {x.shape}")
        n, _, h, w = x.shape
        if noise is None:
            noise = randn(n, 1, h, w, dtype=x.dtype, device=x.device.type)
        elif noise.shape != (n, 1, h, w):
            raise ValueError(f"NoiseInjection: expected noise ({n}, 1, {h}, {w}), got {noise.shape}")
        return x + self.weight.reshape(1, self.channels, 1, 1) * noise

    def extra_repr(self) -> str:
        return f"channels={self.channels}"
