"""GAN families as games of named networks: one file per family, each its objective in a few lines.

``GAMES.get(name)`` gives a family's class, ``GAMES.available()`` their
names. A family is a :class:`Game`: its networks, its players (who updates
what, with which learning rate) and one objective per player. See
``docs/families.md`` for each family's equation and how to add one.
"""

from minigan.games.base import GAMES, Game, Objective, Player, evaluating
from minigan.games.gan import GAN
from minigan.games.cgan import ConditionalGAN, LabelledGame
from minigan.games.acgan import ACGAN
from minigan.games.infogan import InfoGAN
from minigan.games.bigan import BiGAN
from minigan.games.ebgan import EBGAN, AutoencoderGame
from minigan.games.began import BEGAN
from minigan.games.vaegan import VAEGAN
from minigan.games.catgan import CatGAN
from minigan.games.stylegan import StyleGAN
from minigan.games.translation import ImageToImageGame
from minigan.games.pix2pix import Pix2Pix
from minigan.games.srgan import SRGAN
from minigan.games.cyclegan import CycleGAN

__all__ = ["GAMES", "Game", "Objective", "Player", "evaluating", "GAN", "ConditionalGAN", "LabelledGame", "ACGAN",
           "InfoGAN", "BiGAN", "AutoencoderGame", "EBGAN", "BEGAN", "VAEGAN",
           "CatGAN", "StyleGAN", "ImageToImageGame", "Pix2Pix", "SRGAN", "CycleGAN"]
