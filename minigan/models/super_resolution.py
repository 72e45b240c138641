r"""The two networks of SRGAN (Ledig et al. 2017), scaled down for 32x32 crops: a residual generator (SRResNet)
that upsamples by sub-pixel convolution, and a VGG-style discriminator of single images.

SRGAN maps a low-resolution image :math:`I^{LR}` to a high-resolution one
:math:`G(I^{LR})`, trained with a content loss in a feature network's maps
plus :math:`10^{-3}` times an adversarial loss (see :mod:`minigan.games.srgan`).

Notation for both networks, as in the paper: ``k3n64s1`` is a 3x3
convolution with 64 output channels and stride 1.

References
----------
Ledig, Theis, Huszár, Caballero, Cunningham, Acosta, Aitken, Tejani, Totz,
Wang, Shi. Photo-Realistic Single Image Super-Resolution Using a Generative
Adversarial Network. CVPR 2017 (Section 2.2 and Figure 4).
Shi et al. Real-Time Single Image and Video Super-Resolution Using an
Efficient Sub-Pixel Convolutional Neural Network. CVPR 2016.
"""

from __future__ import annotations

from minigan import nn

__all__ = ["SRResidualBlock", "SRGenerator", "SRDiscriminator"]


def _check_input(owner: str, x, channels: int, multiple: int = 1) -> None:
    shape = tuple(x.shape)
    bad = len(shape) != 4 or shape[1] != channels
    if multiple > 1:  # reflection padding needs two pixels a side at the low resolution
        bad = bad or any(side % multiple or side < 2 * multiple for side in shape[2:])
    if bad:
        sides = f", H and W multiples of {multiple}, at least {2 * multiple}" if multiple > 1 else ""
        raise ValueError(f"{owner}: expected input of shape (N, {channels}, H, W){sides}, got {shape}")


def _norm(channels: int, batch_norm: bool) -> list[nn.Module]:
    return [nn.BatchNorm2d(channels)] if batch_norm else []


def _conv3(c_in: int, c_out: int, bias: bool = True) -> list[nn.Module]:
    """A 3x3 convolution that keeps the size, padded by reflection: a flat image gives a flat map, borders too."""
    return [nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_out, 3, 1, 0, bias=bias)]


class SRResidualBlock(nn.Module):
    r"""SRGAN's residual block: two ``k3`` convolutions with batch norm, a PReLU between them, and a skip.

    .. math:: B(h) = h + \mathrm{BN}(\mathrm{Conv}^{3\times3}(\mathrm{PReLU}(\mathrm{BN}(\mathrm{Conv}^{3\times3}(h)))))

    with one PReLU slope per channel and reflection padding. ``(N, C, H, W)``
    -> ``(N, C, H, W)``, :math:`H, W \ge 2`. The skip gives the gradient a path
    around the block, so a deep trunk of blocks trains as a shallow one
    would (He et al. 2016). With ``batch_norm=False`` the norms go, and the
    convolutions have no bias either: the block is then positively
    homogeneous, :math:`B(k h) = k B(h)` for :math:`k > 0`.
    """

    def __init__(self, channels: int, batch_norm: bool = True):
        super().__init__()
        self.body = nn.Sequential(*_conv3(channels, channels, False), *_norm(channels, batch_norm), nn.PReLU(channels),
                                  *_conv3(channels, channels, False), *_norm(channels, batch_norm))

    def forward(self, h):
        return h + self.body(h)


class SRGenerator(nn.Module):
    r"""SRGAN's generator (SRResNet), reading a bilinearly upsampled image and giving it back sharpened.

    minigan's super-resolution task gives G the low-resolution image already
    upsampled bilinearly to the output size :math:`S` (so that pix2pix's
    U-Net, which maps :math:`S \times S` to :math:`S \times S`, can read it).
    This generator first folds each 2x2 block of that input into channels
    (``PixelUnshuffle(2)``, as Real-ESRGAN's x2 model does), so that its
    trunk runs at the low resolution :math:`S/2` as in the paper. Nothing is
    lost by starting from the bilinear image: it is a fixed, invertible
    linear map of the low-resolution one. With :math:`r = 2`, :math:`w` =
    ``width``, :math:`B` = ``blocks`` and :math:`v` what the trunk reads,

    .. math::

        h_0 &= \mathrm{PReLU}(\mathrm{Conv}^{3\times3}_{4C \to w}(\mathrm{Unshuffle}_2(v))) \\
        t &= h_0 + \mathrm{BN}(\mathrm{Conv}^{3\times3}(B_B \circ \dots \circ B_1(h_0)))
              \quad\text{(the long skip)} \\
        u &= \mathrm{PReLU}(\mathrm{Shuffle}_2(\mathrm{Conv}^{3\times3}_{w \to 4w}(t))) \quad (w, S, S) \\
        r(v) &= \mathrm{Conv}^{3\times3}_{w \to C}(u)

    with each :math:`B_b` a :class:`SRResidualBlock` and reflection padding
    throughout. ``PixelShuffle(2)`` (Shi et al. 2016) is the paper's
    sub-pixel upsampling: a convolution at low resolution makes the
    :math:`r^2` sub-pixels of every output pixel.

    **The global residual** (``global_residual``, the default). G adds
    :math:`r` to the bilinear input and reads only the input's detail, the
    input less its mean colour :math:`\mu(x)` (per image and channel):

    .. math:: G(x) = x + r\bigl(x - \mu(x)\bigr) ,

    so it learns only what bilinear interpolation lost (as VDSR does, Kim et
    al. 2016), and the colours pass through untouched. Without it,
    :math:`G(x) = \tanh(r(x))`. With ``batch_norm=False`` as well (EDSR and
    ESRGAN drop SRResNet's batch norm, Lim et al. 2017, Wang et al. 2018)
    no convolution has a bias, so every layer of :math:`r` is positively
    homogeneous and :math:`r(k d) = k\, r(d)` for :math:`k > 0`: a flat crop
    (:math:`d = 0`; the photos' sky and walls are many) comes out as
    bilinear made it, and faint texture gets a faint correction. With batch
    norm (the paper's), the first, upsampling and last convolutions keep
    their biases. Either way the output is not squashed by a tanh (it would
    fight the identity path); it stays near [-1, 1] because the input does.

    Departures from the paper, for 32x32 crops: 3x3 instead of 9x9 first and
    last convolutions (at 16x16 a 9x9 kernel would see most of the image),
    one upsampling stage (2x) instead of two (4x), reflection padding instead
    of zeros (no border to correct), and the widths and block count as
    configured (the paper: :math:`w = 64`, :math:`B = 16`).

    Shapes: ``(N, channels, H, W)`` -> ``(N, channels, H, W)``, :math:`H, W`
    even and at least 4.

    References
    ----------
    Ledig et al. Photo-Realistic Single Image Super-Resolution Using a
    Generative Adversarial Network. CVPR 2017 (Figure 4, top).
    Wang, Xie, Dong, Shan. Real-ESRGAN: Training Real-World Blind
    Super-Resolution with Pure Synthetic Data. ICCV Workshops 2021.
    Kim, Lee, Lee. Accurate Image Super-Resolution Using Very Deep
    Convolutional Networks (VDSR). CVPR 2016.
    Lim, Son, Kim, Nah, Lee. Enhanced Deep Residual Networks for Single Image
    Super-Resolution (EDSR). CVPR Workshops 2017.
    Wang et al. ESRGAN: Enhanced Super-Resolution Generative Adversarial
    Networks. ECCV Workshops 2018.
    """

    scale = 2

    def __init__(self, channels: int = 3, width: int = 64, blocks: int = 16, global_residual: bool = True,
                 batch_norm: bool = True):
        super().__init__()
        if blocks < 1:
            raise ValueError(f"SRGenerator: blocks must be >= 1, got {blocks}")
        r2 = self.scale ** 2
        self.channels, self.global_residual = channels, global_residual
        bias = batch_norm  # without batch norm, no biases: r is positively homogeneous
        self.unshuffle = nn.PixelUnshuffle(self.scale)
        self.head = nn.Sequential(*_conv3(channels * r2, width, bias), nn.PReLU(width))
        self.trunk = nn.Sequential(*(SRResidualBlock(width, batch_norm) for _ in range(blocks)))
        self.trunk_end = nn.Sequential(*_conv3(width, width, False), *_norm(width, batch_norm))
        self.upsample = nn.Sequential(*_conv3(width, width * r2, bias), nn.PixelShuffle(self.scale), nn.PReLU(width))
        self.output = nn.Sequential(*_conv3(width, channels, bias))

    def residual(self, v):
        """:math:`r(v)`: the trunk and the upsampling, ``(N, C, H, W)`` -> ``(N, C, H, W)``."""
        h = self.head(self.unshuffle(v))
        h = h + self.trunk_end(self.trunk(h))   # the long skip around the trunk
        return self.output(self.upsample(h))

    def forward(self, x):
        _check_input("SRGenerator", x, self.channels, self.scale)
        if self.global_residual:
            return x + self.residual(x - x.mean(dim=(2, 3), keepdim=True))
        return self.residual(x).tanh()


class SRDiscriminator(nn.Module):
    r"""SRGAN's discriminator: a VGG-style stack of ``k3`` convolutions, then two dense layers, one logit per image.

    With :math:`w` = ``width`` and :math:`L` = ``stages``, stage
    :math:`i = 0, \dots, L-1` has :math:`c_i = w\, 2^i` channels: a stride-1
    convolution (none in stage 0, which starts from the first layer) and a
    stride-2 one that halves the map, each followed by batch norm and
    LeakyReLU(0.2); the first layer ``k3n{w}s1`` has no batch norm. Then

    .. math:: D(x) = \mathrm{Dense}_{1}(\mathrm{LReLU}_{0.2}(\mathrm{Dense}_{16w}(\mathrm{flatten}(h_L)))) ,

    a logit: the paper's final sigmoid is the loss's (``loss.name``), which
    reads logits. For :math:`w = 64`, :math:`L = 4` this is the paper's
    ``k3n64s1-k3n64s2-k3n128s1-k3n128s2-k3n256s1-k3n256s2-k3n512s1-k3n512s2``
    then ``Dense1024-LReLU-Dense1``; for 32x32 crops :math:`L = 3` leaves a
    4x4 map before the dense layers. Unlike pix2pix's D it judges the
    output image alone, not the (input, output) pair, as the paper's does.

    Shapes: ``(N, channels, S, S)`` -> ``(N, 1)``. ``image_size`` fixes the
    first dense layer's width, :math:`c_{L-1} \lceil S / 2^L \rceil^2`.

    References
    ----------
    Ledig et al. Photo-Realistic Single Image Super-Resolution Using a
    Generative Adversarial Network. CVPR 2017 (Figure 4, bottom).
    Simonyan, Zisserman. Very Deep Convolutional Networks for Large-Scale
    Image Recognition. ICLR 2015.
    """

    def __init__(self, channels: int = 3, image_size: int = 32, width: int = 64, stages: int = 3,
                 hidden: int | None = None, batch_norm: bool = True):
        super().__init__()
        if stages < 1:
            raise ValueError(f"SRDiscriminator: stages must be >= 1, got {stages}")
        if image_size < 1:
            raise ValueError(f"SRDiscriminator: image_size must be positive, got {image_size}")
        self.channels, self.image_size = channels, image_size
        bias = not batch_norm
        layers, c, size = [nn.Conv2d(channels, width, 3, 1, 1), nn.LeakyReLU(0.2)], width, image_size
        for i in range(stages):
            out = width * 2 ** i
            if i > 0:
                layers += [nn.Conv2d(c, out, 3, 1, 1, bias=bias), *_norm(out, batch_norm), nn.LeakyReLU(0.2)]
            layers += [nn.Conv2d(out, out, 3, 2, 1, bias=bias), *_norm(out, batch_norm), nn.LeakyReLU(0.2)]
            c, size = out, (size + 1) // 2
        hidden = 16 * width if hidden is None else hidden
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c * size * size, hidden), nn.LeakyReLU(0.2),
                                  nn.Linear(hidden, 1))

    def forward(self, x):
        _check_input("SRDiscriminator", x, self.channels)
        if tuple(x.shape[2:]) != (self.image_size, self.image_size):
            raise ValueError(f"SRDiscriminator: built for {self.image_size}x{self.image_size} images, got input of "
                             f"shape {tuple(x.shape)}")
        return self.head(self.features(x))
