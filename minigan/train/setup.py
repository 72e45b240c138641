"""Building a run from its configuration: the data, the game (its networks and loss), the penalty, the optimisers."""

from __future__ import annotations

import numpy as np

from minigan import data as datasets
from minigan import nn, optim
from minigan.data import DataSource
from minigan.games import GAMES, Game
from minigan.losses import LOSSES, PENALTIES, Penalty
from minigan.registry import ConfigError
from minigan.train.config import NO_PENALTY

__all__ = ["build_data", "build_game", "build_penalty", "build_optimizer"]


def build_data(config: dict) -> DataSource:
    """The training data the configuration names, with its labels when it has them."""
    c, seed = config["data"], config["train"]["seed"]
    name = c["name"]
    if name in datasets.TOYS:
        toy = datasets.toy(name)
        points = toy.sample(50_000, np.random.default_rng(seed))  # a fixed training set, like an image dataset
        return DataSource(_loader(points, None, config), (toy.dim,), "toy", name, toy)
    unseen = None
    if name == "digits":
        images, unseen = datasets.digits("train"), datasets.digits("test").images
    elif name == "photos" and c["task"]:
        return _image_task(config)
    elif name == "photos":  # always RGB: data.channels is image_folder's
        try:
            images = datasets.photos("train", size=c["image_size"] or 32)
            unseen = datasets.photos("test", size=c["image_size"] or 32).images
        except ValueError as error:  # a crop size that does not fit
            raise ConfigError(f"data.image_size = {c['image_size']}: {error}") from None
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
                          f"photos, {', '.join(datasets.TOYS)}")
    return DataSource(_loader(images.images, images.labels, config), images.shape, "image", name, unseen=unseen)


def _image_task(config: dict) -> DataSource:
    """The photos' image-to-image task ``data.task``: training pairs (or domains) and the held-out test ones."""
    c = config["data"]
    try:
        a, b, paired = datasets.task_data(c["task"], "train", c["image_size"] or 32)
        held_out = datasets.task_data(c["task"], "test", c["image_size"] or 32)[:2]
    except ValueError as error:  # a crop size that does not fit, or an odd one for super-resolution
        raise ConfigError(f"data.image_size = {c['image_size']}: {error}") from None
    loader = _loader(a, None, config, pairs=b, paired=paired)
    return DataSource(loader, a.shape[1:], "image", "photos", task=c["task"], shape_b=b.shape[1:], held_out=held_out)


def _loader(samples: np.ndarray, labels, config: dict, pairs=None, paired=True) -> datasets.DataLoader:
    batch = config["data"]["batch_size"]
    smallest = min(len(samples), len(samples) if pairs is None else len(pairs))
    if batch > smallest:  # every batch is full (drop_last), so one must fit
        raise ConfigError(f"data.batch_size = {batch} is more than the {smallest} training samples of "
                          f"{config['data']['name']}")
    return datasets.DataLoader(samples, labels, batch_size=batch, seed=config["train"]["seed"], pairs=pairs,
                               paired=paired)


def _options(config: dict, section: str) -> dict:
    return {key: value for key, value in config[section].items() if key != "name"}


def build_game(config: dict, data: DataSource) -> Game:
    """The family of ``[game]`` with its networks (initial weights from the default generator) and ``[loss]``."""
    loss = LOSSES.create(config["loss"]["name"], **_options(config, "loss"))
    game = GAMES.create(config["game"]["name"], data, config["model"], loss, **_options(config, "game"))
    _check_batch_norm(game, config["data"]["batch_size"], config["model"]["pack"])
    return game


def _check_batch_norm(game: Game, batch: int, pack: int) -> None:
    """Batch normalisation estimates each channel's statistics across the batch: from one sample (or one PacGAN
    pack, for D) they are no batch statistics at all, and a 1x1 feature map has nothing to estimate them from, so
    refuse that here, before anything is written, rather than fail in the first step."""
    if batch // pack >= 2:
        return
    for name in game.networks:
        norms = [type(m).__name__ for m in game.network(name).modules() if isinstance(m, (nn.BatchNorm1d,
                                                                                           nn.BatchNorm2d))]
        if norms:
            raise ConfigError(f"data.batch_size = {batch} with model.pack = {pack} gives batches of one, and {name} "
                              f"has batch normalisation ({norms[0]}), which needs at least 2 samples; raise "
                              "data.batch_size or turn batch normalisation off")


def build_penalty(config: dict) -> Penalty | None:
    """The ``[penalty]`` on critic players, or None; ``every`` is the trainer's, not the penalty's."""
    options = {key: value for key, value in _options(config, "penalty").items() if key != "every"}
    name = config["penalty"]["name"]
    return None if name == NO_PENALTY else PENALTIES.create(name, **options)


def build_optimizer(config: dict, modules: list[nn.Module], lr: float) -> optim.Optimizer:
    """The ``[optim]`` optimiser over the parameters of ``modules`` (each parameter once, even if shared)."""
    o = config["optim"]
    params = list({id(p): p for module in modules for p in module.parameters()}.values())
    if o["name"] == "adam":
        return optim.Adam(params, lr=lr, betas=(o["beta1"], o["beta2"]))
    if o["name"] == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=o["momentum"])
    if o["name"] == "sgd":
        return optim.SGD(params, lr=lr, momentum=o["momentum"])
    raise ConfigError(f"unknown optim.name {o['name']!r}; choose from adam, rmsprop, sgd")
