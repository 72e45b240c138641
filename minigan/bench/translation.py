"""The image-to-image workloads: one training step of a translation family, for minigan and for PyTorch.

Each entry of :data:`WORKLOADS` names a step builder per library and the
batch it runs at unless ``--batch`` says otherwise (its recipe's: these
networks are far larger per image than the classic workloads'). A builder
takes the batch and returns the step, a callable that makes one discriminator
update and one generator update with Adam, as the trainer does, carrying
``networks`` (name -> network, for the profiler), ``images`` (the fixed
batch, a list the caller may replace) and ``losses`` (D's and G's objective
on those images, without updating anything).

- ``pix2pix``: colourisation at 32x32, grey (1 channel) to RGB (3), as the
  ``pix2pix-colour`` recipe: a U-Net of width 32 (five stride-2 layers each
  way, batch norm, dropout 0.5) and a PatchGAN of width 32 with one stride-2
  layer (16x16 patches) on the (input, output) pair; L_D is half the
  non-saturating BCE over the patch logits of the real and generated pairs,
  L_G the non-saturating BCE plus 100 times the mean |y - G(x)|.
- ``srgan``: 2x super-resolution at 32x32, RGB to RGB, as the ``srgan-photos``
  recipe: G reads a bilinearly upsampled image, an SRResNet of width 32 with
  four residual blocks (batch norm, PReLU, reflection padding) running at
  16x16 after a pixel unshuffle, a pixel shuffle back up and the global
  residual; D a VGG-style network of width 16 with three stride-2 stages and
  two dense layers, one logit per image. L_D is the non-saturating BCE on
  D(y) and D(G(x)); L_G the content loss (the mean squared difference of the
  frozen photo feature network's two scaled maps, averaged over the maps)
  plus 0.1 times the pixel MSE plus 1e-3 times the non-saturating BCE. The
  feature network is listed among the networks (``features``) but never
  updated.
- ``cyclegan``: unpaired RGB to RGB at 32x32, as the ``cyclegan-photos``
  recipe: two ResNet generators G (A to B) and F (B to A) of width 16 with
  three residual blocks (reflection padding), and two PatchGANs D_A and D_B
  of width 32 with one stride-2 layer, instance norm (no affine) in all four;
  minigan's least-squares loss (a = 0, b = c = 1, each term halved). L_D
  is half the sum of D_B's and D_A's losses, L_G the two generators'
  least-squares terms plus 10 times the cycle L1 distances
  |F(G(a)) - a| and |G(F(b)) - b| plus 0.5 * 10 times the identity L1
  distances |G(b) - b| and |F(a) - a|. One Adam updates D_A and D_B
  together, another G and F.

The PyTorch networks are written out layer by layer with minigan's module
names, so a state dict of one loads into the other unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple


class Workload(NamedTuple):
    minigan: Callable[[int], Callable[[], None]]
    torch: Callable[[int], Callable[[], None]]
    batch: int  # the default batch: the family's recipe's


def _step(d_loss, g_loss, d_opt, g_opt, critics, phase):
    """One D update, then one G update with every network in ``critics`` frozen: the same code for both
    libraries, each passing its objectives, optimisers and phase marker."""
    def step():
        with phase("D forward"):
            loss = d_loss()
        with phase("D backward"):
            d_opt.zero_grad()
            loss.backward()
        with phase("D optimiser"):
            d_opt.step()
        with phase("G forward"):
            for net in critics:
                net.requires_grad_(False)
            loss = g_loss()
        with phase("G backward"):
            g_opt.zero_grad()
            loss.backward()
        with phase("G optimiser"):
            g_opt.step()
            for net in critics:
                net.requires_grad_(True)

    return step


def _finish(step, networks: dict, images: list, d_loss, g_loss):
    step.networks, step.images, step.losses = networks, images, lambda: (d_loss(), g_loss())
    return step


# -- pix2pix ----------------------------------------------------------------------------------------
P2P_IN, P2P_OUT, P2P_SIZE, P2P_WIDTH, P2P_PATCH_LAYERS, P2P_L1 = 1, 3, 32, 32, 1, 100.0


def _pix2pix_minigan(batch: int):
    import minigan as mg
    from minigan import optim
    from minigan.autograd.profiler import phase
    from minigan.losses import NonSaturatingLoss
    from minigan.models import PatchDiscriminator, UNetGenerator
    from minigan.ops import abs as absolute
    from minigan.ops import cat

    mg.manual_seed(0)
    G = UNetGenerator(P2P_IN, P2P_OUT, P2P_SIZE, P2P_WIDTH)
    D = PatchDiscriminator(P2P_IN + P2P_OUT, P2P_WIDTH, P2P_PATCH_LAYERS)
    images = [mg.randn(batch, P2P_IN, P2P_SIZE, P2P_SIZE).tanh(), mg.randn(batch, P2P_OUT, P2P_SIZE, P2P_SIZE).tanh()]
    adversarial = NonSaturatingLoss()

    def d_loss():  # Pix2Pix.d_objective
        x, y = images
        with mg.no_grad():
            fake = G(x)
        return 0.5 * adversarial.d_loss(D(cat([x, y], dim=1)), D(cat([x, fake], dim=1)))

    def g_loss():  # Pix2Pix.g_objective
        x, y = images
        fake = G(x)
        return adversarial.g_loss(D(cat([x, fake], dim=1))) + P2P_L1 * absolute(fake - y).mean()

    g_opt, d_opt = optim.Adam(G.parameters(), 2e-4, (0.5, 0.999)), optim.Adam(D.parameters(), 2e-4, (0.5, 0.999))
    return _finish(_step(d_loss, g_loss, d_opt, g_opt, [D], phase), {"G": G, "D": D}, images, d_loss, g_loss)


def _torch_unet(nn, in_channels, out_channels, image_size, width, dropout=0.5):
    """minigan's ``UNetGenerator`` (batch norm, depth log2 S) in PyTorch, module for module."""
    import torch

    depth = image_size.bit_length() - 1
    c = [in_channels] + [width * min(2 ** i, 8) for i in range(depth)]

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            encoder = []
            for i in range(1, depth + 1):
                plain = i == 1 or i == depth  # no norm, so a bias
                norm = [] if plain else [nn.BatchNorm2d(c[i])]
                encoder.append(nn.Sequential(nn.Conv2d(c[i - 1], c[i], 4, 2, 1, bias=plain), *norm, nn.LeakyReLU(0.2)))
            self.encoder = nn.ModuleList(encoder)
            decoder = []
            for j in range(depth - 1, 0, -1):
                reads = c[j + 1] if j + 1 == depth else 2 * c[j + 1]
                drop = [nn.Dropout(dropout)] if dropout > 0 and len(decoder) < 3 else []
                decoder.append(nn.Sequential(nn.ConvTranspose2d(reads, c[j], 4, 2, 1, bias=False), nn.BatchNorm2d(c[j]),
                                             nn.ReLU(), *drop))
            self.decoder = nn.ModuleList(decoder)
            self.output = nn.Sequential(nn.ConvTranspose2d(2 * c[1], out_channels, 4, 2, 1), nn.Tanh())

        def forward(self, x):
            skips, h = [], x
            for layer in self.encoder:
                h = layer(h)
                skips.append(h)
            for layer, skip in zip(self.decoder, reversed(skips[:-1])):
                h = torch.cat([layer(h), skip], dim=1)
            return self.output(h)

    return UNet()


def _torch_norm(nn, kind, channels):
    """minigan's ``image_to_image._norm``: batch norm, instance norm (no affine, no running statistics, both
    libraries' defaults) or none."""
    return {"batch": [nn.BatchNorm2d(channels)], "instance": [nn.InstanceNorm2d(channels)], "none": []}[kind]


def _torch_patch_discriminator(nn, in_channels, width, layers, norm="batch"):
    """minigan's ``PatchDiscriminator`` in PyTorch, under the same name ``net``."""
    class PatchGAN(nn.Module):
        def __init__(self):
            super().__init__()
            body, c = [], in_channels
            for i in range(1, layers + 2):
                out, first = width * min(2 ** (i - 1), 8), i == 1
                body += [nn.Conv2d(c, out, 4, 2 if i <= layers else 1, 1, bias=first or norm != "batch"),
                         *([] if first else _torch_norm(nn, norm, out)), nn.LeakyReLU(0.2)]
                c = out
            self.net = nn.Sequential(*body, nn.Conv2d(c, 1, 4, 1, 1))

        def forward(self, v):
            return self.net(v)

    return PatchGAN()


def _torch_adam(torch, params, betas):
    try:
        return torch.optim.Adam(params, 2e-4, betas, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(params, 2e-4, betas)


def _pix2pix_torch(batch: int):
    import torch
    from torch import nn
    from torch.autograd.profiler import record_function as phase
    from torch.nn import functional as F

    torch.manual_seed(0)
    G = _torch_unet(nn, P2P_IN, P2P_OUT, P2P_SIZE, P2P_WIDTH)
    D = _torch_patch_discriminator(nn, P2P_IN + P2P_OUT, P2P_WIDTH, P2P_PATCH_LAYERS)
    images = [torch.randn(batch, P2P_IN, P2P_SIZE, P2P_SIZE).tanh(),
              torch.randn(batch, P2P_OUT, P2P_SIZE, P2P_SIZE).tanh()]

    def d_loss():
        x, y = images
        with torch.no_grad():
            fake = G(x)
        real_out, fake_out = D(torch.cat([x, y], dim=1)), D(torch.cat([x, fake], dim=1))
        return 0.5 * (F.binary_cross_entropy_with_logits(real_out, torch.ones_like(real_out))
                      + F.binary_cross_entropy_with_logits(fake_out, torch.zeros_like(fake_out)))

    def g_loss():
        x, y = images
        fake = G(x)
        fake_out = D(torch.cat([x, fake], dim=1))
        return (F.binary_cross_entropy_with_logits(fake_out, torch.ones_like(fake_out))
                + P2P_L1 * (fake - y).abs().mean())

    g_opt, d_opt = _torch_adam(torch, G.parameters(), (0.5, 0.999)), _torch_adam(torch, D.parameters(), (0.5, 0.999))
    return _finish(_step(d_loss, g_loss, d_opt, g_opt, [D], phase), {"G": G, "D": D}, images, d_loss, g_loss)


# -- SRGAN ------------------------------------------------------------------------------------------
SR_CHANNELS, SR_SIZE, SR_G_WIDTH, SR_BLOCKS, SR_D_WIDTH, SR_D_STAGES = 3, 32, 32, 4, 16, 3
SR_CONTENT, SR_PIXEL, SR_ADVERSARIAL = 1.0, 0.1, 1e-3


def _srgan_minigan(batch: int):
    import minigan as mg
    from minigan import optim
    from minigan.autograd.profiler import phase
    from minigan.losses import NonSaturatingLoss
    from minigan.metrics import load_photo_features
    from minigan.models import SRDiscriminator, SRGenerator
    from minigan.nn.functional import interpolate

    mg.manual_seed(0)
    G = SRGenerator(SR_CHANNELS, SR_G_WIDTH, SR_BLOCKS)  # global residual, batch norm: the recipe's defaults
    D = SRDiscriminator(SR_CHANNELS, SR_SIZE, SR_D_WIDTH, SR_D_STAGES)
    features = load_photo_features()  # frozen, in eval mode
    low = mg.randn(batch, SR_CHANNELS, SR_SIZE // 2, SR_SIZE // 2).tanh()
    images = [interpolate(low, size=(SR_SIZE, SR_SIZE), mode="bilinear", align_corners=False),
              mg.randn(batch, SR_CHANNELS, SR_SIZE, SR_SIZE).tanh()]
    adversarial = NonSaturatingLoss()

    def d_loss():  # SRGAN.d_objective
        x, y = images
        with mg.no_grad():
            fake = G(x)
        return adversarial.d_loss(D(y), D(fake))

    def g_loss():  # SRGAN.g_objective, with SRGAN.content_loss
        x, y = images
        fake = G(x)
        terms = [((a - b) ** 2).mean() for a, b in zip(features.feature_maps(fake), features.feature_maps(y))]
        content = sum(terms[1:], terms[0]) * (1.0 / len(terms))
        pixel = ((fake - y) ** 2).mean()
        return SR_CONTENT * content + SR_PIXEL * pixel + SR_ADVERSARIAL * adversarial.g_loss(D(fake))

    g_opt, d_opt = optim.Adam(G.parameters(), 2e-4, (0.5, 0.999)), optim.Adam(D.parameters(), 2e-4, (0.5, 0.999))
    networks = {"G": G, "D": D, "features": features}  # the feature network too, for the profiler's layer table
    return _finish(_step(d_loss, g_loss, d_opt, g_opt, [D], phase), networks, images, d_loss, g_loss)


def _torch_sr_generator(nn, channels, width, blocks):
    """minigan's ``SRGenerator`` (batch norm, global residual) in PyTorch, module for module."""
    def conv3(c_in, c_out, bias=True):
        return [nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_out, 3, 1, 0, bias=bias)]

    class SRResidualBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(*conv3(width, width, False), nn.BatchNorm2d(width), nn.PReLU(width),
                                      *conv3(width, width, False), nn.BatchNorm2d(width))

        def forward(self, h):
            return h + self.body(h)

    class SRResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.unshuffle = nn.PixelUnshuffle(2)
            self.head = nn.Sequential(*conv3(4 * channels, width), nn.PReLU(width))
            self.trunk = nn.Sequential(*(SRResidualBlock() for _ in range(blocks)))
            self.trunk_end = nn.Sequential(*conv3(width, width, False), nn.BatchNorm2d(width))
            self.upsample = nn.Sequential(*conv3(width, 4 * width), nn.PixelShuffle(2), nn.PReLU(width))
            self.output = nn.Sequential(*conv3(width, channels))

        def forward(self, x):
            h = self.head(self.unshuffle(x - x.mean(dim=(2, 3), keepdim=True)))
            h = h + self.trunk_end(self.trunk(h))
            return x + self.output(self.upsample(h))

    return SRResNet()


def _torch_sr_discriminator(nn, channels, image_size, width, stages):
    """minigan's ``SRDiscriminator`` (batch norm) in PyTorch, module for module."""
    class VGGStyle(nn.Module):
        def __init__(self):
            super().__init__()
            layers, c, size = [nn.Conv2d(channels, width, 3, 1, 1), nn.LeakyReLU(0.2)], width, image_size
            for i in range(stages):
                out = width * 2 ** i
                if i > 0:
                    layers += [nn.Conv2d(c, out, 3, 1, 1, bias=False), nn.BatchNorm2d(out), nn.LeakyReLU(0.2)]
                layers += [nn.Conv2d(out, out, 3, 2, 1, bias=False), nn.BatchNorm2d(out), nn.LeakyReLU(0.2)]
                c, size = out, (size + 1) // 2
            self.features = nn.Sequential(*layers)
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(c * size * size, 16 * width), nn.LeakyReLU(0.2),
                                      nn.Linear(16 * width, 1))

        def forward(self, x):
            return self.head(self.features(x))

    return VGGStyle()


def _torch_photo_features(torch, nn):
    """minigan's ``PhotoFeatures`` in PyTorch, given the shipped weights, frozen and in eval mode."""
    import numpy as np

    from minigan.metrics.photo_features import FEATURE_CHANNELS, SOURCES, TURNS, load_photo_features

    c1, c2 = FEATURE_CHANNELS

    class PhotoFeatures(nn.Module):
        def __init__(self):
            super().__init__()
            self.block1 = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1), nn.ReLU(), nn.Conv2d(16, c1, 3, 2, 1), nn.ReLU(),
                                        nn.Conv2d(c1, c1, 3, 1, 1), nn.ReLU())
            self.block2 = nn.Sequential(nn.Conv2d(c1, c2, 3, 2, 1), nn.ReLU())
            self.head = nn.Sequential(nn.Conv2d(c2, c2, 3, 2, 1), nn.ReLU(), nn.Flatten(),
                                      nn.Linear(c2 * 4 * 4, TURNS + SOURCES))
            self.register_buffer("feature_scales", torch.ones(2))

        def feature_maps(self, x):
            h1 = self.block1(x)
            h2 = self.block2(h1)
            s = self.feature_scales
            return [h1 / s[0], h2 / s[1]]

    network = PhotoFeatures()
    shipped = load_photo_features().state_dict()
    network.load_state_dict({key: torch.from_numpy(np.array(value.numpy())) for key, value in shipped.items()})
    return network.eval().requires_grad_(False)


def _srgan_torch(batch: int):
    import torch
    from torch import nn
    from torch.autograd.profiler import record_function as phase
    from torch.nn import functional as F

    torch.manual_seed(0)
    G = _torch_sr_generator(nn, SR_CHANNELS, SR_G_WIDTH, SR_BLOCKS)
    D = _torch_sr_discriminator(nn, SR_CHANNELS, SR_SIZE, SR_D_WIDTH, SR_D_STAGES)
    features = _torch_photo_features(torch, nn)
    low = torch.randn(batch, SR_CHANNELS, SR_SIZE // 2, SR_SIZE // 2).tanh()
    images = [F.interpolate(low, size=(SR_SIZE, SR_SIZE), mode="bilinear", align_corners=False),
              torch.randn(batch, SR_CHANNELS, SR_SIZE, SR_SIZE).tanh()]

    def d_loss():
        x, y = images
        with torch.no_grad():
            fake = G(x)
        real_out, fake_out = D(y), D(fake)
        return (F.binary_cross_entropy_with_logits(real_out, torch.ones_like(real_out))
                + F.binary_cross_entropy_with_logits(fake_out, torch.zeros_like(fake_out)))

    def g_loss():
        x, y = images
        fake = G(x)
        terms = [((a - b) ** 2).mean() for a, b in zip(features.feature_maps(fake), features.feature_maps(y))]
        content = sum(terms[1:], terms[0]) * (1.0 / len(terms))
        pixel = ((fake - y) ** 2).mean()
        fake_out = D(fake)
        return (SR_CONTENT * content + SR_PIXEL * pixel
                + SR_ADVERSARIAL * F.binary_cross_entropy_with_logits(fake_out, torch.ones_like(fake_out)))

    g_opt, d_opt = _torch_adam(torch, G.parameters(), (0.5, 0.999)), _torch_adam(torch, D.parameters(), (0.5, 0.999))
    networks = {"G": G, "D": D, "features": features}
    return _finish(_step(d_loss, g_loss, d_opt, g_opt, [D], phase), networks, images, d_loss, g_loss)


# -- CycleGAN ---------------------------------------------------------------------------------------
CG_CHANNELS, CG_SIZE, CG_G_WIDTH, CG_BLOCKS, CG_D_WIDTH, CG_PATCH_LAYERS = 3, 32, 16, 3, 32, 1
CG_CYCLE, CG_IDENTITY = 10.0, 0.5


def _cyclegan_minigan(batch: int):
    import minigan as mg
    from minigan import optim
    from minigan.autograd.profiler import phase
    from minigan.losses import LSGANLoss
    from minigan.models import PatchDiscriminator, ResnetGenerator
    from minigan.ops import abs as absolute

    mg.manual_seed(0)
    G = ResnetGenerator(CG_CHANNELS, CG_CHANNELS, CG_G_WIDTH, CG_BLOCKS, "instance")  # A -> B
    F = ResnetGenerator(CG_CHANNELS, CG_CHANNELS, CG_G_WIDTH, CG_BLOCKS, "instance")  # B -> A
    D_A = PatchDiscriminator(CG_CHANNELS, CG_D_WIDTH, CG_PATCH_LAYERS, "instance")
    D_B = PatchDiscriminator(CG_CHANNELS, CG_D_WIDTH, CG_PATCH_LAYERS, "instance")
    images = [mg.randn(batch, CG_CHANNELS, CG_SIZE, CG_SIZE).tanh(),
              mg.randn(batch, CG_CHANNELS, CG_SIZE, CG_SIZE).tanh()]
    adversarial = LSGANLoss()  # a = 0, b = c = 1

    def d_loss():  # CycleGAN.d_objective
        a, b = images
        with mg.no_grad():
            fake_b, fake_a = G(a), F(b)
        real_a, fake_a_out = D_A(a), D_A(fake_a)
        real_b, fake_b_out = D_B(b), D_B(fake_b)
        return 0.5 * (adversarial.d_loss(real_b, fake_b_out) + adversarial.d_loss(real_a, fake_a_out))

    def g_loss():  # CycleGAN.g_objective, with the identity term (A and B both RGB)
        a, b = images
        fake_b, fake_a = G(a), F(b)
        loss = adversarial.g_loss(D_B(fake_b)) + adversarial.g_loss(D_A(fake_a))
        loss = loss + CG_CYCLE * (absolute(F(fake_b) - a).mean() + absolute(G(fake_a) - b).mean())
        return loss + CG_IDENTITY * CG_CYCLE * (absolute(G(b) - b).mean() + absolute(F(a) - a).mean())

    g_opt = optim.Adam([*G.parameters(), *F.parameters()], 2e-4, (0.5, 0.999))
    d_opt = optim.Adam([*D_A.parameters(), *D_B.parameters()], 2e-4, (0.5, 0.999))
    networks = {"G": G, "F": F, "D_A": D_A, "D_B": D_B}
    return _finish(_step(d_loss, g_loss, d_opt, g_opt, [D_A, D_B], phase), networks, images, d_loss, g_loss)


def _torch_resnet_generator(nn, in_channels, out_channels, width, blocks):
    """minigan's ``ResnetGenerator`` (instance norm, so every convolution has a bias) in PyTorch, under the same
    name ``net``."""
    class ResidualBlock(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.body = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c), nn.ReLU(),
                                      nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c))

        def forward(self, x):
            return x + self.body(x)

    def layer(conv, channels):
        return [conv, nn.InstanceNorm2d(channels), nn.ReLU()]

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            w = width
            self.net = nn.Sequential(
                nn.ReflectionPad2d(3), *layer(nn.Conv2d(in_channels, w, 7), w),
                *layer(nn.Conv2d(w, 2 * w, 3, 2, 1), 2 * w), *layer(nn.Conv2d(2 * w, 4 * w, 3, 2, 1), 4 * w),
                *(ResidualBlock(4 * w) for _ in range(blocks)),
                *layer(nn.ConvTranspose2d(4 * w, 2 * w, 3, 2, 1, output_padding=1), 2 * w),
                *layer(nn.ConvTranspose2d(2 * w, w, 3, 2, 1, output_padding=1), w),
                nn.ReflectionPad2d(3), nn.Conv2d(w, out_channels, 7), nn.Tanh())

        def forward(self, x):
            return self.net(x)

    return ResNet()


def _cyclegan_torch(batch: int):
    import torch
    from torch import nn
    from torch.autograd.profiler import record_function as phase

    torch.manual_seed(0)
    G = _torch_resnet_generator(nn, CG_CHANNELS, CG_CHANNELS, CG_G_WIDTH, CG_BLOCKS)
    F = _torch_resnet_generator(nn, CG_CHANNELS, CG_CHANNELS, CG_G_WIDTH, CG_BLOCKS)
    D_A = _torch_patch_discriminator(nn, CG_CHANNELS, CG_D_WIDTH, CG_PATCH_LAYERS, "instance")
    D_B = _torch_patch_discriminator(nn, CG_CHANNELS, CG_D_WIDTH, CG_PATCH_LAYERS, "instance")
    images = [torch.randn(batch, CG_CHANNELS, CG_SIZE, CG_SIZE).tanh(),
              torch.randn(batch, CG_CHANNELS, CG_SIZE, CG_SIZE).tanh()]

    def half_squared_error(out, target):
        return 0.5 * ((out - target) ** 2).mean()

    def lsgan_d(real_out, fake_out):  # minigan's lsgan: a = 0, b = c = 1
        return half_squared_error(real_out, 1.0) + half_squared_error(fake_out, 0.0)

    def d_loss():
        a, b = images
        with torch.no_grad():
            fake_b, fake_a = G(a), F(b)
        real_a, fake_a_out = D_A(a), D_A(fake_a)
        real_b, fake_b_out = D_B(b), D_B(fake_b)
        return 0.5 * (lsgan_d(real_b, fake_b_out) + lsgan_d(real_a, fake_a_out))

    def g_loss():
        a, b = images
        fake_b, fake_a = G(a), F(b)
        loss = half_squared_error(D_B(fake_b), 1.0) + half_squared_error(D_A(fake_a), 1.0)
        loss = loss + CG_CYCLE * ((F(fake_b) - a).abs().mean() + (G(fake_a) - b).abs().mean())
        return loss + CG_IDENTITY * CG_CYCLE * ((G(b) - b).abs().mean() + (F(a) - a).abs().mean())

    g_opt = _torch_adam(torch, [*G.parameters(), *F.parameters()], (0.5, 0.999))
    d_opt = _torch_adam(torch, [*D_A.parameters(), *D_B.parameters()], (0.5, 0.999))
    networks = {"G": G, "F": F, "D_A": D_A, "D_B": D_B}
    return _finish(_step(d_loss, g_loss, d_opt, g_opt, [D_A, D_B], phase), networks, images, d_loss, g_loss)


WORKLOADS = {
    "pix2pix": Workload(_pix2pix_minigan, _pix2pix_torch, batch=16),
    "srgan": Workload(_srgan_minigan, _srgan_torch, batch=16),
    "cyclegan": Workload(_cyclegan_minigan, _cyclegan_torch, batch=8),
}
