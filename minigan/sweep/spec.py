"""A sweep's specification: a base recipe, fixed overrides, a grid and random draws, the metric to rank by.

A spec is a TOML file, or the name of a shipped one (``minigan/sweep/specs/``)::

    description = "every loss on ring8, 3 seeds"
    recipe = "ring8"                        # base recipe (name or path); a grid may sweep `recipe` instead
    rank = ["mode_coverage.high_quality_fraction", "max"]   # metric path in the evaluation, max | min
    [set]                                   # overrides of every trial
    "train.steps" = 4000
    [grid]                                  # the cartesian product of these
    "loss.name" = ["nonsaturating", "lsgan"]
    "train.seed" = [0, 1, 2]
    [random]                                # `samples` draws, crossed with the grid
    samples = 8
    seed = 0
    "optim.g_lr" = {log_uniform = [1e-4, 1e-2]}   # also uniform = [a, b], int_uniform = [a, b], choice = [...]
    [eval]
    n = 2500
    metrics = ["mode_coverage", "mmd"]
    seed = 0

Instead of ``[grid]`` and ``[random]``, an ``[optuna]`` table searches: Optuna's
TPE sampler proposes each trial from the results of those before it
(:mod:`minigan.sweep.search`)::

    [optuna]
    trials = 24                             # trainings in all
    seed = 0
    "optim.g_lr" = {log_uniform = [5e-5, 2e-3]}   # the same laws as [random]

Every trial's configuration is built with :func:`minigan.train.config.apply_overrides`
when the spec is loaded, and its evaluation checked against its data, so a
bad key or value, a metric its data has not, or a rank metric that is not
evaluated is a :class:`ConfigError` naming the trial before anything runs.
A search's trials are proposed as it runs; the bounds and choices of each
of its laws are checked the same way when it is loaded.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from minigan.data import TOYS
from minigan.metrics.evaluate import CLASS_METRICS, IMAGE_METRICS, TOY_METRICS
from minigan.registry import ConfigError
from minigan.train import config as cfg

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Spec", "Trial", "Search", "load_spec", "spec_names", "describe_specs", "RECIPE"]

RECIPE = "recipe"  # the swept key that chooses the base recipe itself
DISTRIBUTIONS = ("log_uniform", "uniform", "int_uniform", "choice")
TOP_LEVEL = ("description", "recipe", "rank", "set", "grid", "random", "optuna", "eval")


@dataclass(frozen=True)
class Trial:
    """One training of a sweep: its overrides (swept keys first, then the fixed ones) and its configuration."""

    id: str
    name: str
    swept: dict          # {"loss.name": "lsgan", "train.seed": 1} (and "recipe" when the grid sweeps it)
    overrides: list      # ["section.key=value", ...]: what apply_overrides was given, fixed and swept
    recipe: str
    config: dict = field(repr=False, compare=False)


@dataclass(frozen=True)
class Search:
    """An ``[optuna]`` table: ``trials`` trainings proposed by TPE (seeded by ``seed``) from ``laws``."""

    trials: int
    seed: int
    laws: dict                     # {"optim.g_lr": ("log_uniform", [5e-5, 2e-3]), ...}


@dataclass(frozen=True)
class Spec:
    name: str
    description: str
    rank: tuple[str, str]          # (metric path, "max" | "min")
    keys: list                     # the swept keys, in order
    trials: list                   # [Trial, ...]; empty for a search, whose trials are proposed as it runs
    eval_n: int = 2500
    eval_metrics: list | None = None
    eval_seed: int = 0
    search: Search | None = None
    trial: Callable[[dict], Trial] | None = field(default=None, repr=False, compare=False)  # a point's Trial


def spec_names() -> list[str]:
    files = resources.files("minigan.sweep").joinpath("specs")
    return sorted(p.name[:-5] for p in files.iterdir() if p.name.endswith(".toml"))


def _spec_text(name: str) -> tuple[str, str, str]:
    """(text, the spec's name, how errors name it) of a shipped spec or a spec file."""
    if name in spec_names():
        return resources.files("minigan.sweep").joinpath("specs").joinpath(f"{name}.toml").read_text(), name, \
            f"sweep {name}"
    path = Path(name)
    if not name.endswith(".toml"):
        raise ConfigError(f"unknown sweep {name!r}; shipped: {', '.join(spec_names())}, "
                          "or the path of a sweep .toml file")
    if not path.is_file():
        raise ConfigError(f"sweep file {path} " + ("is a folder" if path.is_dir() else "not found"))
    try:
        return path.read_text(encoding="utf-8"), path.stem, f"sweep file {path}"
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read sweep file {path}: {err}") from None


def describe_specs() -> dict[str, str]:
    """Each shipped spec's one-line description."""
    return {n: tomllib.loads(_spec_text(n)[0]).get("description", "") for n in spec_names()}


def toml_value(value) -> str:
    """``value`` written as TOML, as ``--set`` reads it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    raise ConfigError(f"cannot write {value!r} as a setting")


def _show(value) -> str:
    """A value as it appears in a trial's name."""
    if isinstance(value, float):
        return f"{value:.3g}"
    return toml_value(value).strip('"')


def _law(key: str, law, where: str) -> tuple[str, list]:
    """``(kind, args)`` of a law such as ``{log_uniform = [1e-4, 1e-2]}``, checked; ``where`` names its table."""
    if not isinstance(law, dict) or len(law) != 1 or next(iter(law)) not in DISTRIBUTIONS:
        laws = " | ".join(f"{{{d} = [...]}}" for d in DISTRIBUTIONS)
        raise ConfigError(f"{where} {key} must be one of {laws}, got {law!r}")
    kind, args = next(iter(law.items()))
    if not isinstance(args, list) or not args:
        raise ConfigError(f"{where} {key}: {kind} needs a list, got {args!r}")
    if kind == "choice":
        return kind, args
    if len(args) != 2 or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args) \
            or args[0] > args[1]:
        raise ConfigError(f"{where} {key}: {kind} needs [low, high] with low <= high, got {args!r}")
    if kind == "log_uniform" and args[0] <= 0:
        raise ConfigError(f"{where} {key}: log_uniform needs low > 0, got {args!r}")
    return kind, args


def _bounds(kind: str, args: list) -> list:
    """The values a law can take that bound it: its choices, or its low and high ends."""
    return list(args) if kind == "choice" else [int(a) for a in args] if kind == "int_uniform" else \
        [float(a) for a in args]


def _draw(rng: np.random.Generator, kind: str, args: list):
    if kind == "choice":
        return args[int(rng.integers(len(args)))]
    low, high = args
    if kind == "int_uniform":
        return int(rng.integers(int(low), int(high) + 1))
    if kind == "uniform":
        return float(rng.uniform(low, high))
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def _table(data: dict, name: str, label: str) -> dict:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{label}: [{name}] must be a table of \"section.key\" = value")
    return table


def _points(data: dict, label: str) -> tuple[list[str], list[dict]]:
    """The swept keys and every point: the grid's product, crossed with the random draws."""
    grid = _table(data, "grid", label)
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{label}: [grid] {key} must be a non-empty list of values, got {values!r}")
    points = [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())]
    random = dict(_table(data, "random", label))
    keys = list(grid)
    if random:
        samples, seed = random.pop("samples", None), random.pop("seed", 0)
        if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
            raise ConfigError(f"{label}: [random] samples must be a positive integer, got {samples!r}")
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ConfigError(f"{label}: [random] seed must be a non-negative integer, got {seed!r}")
        if both := set(random) & set(grid):
            raise ConfigError(f"{label}: {', '.join(sorted(both))} is both in [grid] and in [random]")
        laws = {key: _law(key, law, f"{label}: [random]") for key, law in random.items()}
        rng = np.random.default_rng(seed)
        draws = [{key: _draw(rng, *law) for key, law in laws.items()} for _ in range(samples)]
        points = [{**p, **d} for p in points for d in draws]
        keys += list(random)
    return keys, points


def _search(data: dict, label: str) -> Search | None:
    """The ``[optuna]`` table, checked; None without one."""
    table = dict(_table(data, "optuna", label))
    if not table:
        return None
    if "grid" in data or "random" in data:
        raise ConfigError(f"{label}: [optuna] proposes every trial, so it takes no [grid] or [random]; "
                          "put fixed settings in [set]")
    trials, seed = table.pop("trials", None), table.pop("seed", 0)
    if not isinstance(trials, int) or isinstance(trials, bool) or trials < 1:
        raise ConfigError(f"{label}: [optuna] trials must be a positive integer, got {trials!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"{label}: [optuna] seed must be a non-negative integer, got {seed!r}")
    if not table:
        raise ConfigError(f"{label}: [optuna] names no key to search")
    if RECIPE in table:
        raise ConfigError(f"{label}: [optuna] searches settings of one recipe; name it with recipe = ...")
    return Search(trials, seed, {key: _law(key, law, f"{label}: [optuna]") for key, law in table.items()})


def _check_evaluation(config: dict, metrics: list | None, rank: str) -> None:
    """Raise :class:`ConfigError` if the trial's data has not all of ``metrics``, or ``rank`` is not among them.

    Checked by the kind of data alone (toy or image); what a family adds or an image lacks shows when the
    trial is evaluated, in its record.
    """
    data = config["data"]["name"]
    kind_metrics = TOY_METRICS if data in TOYS else IMAGE_METRICS + CLASS_METRICS
    if unknown := [m for m in metrics or () if m not in kind_metrics]:
        raise ConfigError(f"eval.metrics: {', '.join(map(repr, unknown))} cannot be computed on {data}; "
                          f"choose from {', '.join(kind_metrics)}")
    ranked = [m for m in metrics or kind_metrics if m != "drs"]  # DRS is reported beside the metrics
    if rank.split(".")[0] not in ranked:
        raise ConfigError(f"rank: {rank!r} is not a metric this sweep evaluates; rank by one of "
                          f"{', '.join(ranked)} (metric.field)")


def _rank(data: dict, label: str) -> tuple[str, str]:
    rank = data.get("rank")
    if (not isinstance(rank, list) or len(rank) != 2 or not isinstance(rank[0], str) or not rank[0]
            or rank[1] not in ("max", "min")):
        raise ConfigError(f"{label}: rank must be [\"metric.field\", \"max\" | \"min\"], got {rank!r}")
    return rank[0], rank[1]


def _eval(data: dict, label: str) -> tuple[int, list | None, int]:
    table = _table(data, "eval", label)
    if unknown := set(table) - {"n", "metrics", "seed"}:
        raise ConfigError(f"{label}: unknown key eval.{sorted(unknown)[0]}; keys of [eval]: n, metrics, seed")
    n, metrics, seed = table.get("n", 2500), table.get("metrics"), table.get("seed", 0)
    if not isinstance(n, int) or isinstance(n, bool) or n < 2:
        raise ConfigError(f"{label}: eval.n must be an integer of at least 2, got {n!r}")
    if metrics is not None and (not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics)):
        raise ConfigError(f"{label}: eval.metrics must be a list of metric names, got {metrics!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"{label}: eval.seed must be a non-negative integer, got {seed!r}")
    return n, metrics, seed


def trial_id(recipe: str, overrides: list[str], eval_settings: tuple) -> str:
    """A short hash of everything that makes a trial: its recipe, its overrides and how it is evaluated."""
    text = json.dumps([recipe, overrides, list(eval_settings)])
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def load_spec(name: str, overrides: dict | None = None) -> Spec:
    """The spec named ``name`` (shipped) or at path ``name`` (``.toml``), every trial's configuration built.

    ``overrides`` (``{"train.steps": 20, ...}``) join the spec's ``[set]`` table, after it.
    """
    text, spec_name, label = _spec_text(name)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{label}: {err}") from None
    if unknown := [k for k in data if k not in TOP_LEVEL]:
        raise ConfigError(f"{label}: unknown entry {unknown[0]!r}; a sweep has {', '.join(TOP_LEVEL)}")
    rank = _rank(data, label)
    eval_settings = _eval(data, label)
    fixed = {**_table(data, "set", label), **(overrides or {})}
    search = _search(data, label)
    keys, points = _points(data, label)
    if RECIPE in fixed:
        raise ConfigError(f"{label}: the recipe is chosen by `recipe = ...` or swept in [grid], not set in [set]")
    base = data.get(RECIPE)
    if base is not None and not isinstance(base, str):
        raise ConfigError(f"{label}: recipe must be a recipe name or path, got {base!r}")
    if base is None and RECIPE not in keys:
        raise ConfigError(f"{label}: name the base recipe (recipe = \"ring8\") or sweep it ([grid] recipe = [...])")
    recipes: dict[str, dict] = {}
    seen: dict[str, str] = {}

    def trial(point: dict) -> Trial:
        recipe = point.get(RECIPE, base)
        swept = [f"{key}={toml_value(value)}" for key, value in point.items() if key != RECIPE]
        given = [f"{key}={toml_value(value)}" for key, value in fixed.items()] + swept
        trial_name = ",".join(f"{key}={_show(value)}" for key, value in point.items()) or "base"
        try:
            if not isinstance(recipe, str):
                raise ConfigError(f"recipe must be a recipe name or path, got {recipe!r}")
            if recipe not in recipes:
                recipes[recipe] = cfg.load_recipe(recipe)
            config = cfg.apply_overrides(recipes[recipe], given)
            _check_evaluation(config, eval_settings[1], rank[0])
        except ConfigError as err:
            raise ConfigError(f"{label}: trial {trial_name}: {err}") from None
        return Trial(trial_id(recipe, given, eval_settings), trial_name, dict(point), given, recipe, config)

    if search is not None:
        # every bound and choice of every law, the others at their first: what the search can propose is valid
        first = {key: _bounds(*law)[0] for key, law in search.laws.items()}
        for key, law in search.laws.items():
            for value in _bounds(*law):
                trial({**first, key: value})
        return Spec(spec_name, data.get("description", ""), rank, list(search.laws), [], *eval_settings,
                    search=search, trial=trial)
    trials = []
    for point in points:
        t = trial(point)
        if t.id in seen:
            raise ConfigError(f"{label}: trials {seen[t.id]} and {t.name} are the same")
        seen[t.id] = t.name
        trials.append(t)
    return Spec(spec_name, data.get("description", ""), rank, keys, trials, *eval_settings, trial=trial)
