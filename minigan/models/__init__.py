"""Generator and discriminator families: MLP (Goodfellow et al. 2014) and DCGAN (Radford et al. 2015)."""

from minigan.models.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_plan
from minigan.models.mlp import MLPDiscriminator, MLPGenerator

__all__ = ["MLPGenerator", "MLPDiscriminator", "DCGANGenerator", "DCGANDiscriminator", "dcgan_plan"]
