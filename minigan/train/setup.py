"""Building a run from its configuration: the data, the two networks, their optimisers and the loss."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minigan import data as datasets
from minigan import losses, nn, optim
from minigan.models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from minigan.train.config import ConfigError

__all__ = ["DataSource", "build_data", "build_models", "build_optimizer", "build_loss", "PENALTIES"]


@dataclass
class DataSource:
    """Real samples for training: a loader, the sample shape, and (for toys) the distribution itself."""

    loader: datasets.DataLoader
    shape: tuple[int, ...]
    kind: str                                   # "image" or "toy"
    toy: datasets.ToyDistribution | None = None
    labels: np.ndarray | None = None


def build_data(config: dict) -> DataSource:
    c, seed = config["data"], config["train"]["seed"]
    name, batch = c["name"], c["batch_size"]
    if name in datasets.TOYS:
        toy = datasets.toy(name)
        points = toy.sample(50_000, np.random.default_rng(seed))  # a fixed training set, like an image dataset
        return DataSource(datasets.DataLoader(points, batch_size=batch, seed=seed), (toy.dim,), "toy", toy)
    if name == "digits":
        images = datasets.digits("train")
    elif name in ("mnist", "fashion_mnist"):
        if not c["root"]:
            raise ConfigError(f"data.name = {name!r} needs data.root, the folder holding its IDX files")
        images = getattr(datasets, name)(c["root"])
    elif name == "image_folder":
        if not c["root"] or not c["image_size"]:
            raise ConfigError("data.name = 'image_folder' needs data.root and data.image_size")
        images = datasets.image_folder(c["root"], c["image_size"], c["channels"])
    else:
        raise ConfigError(f"unknown data.name {name!r}; choose from digits, mnist, fashion_mnist, image_folder, "
                          f"{', '.join(datasets.TOYS)}")
    loader = datasets.DataLoader(images.images, batch_size=batch, seed=seed)
    return DataSource(loader, images.shape, "image", labels=images.labels)


def build_models(config: dict, shape: tuple[int, ...], kind: str) -> tuple[nn.Module, nn.Module]:
    m = config["model"]
    if m["family"] == "mlp":
        G = MLPGenerator(m["latent_dim"], shape, m["g_hidden"], batch_norm=m["g_batch_norm"],
                         output="tanh" if kind == "image" else "linear")
        D = MLPDiscriminator(shape, m["d_hidden"], spectral_norm=m["spectral_norm"],
                             minibatch_std=m["minibatch_std"], pack=m["pack"])
    elif m["family"] == "dcgan":
        if kind != "image" or shape[1] != shape[2]:
            raise ConfigError(f"model.family = 'dcgan' needs square images, got data of shape {shape}")
        G = DCGANGenerator(m["latent_dim"], shape[1], shape[0], m["g_width"], m["g_batch_norm"], m["self_attention"])
        D = DCGANDiscriminator(shape[1], shape[0], m["d_width"], m["d_batch_norm"], m["spectral_norm"],
                               m["minibatch_std"], m["self_attention"], m["pack"])
    else:
        raise ConfigError(f"unknown model.family {m['family']!r}; choose from mlp, dcgan")
    if m["dcgan_init"]:
        G.apply(nn.init.dcgan_init_)
        D.apply(nn.init.dcgan_init_)
    return G, D


def build_optimizer(config: dict, module: nn.Module, lr: float) -> optim.Optimizer:
    o = config["optim"]
    params = list(module.parameters())
    if o["name"] == "adam":
        return optim.Adam(params, lr=lr, betas=(o["beta1"], o["beta2"]))
    if o["name"] == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=o["momentum"])
    if o["name"] == "sgd":
        return optim.SGD(params, lr=lr, momentum=o["momentum"])
    raise ConfigError(f"unknown optim.name {o['name']!r}; choose from adam, rmsprop, sgd")


PENALTIES = {"none", "gp", "r1", "r2", "dragan"}


def build_loss(config: dict) -> losses.AdversarialLoss:
    c = config["loss"]
    if c["name"] not in losses.available():
        raise ConfigError(f"unknown loss.name {c['name']!r}; available: {', '.join(losses.available())}")
    if c["name"] in ("ebgan", "began"):
        raise ConfigError(f"loss.name = {c['name']!r} needs an autoencoder discriminator whose output is a "
                          "reconstruction energy; the trainer's models output logits, so use it from Python")
    if c["penalty"] not in PENALTIES:
        raise ConfigError(f"unknown loss.penalty {c['penalty']!r}; choose from {', '.join(sorted(PENALTIES))}")
    kwargs = {"real_label": c["real_label"]} if c["name"] in ("minimax", "nonsaturating") else {}
    return losses.get(c["name"], **kwargs)
