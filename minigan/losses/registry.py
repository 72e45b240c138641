"""Adversarial losses and gradient penalties by name: ``get("hinge")``, ``available()``, ``register``.

Both are :class:`minigan.registry.Registry` tables: a loss's or a penalty's
options are its constructor's keyword parameters, which is how a recipe sets
them (``[loss] name = "lsgan"``, ``a = -1.0``).
"""

from __future__ import annotations

from minigan.registry import Registry

__all__ = ["AdversarialLoss", "LOSSES", "register", "get", "available"]

LOSSES = Registry("loss")


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
    #: the interval each numeric option must lie in, e.g. ``{"real_label": "(0, 1]"}``
    ranges: dict[str, str] = {}
    #: the one game whose discriminator gives the outputs this loss reads (CatGAN's class logits, EBGAN's and
    #: BEGAN's reconstruction energies); None: any game
    game: str | None = None

    def d_loss(self, real_out, fake_out):
        raise NotImplementedError

    def g_loss(self, fake_out, real_out=None):
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


def register(name: str, *aliases: str):
    """Class decorator: make a loss available as ``get(name)`` (and its aliases)."""
    return LOSSES.register(name, *aliases)


def get(name: str, **options) -> AdversarialLoss:
    """A new loss object by registered name or alias, with keyword hyper-parameters."""
    return LOSSES.create(name, **options)


def available() -> list[str]:
    """Registered loss names (not aliases), sorted."""
    return LOSSES.available()
