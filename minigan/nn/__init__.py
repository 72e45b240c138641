"""Layers and modules, as ``torch.nn``: same names, signatures, defaults and weight layouts."""

from minigan.nn import functional, init, utils
from minigan.nn.activation import (Dropout, Flatten, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh, Unflatten,
                                   Upsample)
from minigan.nn.conv import Conv2d, ConvTranspose2d
from minigan.nn.gan_layers import MinibatchDiscrimination, MinibatchStdDev, SelfAttention2d
from minigan.nn.linear import Embedding, Identity, Linear
from minigan.nn.module import Module, ModuleList, Parameter, Sequential, StateDictError
from minigan.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm

__all__ = [
    "Module", "ModuleList", "Parameter", "Sequential", "StateDictError", "Linear", "Embedding", "Identity",
    "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "ReLU", "LeakyReLU", "Tanh",
    "Sigmoid", "Softplus", "Dropout", "Flatten", "Unflatten", "Upsample", "MinibatchStdDev",
    "MinibatchDiscrimination", "SelfAttention2d", "functional", "init", "utils",
]
