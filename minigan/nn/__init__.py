"""Layers and modules, as ``torch.nn``: same names, signatures, defaults and weight layouts."""

from minigan.nn import functional, init, utils
from minigan.nn.activation import (Dropout, Dropout2d, Flatten, LeakyReLU, LogSoftmax, PReLU, ReLU, Sigmoid, Softmax,
                                   Softplus, Tanh, Unflatten, Upsample, UpsamplingBilinear2d,
                                   UpsamplingNearest2d)
from minigan.nn.conv import Conv2d, ConvTranspose2d
from minigan.nn.gan_layers import MinibatchDiscrimination, MinibatchStdDev, SelfAttention2d
from minigan.nn.instancenorm import InstanceNorm2d
from minigan.nn.linear import Embedding, Identity, Linear
from minigan.nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from minigan.nn.module import Module, ModuleDict, ModuleList, Parameter, Sequential, StateDictError
from minigan.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from minigan.nn.padding import ConstantPad2d, ReflectionPad2d, ReplicationPad2d, ZeroPad2d
from minigan.nn.pixelshuffle import PixelShuffle, PixelUnshuffle
from minigan.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from minigan.nn.style import EqualizedLinear, ModulatedConv2d, NoiseInjection, PixelNorm

__all__ = [
    "ZeroPad2d", "ConstantPad2d", "ReflectionPad2d", "ReplicationPad2d", "PixelShuffle", "PixelUnshuffle",
    "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "InstanceNorm2d",
    "PixelNorm", "EqualizedLinear", "ModulatedConv2d", "NoiseInjection",
    "Module", "ModuleList", "ModuleDict", "Parameter", "Sequential", "StateDictError", "Linear", "Embedding", "Identity",
    "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "ReLU", "LeakyReLU", "PReLU", "Tanh",
    "Sigmoid", "Softplus", "Dropout", "Flatten", "Unflatten", "Upsample", "UpsamplingNearest2d",
    "UpsamplingBilinear2d", "MinibatchStdDev",
    "MinibatchDiscrimination", "SelfAttention2d", "functional", "init", "utils",
    "Softmax", "LogSoftmax", "Dropout2d", "L1Loss", "MSELoss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss",
    "CrossEntropyLoss",
]
