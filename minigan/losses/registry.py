"""Adversarial losses by name: ``get("hinge")``, ``available()``, and the ``register`` decorator."""

from __future__ import annotations

__all__ = ["AdversarialLoss", "register", "get", "available"]

_REGISTRY: dict[str, type] = {}
_ALIASES: dict[str, str] = {}


class AdversarialLoss:
    """A GAN objective as a pair of scalar losses on discriminator outputs.

    ``d_loss(real_out, fake_out)`` is minimised by the discriminator,
    ``g_loss(fake_out, real_out=None)`` by the generator (``real_out`` is
    used by relativistic losses). Both take the raw outputs of D (logits or
    critic values, any shape with the batch first) and return scalar Tensors.
    """

    name: str = ""
    #: whether ``g_loss`` needs the discriminator's outputs on real data
    needs_real_for_g: bool = False

    def d_loss(self, real_out, fake_out):
        raise NotImplementedError

    def g_loss(self, fake_out, real_out=None):
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


def register(name: str, *aliases: str):
    """Class decorator: make a loss available as ``get(name)`` (and its aliases)."""
    def decorate(cls):
        if name in _REGISTRY or name in _ALIASES:
            raise ValueError(f"a loss named {name!r} is already registered")
        cls.name = name
        _REGISTRY[name] = cls
        for alias in aliases:
            _ALIASES[alias] = name
        return cls

    return decorate


def get(name: str, **kwargs) -> AdversarialLoss:
    """A new loss object by registered name or alias, with keyword hyper-parameters."""
    key = _ALIASES.get(name, name)
    if key not in _REGISTRY:
        raise KeyError(f"unknown loss {name!r}; available: {', '.join(available())}")
    return _REGISTRY[key](**kwargs)


def available() -> list[str]:
    """Registered loss names (not aliases), sorted."""
    return sorted(_REGISTRY)
