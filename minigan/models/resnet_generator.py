r"""The CycleGAN generator (Zhu et al. 2017): Johnson et al.'s residual network for image transformation.

It keeps the image's layout: two stride-2 convolutions take it down to a
quarter of its side, residual blocks transform it there, two fractionally
strided convolutions bring it back, and every output pixel is computed from
a window of the input around it. Notation of the CycleGAN paper's appendix:
``c7s1-k`` is a 7x7 convolution, stride 1, ``k`` filters, with instance
norm and ReLU; ``dk`` a 3x3 convolution, stride 2, with instance norm and
ReLU; ``Rk`` a residual block of two 3x3 convolutions of ``k`` filters;
``uk`` a 3x3 fractionally strided convolution, stride 1/2, with instance norm
and ReLU. Reflection padding, not zeros, keeps the borders free of artefacts.

References
----------
Zhu, Park, Isola, Efros. Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks. ICCV 2017 (Section 4 and Appendix 7.2).
Johnson, Alahi, Fei-Fei. Perceptual Losses for Real-Time Style Transfer and
Super-Resolution. ECCV 2016.
"""

from __future__ import annotations

from minigan import nn
from minigan.models.image_to_image import _check_norm, _norm

__all__ = ["ResidualBlock", "ResnetGenerator"]


class ResidualBlock(nn.Module):
    r"""``Rk``: the identity plus two reflection-padded 3x3 convolutions, the first followed by a ReLU.

    .. math:: y = x + \mathrm{Norm}(\mathrm{Conv}^{3\times3}(\mathrm{Pad}_1(
              \mathrm{ReLU}(\mathrm{Norm}(\mathrm{Conv}^{3\times3}(\mathrm{Pad}_1(x))))))) ,

    with :math:`\mathrm{Pad}_1` reflection padding by one pixel. As in the
    authors' code and Johnson et al.'s block, no ReLU follows the sum nor the
    second norm, so the block can move :math:`x` either way; the gradient
    reaches :math:`x` through the identity unchanged,
    :math:`\bar x = \bar y + J^\top \bar y`.

    Shapes: ``(N, k, H, W)`` -> ``(N, k, H, W)``, ``H, W >= 2``.
    """

    def __init__(self, channels: int, norm: str = "instance"):
        super().__init__()
        _check_norm("ResidualBlock", norm)
        bias = norm != "batch"  # a batch norm's shift makes a conv bias redundant
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), *_norm(norm, channels), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), *_norm(norm, channels))

    def forward(self, x):
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    r"""CycleGAN's generator: ``c7s1-w, d2w, d4w, R4w x blocks, u2w, uw, c7s1-out``, then tanh.

    With :math:`w` = ``width`` and :math:`R` = ``blocks``,

    .. math:: h_0 = \mathrm{ReLU}(\mathrm{Norm}(\mathrm{Conv}^{7\times7}(\mathrm{Pad}_3(x)))) \in
              \mathbb R^{w \times H \times W}, \qquad
              h_i = \mathrm{ReLU}(\mathrm{Norm}(\mathrm{Conv}^{3\times3}_{s=2,\,p=1}(h_{i-1}))) \in
              \mathbb R^{2^i w \times H/2^i \times W/2^i},\quad i = 1, 2,

    then :math:`R` residual blocks (:class:`ResidualBlock`) of :math:`4w`
    channels at a quarter of the side,
    :math:`r_0 = h_2,\ r_j = r_{j-1} + B_j(r_{j-1})`, then two
    fractionally strided convolutions back up,

    .. math:: u_2 = r_R,\qquad u_{i-1} = \mathrm{ReLU}(\mathrm{Norm}(\mathrm{ConvT}^{3\times3}_{s=2,\,p=1,\,
              p_{out}=1}(u_i))) \in \mathbb R^{2^{i-1} w \times H/2^{i-1} \times W/2^{i-1}},

    and :math:`G(x) = \tanh(\mathrm{Conv}^{7\times7}(\mathrm{Pad}_3(u_0)))`.
    For :math:`w = 64`, :math:`R = 9` this is the paper's 256x256 network
    (``c7s1-64, d128, d256``, nine ``R256``, ``u128, u64, c7s1-3``), with
    :math:`R = 6` its 128x128 one. The output padding of 1 makes each
    transposed convolution double the side exactly. The receptive field of an
    output pixel grows with :math:`R` (16 input pixels per block, from its
    two 3x3 convolutions at a quarter of the side), so it is the blocks that
    let G move colour and texture by what surrounds a pixel.

    Shapes: ``(N, in_channels, H, W)`` -> ``(N, out_channels, H, W)`` in
    :math:`(-1, 1)`, with :math:`H, W` multiples of 4, at least 8 (the
    reflection padding at the bottom needs two pixels a side).

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and output images.
    width : int
        :math:`w`, the filters of the first layer; the blocks have :math:`4w`.
    blocks : int
        :math:`R`, the number of residual blocks (0 leaves an encoder-decoder).
    norm : str
        ``"instance"`` (the paper's), ``"batch"`` or ``"none"``.

    References
    ----------
    Zhu, Park, Isola, Efros. Unpaired Image-to-Image Translation using
    Cycle-Consistent Adversarial Networks. ICCV 2017 (Appendix 7.2).
    Johnson, Alahi, Fei-Fei. Perceptual Losses for Real-Time Style Transfer and
    Super-Resolution. ECCV 2016 (supplementary material).
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, width: int = 16, blocks: int = 6,
                 norm: str = "instance"):
        super().__init__()
        if width < 1:
            raise ValueError(f"ResnetGenerator: width must be >= 1, got {width}")
        if blocks < 0:
            raise ValueError(f"ResnetGenerator: blocks must be >= 0, got {blocks}")
        _check_norm("ResnetGenerator", norm)
        self.in_channels, self.out_channels, self.width, self.blocks = in_channels, out_channels, width, blocks
        bias = norm != "batch"

        def layer(conv, channels):
            return [conv, *_norm(norm, channels), nn.ReLU()]

        w = width
        self.net = nn.Sequential(
            nn.ReflectionPad2d(3), *layer(nn.Conv2d(in_channels, w, 7, bias=bias), w),                   # c7s1-w
            *layer(nn.Conv2d(w, 2 * w, 3, 2, 1, bias=bias), 2 * w),                                      # d2w
            *layer(nn.Conv2d(2 * w, 4 * w, 3, 2, 1, bias=bias), 4 * w),                                  # d4w
            *(ResidualBlock(4 * w, norm) for _ in range(blocks)),                                        # R4w
            *layer(nn.ConvTranspose2d(4 * w, 2 * w, 3, 2, 1, output_padding=1, bias=bias), 2 * w),       # u2w
            *layer(nn.ConvTranspose2d(2 * w, w, 3, 2, 1, output_padding=1, bias=bias), w),               # uw
            nn.ReflectionPad2d(3), nn.Conv2d(w, out_channels, 7), nn.Tanh())                             # c7s1-out

    def forward(self, x):
        shape = tuple(x.shape)
        if len(shape) != 4 or shape[1] != self.in_channels or any(s % 4 or s < 8 for s in shape[2:]):
            raise ValueError(f"ResnetGenerator: expected input of shape (N, {self.in_channels}, H, W) with H and W "
                             f"multiples of 4, at least 8, got {shape}")
        return self.net(x)
