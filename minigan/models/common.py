"""Pieces shared by the model families."""

from __future__ import annotations

from minigan import nn

__all__ = ["activation", "maybe_spectral_norm", "pack_samples"]


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
    r"""PacGAN packing (Lin et al. 2018): ``m`` samples side by side become one input of D.

    ``(N, C, ...)`` -> ``(N/m, m*C, ...)``; D then judges packs, which lets it
    see the diversity a collapsed generator lacks.
    """
    if pack == 1:
        return x
    n = x.shape[0]
    if n % pack:
        raise ValueError(f"PacGAN: batch size {n} must be a multiple of the pack size {pack}")
    return x.reshape((n // pack, pack * x.shape[1]) + x.shape[2:])
