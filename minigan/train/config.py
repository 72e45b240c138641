"""Training configuration: defaults, TOML recipes (shipped, or a file of the user's) and ``--set key=value`` overrides.

A configuration is a two-level mapping ``section -> key -> value``. The
sections ``data``, ``model``, ``optim`` and ``train`` have fixed keys
(:data:`DEFAULTS`, with the interval each number must lie in,
:data:`RANGES`). The sections ``game``, ``loss`` and ``penalty`` belong to
the component their ``name`` chooses: their keys are that family's, loss's
or penalty's options (its constructor's keyword parameters, see
:mod:`minigan.registry`), so ``[loss] name = "lsgan"`` brings the keys ``a``,
``b`` and ``c``. Choosing another name replaces the table with the new
component's defaults, keeping the values of keys the two share.

Every recipe is a complete configuration: it starts from the defaults and
overrides what it needs. A key that does not exist, a value of the wrong
type or out of range is a :class:`ConfigError` naming the key, so a typo
never silently does nothing.
"""

from __future__ import annotations

import copy
import sys
from importlib import resources
from pathlib import Path

from minigan import data as datasets
from minigan.games import GAMES
from minigan.games.base import check_loss_fits
from minigan.games.networks import ARCHITECTURES
from minigan.losses import LOSSES, PENALTIES
from minigan.registry import ConfigError, Registry, check_range

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["DEFAULTS", "RANGES", "ConfigError", "defaults", "recipe_names", "load_recipe", "apply_overrides",
           "parse_override", "describe_recipes", "complete"]

DEFAULTS: dict[str, dict] = {
    "data": {
        "name": "digits",         # digits | photos | ring8 | grid25 | spiral | mixture1d | mnist | fashion_mnist |
                                  # image_folder
        "root": "",               # folder for mnist / fashion_mnist / image_folder
        "image_size": 0,          # image_folder: side of the square images; photos: side of the crops (0: 32)
        "channels": 1,            # image_folder only: 1 or 3 (photos are always 3)
        "task": "",               # photos only: "" (the crops), or an image-to-image task: colour | superres |
                                  # domains (see minigan.data.photos)
        "batch_size": 64,
    },
    "game": {
        "name": "gan",            # a family of minigan.games.GAMES; its options join this table
    },
    "model": {
        "name": "dcgan",          # dcgan | mlp
        "latent_dim": 32,
        "g_width": 64,            # dcgan: channels of G's last hidden layer
        "d_width": 64,            # dcgan: channels of D's first layer
        "g_hidden": [256, 256],   # mlp: hidden widths of G
        "d_hidden": [256, 256],   # mlp: hidden widths of D
        "g_batch_norm": True,
        "d_batch_norm": True,
        "spectral_norm": False,   # spectral normalisation in D (SNGAN)
        "minibatch_std": False,   # minibatch std-dev feature in D (ProGAN)
        "self_attention": False,  # SAGAN block in G and D (dcgan)
        "pack": 1,                # PacGAN: D judges `pack` samples at once
        "dcgan_init": True,       # N(0, 0.02) weights (Radford et al. 2016)
    },
    "loss": {
        "name": "nonsaturating",  # a loss of minigan.losses.available(); its options join this table
    },
    "penalty": {
        "name": "none",           # none | a penalty of minigan.losses.PENALTIES; its options (weight, ...) join
        "every": 1,               # lazy regularisation: apply every k critic steps, scaled by k
    },
    "optim": {
        "name": "adam",           # adam | rmsprop | sgd
        "g_lr": 2e-4,             # learning rate of the generator-side player
        "d_lr": 2e-4,             # of the critic-side player (TTUR: a different one)
        "beta1": 0.5,
        "beta2": 0.999,
        "momentum": 0.0,          # sgd / rmsprop
        "d_steps": 1,             # critic updates per generator update
        "ema": 0.0,               # decay of the EMA of the generators' weights; 0 disables
        "weight_clip": 0.0,       # clip the critic's weights to [-c, c] after each update (WGAN); 0 disables
    },
    "train": {
        "steps": 2000,            # generator steps
        "seed": 0,
        "log_every": 25,
        "sample_every": 200,
        "checkpoint_every": 500,
        "n_samples": 64,          # samples in the pictures, drawn from fixed latents
        "device": "cpu",
        "eval_every": 0,          # score the generator every k steps and at the end (evaluations.jsonl); 0 disables
        "eval_metrics": [],       # names from TOY_METRICS / IMAGE_METRICS; [] = mode_coverage, mmd (toys) or fd, kid
        "eval_samples": 1000,     # generated samples per evaluation
        "explosion_threshold": 1e8,  # a loss or gradient norm beyond this in magnitude stops training as diverged
    },
}

RANGES = {
    "data.image_size": "[0, inf)", "data.batch_size": "[1, inf)",
    "model.latent_dim": "[1, inf)", "model.g_width": "[1, inf)", "model.d_width": "[1, inf)", "model.pack": "[1, inf)",
    "penalty.every": "[1, inf)",
    "optim.g_lr": "(0, inf)", "optim.d_lr": "(0, inf)", "optim.beta1": "[0, 1)", "optim.beta2": "[0, 1)",
    "optim.momentum": "[0, 1)", "optim.d_steps": "[1, inf)", "optim.ema": "[0, 1)", "optim.weight_clip": "[0, inf)",
    "train.steps": "[1, inf)", "train.seed": "[0, inf)", "train.log_every": "[1, inf)",
    "train.sample_every": "[1, inf)", "train.checkpoint_every": "[1, inf)", "train.n_samples": "[1, inf)",
    "train.eval_every": "[0, inf)", "train.eval_samples": "[2, inf)",
    "train.explosion_threshold": "(0, inf)",
}

CHOICES = {
    "data.name": ("digits", "mnist", "fashion_mnist", "image_folder", "photos", *datasets.TOYS),
    "data.channels": (1, 3),
    "data.task": ("", *datasets.IMAGE_TASKS),
    "model.name": ARCHITECTURES,
    "optim.name": ("adam", "rmsprop", "sgd"),
    "train.device": ("cpu", "cuda"),
}

# the sections whose keys are the options of the component they name
OWNERS: dict[str, Registry] = {"game": GAMES, "loss": LOSSES, "penalty": PENALTIES}
NO_PENALTY = "none"


def defaults() -> dict:
    """The default configuration, complete: every section with the options of the components it names."""
    config = copy.deepcopy(DEFAULTS)
    for section in OWNERS:
        config[section] = _owned_table(section, config[section]["name"], config[section])
    return config


def _owned_table(section: str, name: str, previous: dict) -> dict:
    """Section ``section`` for component ``name``: its fixed keys, its options; values of shared keys kept."""
    table = dict(DEFAULTS[section])
    if not (section == "penalty" and name == NO_PENALTY):
        table.update(OWNERS[section].options(name))
    table.update({key: value for key, value in previous.items() if key in table})
    table["name"] = name
    return table


def _owner(section: str, name) -> str:
    if not isinstance(name, str):
        raise ConfigError(f"{section}.name must be a string, got {name!r}")
    if section == "penalty" and name == NO_PENALTY:
        return name
    try:
        return OWNERS[section].canonical(name)
    except KeyError as err:
        raise ConfigError(f"{section}.name: {err.args[0]}" + (f", {NO_PENALTY}" if section == "penalty" else "")) \
            from None


def _ranges(section: str, config: dict) -> dict[str, str]:
    """The intervals of the section's numeric keys: the fixed ones, and those its component declares."""
    fixed = {k.split(".")[1]: v for k, v in RANGES.items() if k.startswith(section + ".")}
    if section not in OWNERS or config[section]["name"] == NO_PENALTY:
        return fixed
    return {**fixed, **getattr(OWNERS[section].get(config[section]["name"]), "ranges", {})}


def _set(config: dict, section: str, key: str, value, source: str) -> None:
    """Check ``section.key = value`` against the configuration so far and store it."""
    if section not in config or section == "recipe":
        raise ConfigError(f"{source}: unknown section [{section}]; sections: {', '.join(DEFAULTS)}")
    table = config[section]
    if section in OWNERS and key == "name":
        config[section] = _owned_table(section, _owner(section, value), table)
        return
    if key not in table:
        whose = f" of {section} {table['name']!r}" if section in OWNERS else f" of [{section}]"
        raise ConfigError(f"{source}: unknown key {section}.{key}; keys{whose}: {', '.join(table)}")
    value = _typed(section, key, value, _default(config, section, key), source)
    interval = _ranges(section, config).get(key)
    if interval is not None and not check_range(value, interval):
        raise ConfigError(f"{source}: {section}.{key} must be in {interval}, got {value!r}")
    choices = CHOICES.get(f"{section}.{key}")
    if choices is not None and value not in choices:
        raise ConfigError(f"{source}: {section}.{key} must be one of {', '.join(map(str, choices))}, got {value!r}")
    if isinstance(value, list) and key.endswith("_hidden") and not all(isinstance(w, int) and w >= 1 for w in value):
        raise ConfigError(f"{source}: {section}.{key} must be a list of positive integers, got {value!r}")
    table[key] = value


def _default(config: dict, section: str, key: str):
    """The default of a key: a fixed key's, or an option's in its component's signature."""
    if key in DEFAULTS[section]:
        return DEFAULTS[section][key]
    return OWNERS[section].options(config[section]["name"])[key]


def _typed(section: str, key: str, value, default, source: str):
    """``value`` if it has the type of ``default`` (an int is taken for a float, as a float); else ConfigError."""
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    ok = (isinstance(value, bool) if isinstance(default, bool)
          else isinstance(value, float) if isinstance(default, float)
          else isinstance(value, int) and not isinstance(value, bool) if isinstance(default, int)
          else isinstance(value, type(default)))
    if not ok:
        raise ConfigError(f"{source}: {section}.{key} must be {type(default).__name__} like {default!r}, got {value!r}")
    return value


def _apply(config: dict, entries: list[tuple[str, str, object, str]]) -> dict:
    """Apply ``(section, key, value, source)`` entries, names first: a name brings the keys its component owns."""
    config = copy.deepcopy(config)
    for section, key, value, source in sorted(entries, key=lambda e: e[1] != "name"):  # stable: else in order
        _set(config, section, key, value, source)
    _check_together(config)
    return config


def _check_together(config: dict) -> None:
    """The constraints between keys, each valid on its own."""
    if config["data"]["task"] and config["data"]["name"] != "photos":
        raise ConfigError(f"data.task = {config['data']['task']!r} is a task on the photos; set data.name = 'photos'")
    check_loss_fits(config["game"]["name"], config["loss"]["name"], LOSSES.get(config["loss"]["name"]).game)
    batch, pack = config["data"]["batch_size"], config["model"]["pack"]
    if batch % pack:
        raise ConfigError(f"data.batch_size = {batch} must be a multiple of model.pack = {pack} "
                          "(PacGAN's D judges pack samples at once)")


def recipe_names() -> list[str]:
    files = resources.files("minigan.train").joinpath("recipes")
    return sorted(p.name[:-5] for p in files.iterdir() if p.name.endswith(".toml"))


def _recipe_text(name: str) -> str:
    if name not in recipe_names():
        raise ConfigError(f"unknown recipe {name!r}; available: {', '.join(recipe_names())}, "
                          "or the path of a recipe .toml file")
    return resources.files("minigan.train").joinpath("recipes").joinpath(f"{name}.toml").read_text()


def _recipe_file(path: Path) -> str:
    if not path.is_file():
        raise ConfigError(f"recipe file {path} " + ("is a folder" if path.is_dir() else "not found"))
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read recipe file {path}: {err}") from None


def load_recipe(name: str) -> dict:
    """The complete configuration of a shipped recipe, or of a recipe file (a path ending in ``.toml``).

    A recipe file is written like the shipped ones (``minigan/train/recipes/``):
    sections of keys that override the defaults, and an optional
    ``description``. Its run is named after the file: ``my.toml`` is ``my``.
    """
    is_file = name.endswith(".toml") and name not in recipe_names()
    text = _recipe_file(Path(name)) if is_file else _recipe_text(name)
    label = f"recipe file {name}" if is_file else f"recipe {name}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{label}: {err}") from None
    entries = []
    for section, values in data.items():
        if section == "description":
            continue
        if section not in DEFAULTS or not isinstance(values, dict):
            raise ConfigError(f"{label}: unknown section [{section}]; sections: {', '.join(DEFAULTS)}")
        entries += [(section, key, value, label) for key, value in values.items()]
    config = _apply(defaults(), entries)
    config["recipe"] = Path(name).stem if is_file else name
    return config


def describe_recipes() -> dict[str, str]:
    """Each recipe's one-line description."""
    return {n: tomllib.loads(_recipe_text(n)).get("description", "") for n in recipe_names()}


def parse_override(text: str) -> tuple[str, str, object]:
    """``"optim.g_lr=1e-4"`` -> ``("optim", "g_lr", 0.0001)``; the value is read as TOML (strings may be bare)."""
    if "=" not in text or "." not in text.split("=", 1)[0]:
        raise ConfigError(f"--set expects section.key=value, got {text!r}")
    dotted, raw = text.split("=", 1)
    section, key = dotted.strip().split(".", 1)
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()  # a bare word: a string
    if section not in DEFAULTS:
        raise ConfigError(f"--set {text}: unknown section {section!r}; sections: {', '.join(DEFAULTS)}")
    return section, key, value


def apply_overrides(config: dict, overrides: list[str]) -> dict:
    """``config`` with ``--set section.key=value`` overrides applied (names first), each checked."""
    return _apply(config, [(*parse_override(text), f"--set {text}") for text in overrides])


def complete(config: dict) -> dict:
    """A saved configuration with the keys added to minigan since it was written, at their defaults."""
    config = copy.deepcopy(config)
    for section, table in defaults().items():
        saved = config.setdefault(section, {})
        if section in OWNERS and saved.get("name", table["name"]) != table["name"]:
            table = _owned_table(section, saved["name"], {})
        for key, value in table.items():
            saved.setdefault(key, copy.deepcopy(value))
    return config
