"""Fully connected generator and discriminator (Goodfellow et al. 2014 style)."""

from __future__ import annotations

import math
from itertools import islice

from minigan import nn
from minigan.models.common import activation, maybe_spectral_norm, pack_samples

__all__ = ["MLPGenerator", "MLPDiscriminator"]


class MLPGenerator(nn.Module):
    """``z (N, latent_dim)`` -> samples of ``out_shape`` through hidden Linear layers.

    ``output`` is ``"tanh"`` for data in [-1, 1] (images) or ``"linear"`` for
    unbounded data (the 2-D toys).
    """

    def __init__(self, latent_dim: int, out_shape, hidden=(256, 256), activation_fn: str = "relu",
                 batch_norm: bool = False, output: str = "tanh"):
        super().__init__()
        self.latent_dim = latent_dim
        self.out_shape = (out_shape,) if isinstance(out_shape, int) else tuple(out_shape)
        layers, width = [], latent_dim
        for h in hidden:
            layers += [nn.Linear(width, h)] + ([nn.BatchNorm1d(h)] if batch_norm else []) + [activation(activation_fn)]
            width = h
        layers.append(nn.Linear(width, math.prod(self.out_shape)))
        if output == "tanh":
            layers.append(nn.Tanh())
        elif output != "linear":
            raise ValueError(f"MLPGenerator: output must be 'tanh' or 'linear', got {output!r}")
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return self.net(z).reshape((z.shape[0],) + self.out_shape)


class MLPDiscriminator(nn.Module):
    r"""Samples of ``in_shape`` -> one logit per sample (per pack of ``pack`` samples).

    Body and head: :math:`D(x) = \psi(\phi(x))` with :meth:`features`
    :math:`\phi` (every layer but the last, ``(N, feature_dim)``) and
    :meth:`head` :math:`\psi` (the last Linear, ``(N, 1)``); ``D(x)`` and
    ``D.head(D.features(x))`` agree to the last bit. With ``outputs = k`` the
    head gives ``(N, k)``: the same body as an encoder of samples into
    :math:`\mathbb R^k` (BiGAN's E).
    """

    def __init__(self, in_shape, hidden=(256, 256), activation_fn: str = "leaky_relu", spectral_norm: bool = False,
                 layer_norm: bool = False, minibatch_std: bool = False, pack: int = 1, dropout: float = 0.0,
                 outputs: int = 1):
        super().__init__()
        self.in_shape = (in_shape,) if isinstance(in_shape, int) else tuple(in_shape)
        self.pack = pack
        layers, width = [], math.prod(self.in_shape) * pack
        for h in hidden:
            layers += [maybe_spectral_norm(nn.Linear(width, h), spectral_norm)]
            layers += ([nn.LayerNorm(h)] if layer_norm else []) + [activation(activation_fn)]
            layers += [nn.Dropout(dropout)] if dropout else []
            width = h
        if minibatch_std:
            layers.append(nn.MinibatchStdDev())
            width += 1
        layers.append(maybe_spectral_norm(nn.Linear(width, outputs), spectral_norm))
        self.net = nn.Sequential(*layers)
        self.feature_dim = width

    def forward(self, x):
        x = pack_samples(x, self.pack)
        return self.net(x.reshape(x.shape[0], -1))

    def features(self, x):
        r""":math:`\phi(x)`: every layer but the last, ``(N, feature_dim)`` (one row per pack)."""
        x = pack_samples(x, self.pack)
        h = x.reshape(x.shape[0], -1)
        for layer in islice(self.net, len(self.net) - 1):
            h = layer(h)
        return h

    def head(self, h):
        r""":math:`\psi(h)`: the last Linear on features ``(N, feature_dim)``, ``(N, 1)``."""
        if h.ndim != 2 or h.shape[1] != self.feature_dim:
            raise ValueError(f"MLPDiscriminator.head: expected features of shape (N, {self.feature_dim}), "
                             f"got {h.shape}")
        return self.net[-1](h)
