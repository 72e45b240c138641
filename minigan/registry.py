"""Named, configurable components: losses, penalties and GAN families are each looked up in a :class:`Registry`.

A component is a class whose constructor's parameters with defaults are its
**options**: ``LSGANLoss(a=0.0, b=1.0, c=1.0)`` has the options ``a``, ``b``
and ``c``. The configuration of a run reads and checks them from there, so
a component declares its keys once, in its signature. A class attribute
``ranges`` (``{"real_label": "(0, 1]"}``) states the interval each numeric
option must lie in; :func:`check_range` reads that notation.
"""

from __future__ import annotations

import inspect
import math

__all__ = ["ConfigError", "Registry", "check_range"]


class ConfigError(ValueError):
    """A recipe name, key or value that minigan cannot use."""


class Registry:
    """Classes by name (and alias): ``register`` them, ``get`` one, ``create`` an instance, list ``available``."""

    def __init__(self, kind: str):
        self.kind = kind
        self._classes: dict[str, type] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, *aliases: str):
        """Class decorator: make the class available under ``name`` and its ``aliases``; sets ``cls.name``."""
        def decorate(cls):
            for key in (name, *aliases):
                if key in self._classes or key in self._aliases:
                    raise ValueError(f"a {self.kind} named {key!r} is already registered")
            cls.name = name
            self._classes[name] = cls
            self._aliases.update(dict.fromkeys(aliases, name))
            return cls

        return decorate

    def canonical(self, name: str) -> str:
        """The registered name for ``name`` or an alias of it; KeyError naming the choices otherwise."""
        key = self._aliases.get(name, name)
        if key not in self._classes:
            raise KeyError(f"unknown {self.kind} {name!r}; available: {', '.join(self.available())}")
        return key

    def get(self, name: str) -> type:
        return self._classes[self.canonical(name)]

    def create(self, name: str, *args, **options):
        """A new instance of the class registered as ``name``."""
        return self.get(name)(*args, **options)

    def available(self) -> list[str]:
        """Registered names (not aliases), sorted."""
        return sorted(self._classes)

    def options(self, name: str) -> dict:
        """The class's options and their defaults: its constructor's parameters that have a default."""
        signature = inspect.signature(self.get(name).__init__)
        return {p.name: p.default for p in signature.parameters.values()
                if p.default is not inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD}

    def __contains__(self, name: str) -> bool:
        return self._aliases.get(name, name) in self._classes


def check_range(value, interval: str) -> bool:
    """Whether number ``value`` lies in ``interval``, written ``"[0, 1)"``, ``"(0, inf)"``, ``"[1, inf)"``."""
    low_bracket, rest = interval[0], interval[1:-1]
    high_bracket = interval[-1]
    low, high = (float(s) for s in rest.split(","))
    if isinstance(value, float) and not math.isfinite(value):  # math.isfinite(int) may overflow; ints are finite
        return False
    above = value >= low if low_bracket == "[" else value > low
    below = value <= high if high_bracket == "]" else value < high
    return above and below
