"""The generator and discriminator architectures a recipe's ``[model]`` table chooses, sized for the data."""

from __future__ import annotations

from minigan import nn
from minigan.data import DataSource
from minigan.models import (AutoencoderDiscriminator, DCGANDiscriminator, DCGANGenerator, MLPDiscriminator,
                            MLPGenerator, dcgan_plan)
from minigan.registry import ConfigError

__all__ = ["ARCHITECTURES", "generator", "discriminator", "autoencoder"]

ARCHITECTURES = ("dcgan", "mlp")


def _check(model: dict, data: DataSource) -> None:
    if model["name"] not in ARCHITECTURES:
        raise ConfigError(f"unknown model.name {model['name']!r}; choose from {', '.join(ARCHITECTURES)}")
    if model["name"] == "dcgan" and (data.kind != "image" or data.shape[1] != data.shape[2]):
        raise ConfigError(f"model.name = 'dcgan' needs square images, got data of shape {data.shape}")
    if model["name"] == "dcgan":
        try:
            dcgan_plan(data.shape[1])
        except ValueError as error:
            raise ConfigError(f"model.name = 'dcgan': {error}; use model.name = 'mlp' for other sizes") from None


def generator(model: dict, data: DataSource, latent_dim: int) -> nn.Module:
    """G: ``(N, latent_dim)`` -> samples shaped like the data (tanh for images, linear for toys)."""
    _check(model, data)
    if model["name"] == "mlp":
        return MLPGenerator(latent_dim, data.shape, model["g_hidden"], batch_norm=model["g_batch_norm"],
                            output="tanh" if data.kind == "image" else "linear")
    channels, size = data.shape[0], data.shape[1]
    return DCGANGenerator(latent_dim, size, channels, model["g_width"], model["g_batch_norm"], model["self_attention"])


def discriminator(model: dict, data: DataSource, extra_channels: int = 0, outputs: int = 1) -> nn.Module:
    """D: samples -> ``outputs`` values each (one logit; a latent code for an encoder); ``extra_channels`` more
    input channels (or features) for conditioning."""
    _check(model, data)
    m = model
    shape = (data.shape[0] + extra_channels, *data.shape[1:])  # channels of images, features of flat samples
    if m["name"] == "mlp":
        return MLPDiscriminator(shape, m["d_hidden"], spectral_norm=m["spectral_norm"],
                                minibatch_std=m["minibatch_std"], pack=m["pack"], outputs=outputs)
    channels, size = shape[0], shape[1]
    return DCGANDiscriminator(size, channels, m["d_width"], m["d_batch_norm"], m["spectral_norm"], m["minibatch_std"],
                              m["self_attention"], m["pack"], outputs)


def autoencoder(model: dict, data: DataSource, code_dim: int, energy: str) -> AutoencoderDiscriminator:
    """D as an autoencoder: the discriminator's body encodes into ``code_dim`` values, the generator's architecture
    with D's widths decodes them; its output is the reconstruction ``energy`` per sample."""
    encoder = discriminator(model, data, outputs=code_dim)
    # a linear output: behind a tanh, D cannot raise the energy of a saturated sample, and G collapses onto one
    if model["name"] == "mlp":  # no batch norm, as in the MLP discriminator
        decoder = MLPGenerator(code_dim, data.shape, model["d_hidden"][::-1], output="linear")
    else:
        decoder = DCGANGenerator(code_dim, data.shape[1], data.shape[0], model["d_width"], model["d_batch_norm"],
                                 model["self_attention"], output="linear")
    return AutoencoderDiscriminator(encoder, decoder, energy)
