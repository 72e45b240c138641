"""Generator and discriminator families: MLP (Goodfellow et al. 2014) and DCGAN (Radford et al. 2016),
the conditional wrappers (cGAN, projection discriminator, ACGAN), InfoGAN's Q head, BiGAN's discriminator of
(sample, latent) pairs, the autoencoder discriminator of EBGAN and BEGAN, and pix2pix's U-Net generator and
PatchGAN discriminator (Isola et al. 2017), CycleGAN's residual generator (Zhu et al. 2017), and SRGAN's residual
generator and VGG-style discriminator (Ledig et al. 2017)."""

from minigan.models.autoencoder import ENERGIES, AutoencoderDiscriminator, reconstruction_energy
from minigan.models.bidirectional import JointDiscriminator
from minigan.models.common import dcgan_init_
from minigan.models.conditional import (AuxiliaryClassifierDiscriminator, ConcatDiscriminator, ConditionalGenerator,
                                        LatentCodeHead, ProjectionDiscriminator)
from minigan.models.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_plan
from minigan.models.image_to_image import PatchDiscriminator, UNetGenerator, patch_receptive_field
from minigan.models.mlp import MLPDiscriminator, MLPGenerator
from minigan.models.resnet_generator import ResidualBlock, ResnetGenerator
from minigan.models.super_resolution import SRDiscriminator, SRGenerator, SRResidualBlock
from minigan.models.style import MappingNetwork, StyledConv2d, StyleGenerator, style_plan
from minigan.models.variational import GaussianEncoder, reparameterize

__all__ = [
    "MLPGenerator", "MLPDiscriminator", "DCGANGenerator", "DCGANDiscriminator", "dcgan_plan", "dcgan_init_",
    "ConditionalGenerator", "ConcatDiscriminator", "ProjectionDiscriminator", "AuxiliaryClassifierDiscriminator",
    "LatentCodeHead", "JointDiscriminator", "AutoencoderDiscriminator", "reconstruction_energy", "ENERGIES",
    "GaussianEncoder", "reparameterize", "MappingNetwork", "StyledConv2d", "StyleGenerator", "style_plan",
    "UNetGenerator", "PatchDiscriminator", "patch_receptive_field",
    "ResnetGenerator", "ResidualBlock", "SRGenerator", "SRDiscriminator", "SRResidualBlock",
]
