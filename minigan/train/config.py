"""Training configuration: defaults, TOML recipes shipped in the package, and ``--set key=value`` overrides.

A configuration is a two-level mapping ``section -> key -> value``. Every
recipe is a complete configuration: it starts from :data:`DEFAULTS` and
overrides what it needs. A key that is not in :data:`DEFAULTS` is an error,
so a typo never silently does nothing.
"""

from __future__ import annotations

import copy
import sys
from importlib import resources

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["DEFAULTS", "ConfigError", "recipe_names", "load_recipe", "apply_overrides", "parse_override",
           "describe_recipes"]


class ConfigError(ValueError):
    """A recipe name, key or value that minigan cannot use."""


DEFAULTS: dict[str, dict] = {
    "data": {
        "name": "digits",         # digits | ring8 | grid25 | spiral | mixture1d | mnist | fashion_mnist | image_folder
        "root": "",               # folder for mnist / fashion_mnist / image_folder
        "image_size": 0,          # image_folder only: side of the square images
        "channels": 1,            # image_folder only: 1 or 3
        "batch_size": 64,
    },
    "model": {
        "family": "dcgan",        # dcgan | mlp
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
        "dcgan_init": True,       # N(0, 0.02) weights (Radford et al. 2015)
    },
    "loss": {
        "name": "nonsaturating",  # any name in minigan.losses.available()
        "real_label": 1.0,        # one-sided label smoothing (minimax / nonsaturating)
        "penalty": "none",        # none | gp | r1 | r2 | dragan
        "penalty_weight": 10.0,   # lambda (gp, dragan) or gamma (r1, r2)
        "penalty_every": 1,       # lazy regularisation: apply every k D steps (weight scaled by k)
        "clip": 0.0,              # weight clipping bound c for WGAN critics; 0 disables
    },
    "optim": {
        "name": "adam",           # adam | rmsprop | sgd
        "g_lr": 2e-4,
        "d_lr": 2e-4,             # TTUR: a different learning rate for D
        "beta1": 0.5,
        "beta2": 0.999,
        "momentum": 0.0,          # sgd / rmsprop
        "d_steps": 1,             # discriminator steps per generator step
        "ema": 0.0,               # decay of the EMA of G's weights; 0 disables
    },
    "train": {
        "steps": 2000,            # generator steps
        "seed": 0,
        "log_every": 25,
        "sample_every": 200,
        "checkpoint_every": 500,
        "n_samples": 64,          # fixed latents for the sample grids
        "device": "cpu",
        "eval_every": 0,          # score the generator every k steps and at the end (evaluations.jsonl); 0 disables
        "eval_metrics": [],       # names from TOY_METRICS / IMAGE_METRICS; [] = mode_coverage, mmd (toys) or fd, kid
        "eval_samples": 1000,     # generated samples per evaluation
    },
}


def recipe_names() -> list[str]:
    files = resources.files("minigan.train").joinpath("recipes")
    return sorted(p.name[:-5] for p in files.iterdir() if p.name.endswith(".toml"))


def _recipe_text(name: str) -> str:
    if name not in recipe_names():
        raise ConfigError(f"unknown recipe {name!r}; available: {', '.join(recipe_names())}")
    return resources.files("minigan.train").joinpath("recipes").joinpath(f"{name}.toml").read_text()


def _merge(base: dict, update: dict, source: str) -> dict:
    config = copy.deepcopy(base)
    for section, values in update.items():
        if section == "description":
            continue
        if section not in config or not isinstance(values, dict):
            raise ConfigError(f"{source}: unknown section [{section}]; sections: {', '.join(config)}")
        for key, value in values.items():
            _check(section, key, value, source)
            config[section][key] = value
    return config


def _check(section: str, key: str, value, source: str) -> None:
    if key not in DEFAULTS[section]:
        raise ConfigError(f"{source}: unknown key {section}.{key}; keys of [{section}]: {', '.join(DEFAULTS[section])}")
    default = DEFAULTS[section][key]
    ok = (isinstance(value, bool) if isinstance(default, bool)
          else isinstance(value, (int, float)) and not isinstance(value, bool) if isinstance(default, float)
          else isinstance(value, int) and not isinstance(value, bool) if isinstance(default, int)
          else isinstance(value, type(default)))
    if not ok:
        raise ConfigError(f"{source}: {section}.{key} must be {type(default).__name__} like {default!r}, got {value!r}")


def load_recipe(name: str) -> dict:
    """The complete configuration of a shipped recipe."""
    try:
        data = tomllib.loads(_recipe_text(name))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"recipe {name}: {err}") from None
    config = _merge(DEFAULTS, data, f"recipe {name}")
    config["recipe"] = name
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
    if isinstance(DEFAULTS[section].get(key), float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    _check(section, key, value, f"--set {text}")
    return section, key, value


def apply_overrides(config: dict, overrides: list[str]) -> dict:
    config = copy.deepcopy(config)
    for text in overrides:
        section, key, value = parse_override(text)
        config[section][key] = value
    return config
