"""Pieces shared by the model families."""

from __future__ import annotations

from minigan import nn
from minigan.autograd.creation import Generator

__all__ = ["activation", "maybe_spectral_norm", "pack_samples", "dcgan_init_"]


def activation(name: str) -> nn.Module:
    """An activation layer by name: ``relu``, ``leaky_relu`` (slope 0.2, as in DCGAN's D), ``tanh``, ``softplus``."""
    table = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh,
             "softplus": nn.Softplus, "sigmoid": nn.Sigmoid}
    if name not in table:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(table)}")
    return table[name]()


def maybe_spectral_norm(module: nn.Module, enabled: bool) -> nn.Module:
    return nn.utils.spectral_norm(module) if enabled else module


def pack_samples(x, pack: int):
    r"""PacGAN packing (Lin et al. 2018): ``pack`` samples side by side become one input of D.

    ``(N, C, ...)`` -> ``(N/pack, pack*C, ...)``; D then judges packs, which lets it
    see the diversity a collapsed generator lacks.
    """
    if pack == 1:
        return x
    n = x.shape[0]
    if n % pack:
        raise ValueError(f"PacGAN: batch size {n} must be a multiple of the pack size {pack}")
    return x.reshape((n // pack, pack * x.shape[1]) + x.shape[2:])


def dcgan_init_(module: nn.Module, generator: Generator | None = None) -> nn.Module:
    r"""Radford et al. 2016: :math:`\mathcal N(0, 0.02^2)` for conv and linear weights, :math:`\mathcal N(1, 0.02^2)`
    for norm scales, zero biases.

    Acts on ``module`` itself; use ``model.apply(dcgan_init_)`` for a whole
    network. A spectrally normalised layer has its ``weight_orig`` drawn.
    ``Embedding`` tables are left as their owner drew them: they are not
    weights of a linear map but learned inputs (a label vector beside
    :math:`z \sim \mathcal N(0, I)`, label maps beside pixels), whose scale the
    rule's 0.02 would shrink fifty-fold, and the projection discriminator
    draws its table at a scale chosen against its head's.

    References
    ----------
    Radford, Metz, Chintala. Unsupervised Representation Learning with Deep
    Convolutional Generative Adversarial Networks. ICLR 2016 (Section 4).
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        weight = module._parameters.get("weight", module._parameters.get("weight_orig"))  # spectral norm renames it
        nn.init.normal_(weight, 0.0, 0.02, generator)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm)) and module.weight is not None:
        nn.init.normal_(module.weight, 1.0, 0.02, generator)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    return module
