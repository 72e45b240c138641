r"""The two networks of pix2pix (Isola et al. 2017): a U-Net generator and a PatchGAN discriminator.

pix2pix learns a map from an image :math:`x` to an image :math:`y` with

.. math:: G^* = \arg\min_G \max_D\; E_{x,y}[\log D(x, y)] + E_x[\log(1 - D(x, G(x)))]
          + \lambda\, E_{x,y}\|y - G(x)\|_1 ,

the noise of a classic GAN coming only from dropout in G. The L1 term gets
the low frequencies right; D is therefore asked only about local structure:
it classifies each :math:`N \times N` patch as real or fake (a PatchGAN), and
reads :math:`x` and :math:`y` concatenated on channels.

Notation for both networks, as in the paper: ``Ck`` is a 4x4 convolution with
``k`` output channels, a norm and an activation; ``CDk`` adds dropout.

References
----------
Isola, Zhu, Zhou, Efros. Image-to-Image Translation with Conditional
Adversarial Networks. CVPR 2017 (Section 3.2 and Appendix 6.1).
Ronneberger, Fischer, Brox. U-Net: Convolutional Networks for Biomedical
Image Segmentation. MICCAI 2015.
"""

from __future__ import annotations

from minigan import nn
from minigan.ops import cat

__all__ = ["NORMS", "PatchDiscriminator", "UNetGenerator", "patch_receptive_field"]

NORMS = ("batch", "instance", "none")


def _norm(kind: str, channels: int) -> list[nn.Module]:
    if kind == "batch":
        return [nn.BatchNorm2d(channels)]
    if kind == "instance":
        return [nn.InstanceNorm2d(channels)]
    return []


def _check_norm(owner: str, norm: str) -> None:
    if norm not in NORMS:
        raise ValueError(f"{owner}: norm must be one of {', '.join(map(repr, NORMS))}, got {norm!r}")


def _check_input(owner: str, x, channels: int, size: int | None = None) -> None:
    shape = tuple(x.shape)
    bad = len(shape) != 4 or shape[1] != channels
    if size is not None:
        bad = bad or shape[2:] != (size, size)
    if bad:
        want = f"(N, {channels}, {size}, {size})" if size is not None else f"(N, {channels}, H, W)"
        raise ValueError(f"{owner}: expected input of shape {want}, got {shape}")


class UNetGenerator(nn.Module):
    r"""The pix2pix generator: an encoder-decoder whose mirror layers are joined by skip connections.

    With :math:`S` = ``image_size``, :math:`n` = ``depth`` (by default
    :math:`\log_2 S`, down to a 1x1 bottleneck) and :math:`w` = ``width``, the
    encoder halves the resolution :math:`n` times,

    .. math:: e_0 = x,\qquad e_i = \mathrm{LReLU}_{0.2}(\mathrm{Norm}(\mathrm{Conv}^{4\times4}_{s=2}(e_{i-1}))),
              \qquad e_i \in \mathbb R^{c_i \times S/2^i \times S/2^i},\quad c_i = w \min(2^{i-1}, 8),

    with no norm on :math:`e_1` (as the paper) nor on the bottleneck
    :math:`e_n` (a norm over a 1x1 map of one sample would zero it, as in the
    authors' code). The decoder doubles it back, concatenating each layer
    with its mirror in the encoder:

    .. math:: u_n = e_n,\qquad
              d_j = \mathrm{Drop}(\mathrm{ReLU}(\mathrm{Norm}(\mathrm{ConvT}^{4\times4}_{s=2}(u_{j+1})))),\qquad
              u_j = [d_j ;\, e_j] \in \mathbb R^{2 c_j \times S/2^j \times S/2^j}

    for :math:`j = n-1, \dots, 1`, and
    :math:`G(x) = \tanh(\mathrm{ConvT}^{4\times4}_{s=2}(u_1))`. Dropout (rate
    ``dropout``) is in the first three decoder layers, the paper's
    ``CD512-CD1024-CD1024``; it is pix2pix's only source of noise, and is on
    in training mode only. For :math:`S = 256`, :math:`w = 64`, this is the
    paper's encoder ``C64-C128-C256-C512-C512-C512-C512-C512`` and decoder
    ``CD512-CD1024-CD1024-C1024-C1024-C512-C256-C128`` (channels counted after
    concatenation).

    The skip connections give every output pixel a short path to the input
    pixels beneath it (through :math:`e_1` alone), beside the long path
    through the bottleneck, which sees the whole image.

    Shapes: ``(N, in_channels, S, S)`` -> ``(N, out_channels, S, S)`` in
    :math:`(-1, 1)`.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and output images.
    image_size : int
        :math:`S`, a power of two, at least 2.
    width : int
        :math:`w`, the channels of the first encoder layer.
    depth : int, optional
        :math:`n`, the number of stride-2 layers each way, ``1 <= n <= log2 S``;
        the bottleneck is :math:`S/2^n` pixels across.
    norm : str
        ``"batch"`` (the paper's), ``"instance"`` or ``"none"``.
    dropout : float
        Dropout rate in the first three decoder layers; 0 removes them.
    residual : bool
        Add the input to the output, :math:`G(x) = x + \tanh(\cdot)`: the
        network then learns the correction :math:`y - x` (residual learning,
        Kim et al. 2016), for tasks whose input is already close to the target
        (super-resolution of an upsampled image), where a plain output must
        relearn every pixel of the input. Needs ``in_channels == out_channels``.

    References
    ----------
    Isola, Zhu, Zhou, Efros. Image-to-Image Translation with Conditional
    Adversarial Networks. CVPR 2017 (Appendix 6.1.1).
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, image_size: int = 32, width: int = 32,
                 depth: int | None = None, norm: str = "batch", dropout: float = 0.5, residual: bool = False):
        super().__init__()
        if not isinstance(image_size, int) or image_size < 2 or image_size & (image_size - 1):
            raise ValueError(f"UNetGenerator: image_size must be a power of two, at least 2, got {image_size}")
        levels = image_size.bit_length() - 1
        depth = levels if depth is None else depth
        if not 1 <= depth <= levels:
            raise ValueError(f"UNetGenerator: depth must be between 1 and log2(image_size) = {levels}, got {depth}")
        _check_norm("UNetGenerator", norm)
        if not 0 <= dropout < 1:
            raise ValueError(f"UNetGenerator: dropout must be in [0, 1), got {dropout}")
        if residual and in_channels != out_channels:
            raise ValueError(f"UNetGenerator: residual=True adds the input to the output, so in_channels and "
                             f"out_channels must be equal, got {in_channels} and {out_channels}")
        self.in_channels, self.out_channels, self.image_size, self.depth = in_channels, out_channels, image_size, depth
        self.residual = residual
        bias = norm != "batch"  # a batch norm's shift makes a conv bias redundant
        c = [in_channels] + [width * min(2 ** i, 8) for i in range(depth)]  # c[i] = channels of e_i

        encoder = []
        for i in range(1, depth + 1):
            plain = i == 1 or i == depth  # no norm on the first layer nor on the bottleneck
            conv = nn.Conv2d(c[i - 1], c[i], 4, 2, 1, bias=bias or plain)
            encoder.append(nn.Sequential(conv, *([] if plain else _norm(norm, c[i])), nn.LeakyReLU(0.2)))
        self.encoder = nn.ModuleList(encoder)

        decoder = []
        for j in range(depth - 1, 0, -1):  # d_j from u_{j+1}
            reads = c[j + 1] if j + 1 == depth else 2 * c[j + 1]
            layer = [nn.ConvTranspose2d(reads, c[j], 4, 2, 1, bias=bias), *_norm(norm, c[j]), nn.ReLU()]
            if dropout > 0 and len(decoder) < 3:
                layer.append(nn.Dropout(dropout))
            decoder.append(nn.Sequential(*layer))
        self.decoder = nn.ModuleList(decoder)
        reads = c[1] if depth == 1 else 2 * c[1]
        self.output = nn.Sequential(nn.ConvTranspose2d(reads, out_channels, 4, 2, 1), nn.Tanh())

    def forward(self, x):
        _check_input("UNetGenerator", x, self.in_channels, self.image_size)
        skips = []
        h = x
        for layer in self.encoder:
            h = layer(h)
            skips.append(h)                       # e_1, ..., e_n
        for layer, skip in zip(self.decoder, reversed(skips[:-1])):
            h = cat([layer(h), skip], dim=1)      # u_j = [d_j; e_j]
        return x + self.output(h) if self.residual else self.output(h)


def patch_receptive_field(layers: int = 3) -> int:
    r"""Side in pixels of the input patch that one output of :class:`PatchDiscriminator` sees.

    Going back from one output, a layer of kernel :math:`k` after layers of
    strides :math:`s_1, \dots, s_{l-1}` widens the patch by
    :math:`(k - 1) \prod_{m<l} s_m`. With ``layers`` = :math:`L` stride-2
    4x4 convolutions followed by two stride-1 ones,

    .. math:: r(L) = 1 + 3 \sum_{l=0}^{L-1} 2^l + 3 \cdot 2^L + 3 \cdot 2^L = 9 \cdot 2^L - 2 :

    16, 34, 70 and 142 for :math:`L = 1, 2, 3, 4` (the paper's 16x16, 70x70
    and 286x286 PatchGANs are :math:`L = 1, 3, 5`). The width does not enter.
    """
    if layers < 0:
        raise ValueError(f"patch_receptive_field: layers must be >= 0, got {layers}")
    return 9 * 2 ** layers - 2


class PatchDiscriminator(nn.Module):
    r"""The PatchGAN discriminator of pix2pix: one logit per overlapping patch of the input.

    With :math:`L` = ``layers`` and :math:`w` = ``width``,

    .. math:: h_0 = v,\qquad h_l = \mathrm{LReLU}_{0.2}(\mathrm{Norm}(\mathrm{Conv}^{4\times4}_{s_l,\,p=1}(h_{l-1}))),
              \quad l = 1, \dots, L+1,\qquad D(v) = \mathrm{Conv}^{4\times4}_{s=1,\,p=1}(h_{L+1}) ,

    with strides :math:`s_l = 2` for :math:`l \le L` and 1 after, channels
    :math:`w \min(2^{l-1}, 8)`, no norm on :math:`h_1`. For :math:`L = 3`,
    :math:`w = 64` this is the paper's 70x70 discriminator
    ``C64-C128-C256-C512`` with a 1-channel output conv.

    Every output :math:`D(v)_{ij}` is a logit (no sigmoid; pair it with a loss
    on logits) that depends only on an :math:`r \times r` patch of the input,
    :math:`r` = :attr:`receptive_field` = :math:`9 \cdot 2^L - 2` (see
    :func:`patch_receptive_field`); averaging a loss over the map averages
    it over patches. The conditional D of pix2pix reads the source and the
    (real or generated) target concatenated on channels,
    :math:`v = [x; y]`, so ``in_channels`` is the sum of both.

    Shapes: ``(N, in_channels, H, W)`` -> ``(N, 1, H', W')`` with
    :math:`H_l = \lfloor H_{l-1}/2 \rfloor` for the strided layers and
    :math:`H_l = H_{l-1} - 1` for each of the two stride-1 ones, so
    :math:`H' = H / 2^L - 2` when :math:`2^L` divides :math:`H` (30 for 256,
    2 for 32 at :math:`L = 3`).

    References
    ----------
    Isola, Zhu, Zhou, Efros. Image-to-Image Translation with Conditional
    Adversarial Networks. CVPR 2017 (Sections 3.2.2, 4.4 and Appendix 6.1.2).
    """

    def __init__(self, in_channels: int = 6, width: int = 32, layers: int = 3, norm: str = "batch"):
        super().__init__()
        if layers < 0:
            raise ValueError(f"PatchDiscriminator: layers must be >= 0, got {layers}")
        _check_norm("PatchDiscriminator", norm)
        self.in_channels, self.layers = in_channels, layers
        bias = norm != "batch"
        body, c = [], in_channels
        for i in range(1, layers + 2):  # h_i
            out = width * min(2 ** (i - 1), 8)
            stride = 2 if i <= layers else 1
            first = i == 1
            body += [nn.Conv2d(c, out, 4, stride, 1, bias=bias or first), *([] if first else _norm(norm, out)),
                     nn.LeakyReLU(0.2)]
            c = out
        body.append(nn.Conv2d(c, 1, 4, 1, 1))
        self.net = nn.Sequential(*body)

    @property
    def receptive_field(self) -> int:
        r"""Side of the input patch each output sees, read off the convolutions: :math:`1 + \sum_l (k_l - 1)
        \prod_{m<l} s_m`; equal to :func:`patch_receptive_field` of ``layers``."""
        r, jump = 1, 1
        for m in self.net:
            if isinstance(m, nn.Conv2d):
                r += (m.kernel_size[0] - 1) * jump
                jump *= m.stride[0]
        return r

    def output_size(self, size: int) -> int:
        """Side of the logit map for an input ``size`` pixels across (at most 0: too small)."""
        for m in self.net:
            if isinstance(m, nn.Conv2d):
                size = (size + 2 * m.padding[0] - m.kernel_size[0]) // m.stride[0] + 1
        return size

    def forward(self, v):
        _check_input("PatchDiscriminator", v, self.in_channels)
        small = min(v.shape[2:])
        if self.output_size(small) < 1:
            raise ValueError(f"PatchDiscriminator: input of {tuple(v.shape[2:])} pixels is too small for "
                             f"layers={self.layers}; each side needs at least {3 * 2 ** self.layers}")
        return self.net(v)
