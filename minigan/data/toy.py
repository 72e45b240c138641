r"""Toy distributions with known modes, the standard testbeds for mode collapse.

Each returns a :class:`ToyDistribution` that samples points and knows its
mode centres and standard deviation, so that mode coverage can be scored
exactly (:mod:`minigan.metrics`).

- ``ring8``: 8 Gaussians on a circle of radius 2, std 0.02 (Metz et al. 2017, Unrolled GANs).
- ``grid25``: a 5x5 grid of Gaussians with spacing 2 (centres at -4..4), std 0.05 (Srivastava et al. 2017, VEEGAN).
- ``spiral``: a noisy swiss roll (no discrete modes).
- ``mixture1d``: a 1-D mixture of Gaussians.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ToyDistribution", "ring8", "grid25", "spiral", "mixture1d", "TOYS", "toy"]


@dataclass(frozen=True)
class ToyDistribution:
    """An equal-weight mixture of isotropic Gaussians (or a curve, with ``centres=None``)."""

    name: str
    centres: np.ndarray | None        # (K, D) mode centres, or None for a continuous curve
    std: float                        # per-coordinate std of each mode
    dim: int
    sampler: object = None            # custom sampler for non-mixture toys

    def sample(self, n: int, rng: np.random.Generator | int | None = None, dtype=np.float32) -> np.ndarray:
        """``n`` points of shape ``(n, dim)``."""
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        if self.sampler is not None:
            return self.sampler(n, rng).astype(dtype)
        which = rng.integers(0, len(self.centres), size=n)
        return (self.centres[which] + self.std * rng.standard_normal((n, self.dim))).astype(dtype)

    @property
    def n_modes(self) -> int:
        return 0 if self.centres is None else len(self.centres)


def ring8(radius: float = 2.0, std: float = 0.02) -> ToyDistribution:
    angles = 2 * np.pi * np.arange(8) / 8
    return ToyDistribution("ring8", radius * np.stack([np.cos(angles), np.sin(angles)], 1), std, 2)


def grid25(spacing: float = 2.0, std: float = 0.05) -> ToyDistribution:
    ticks = spacing * (np.arange(5) - 2)
    return ToyDistribution("grid25", np.array([(x, y) for x in ticks for y in ticks], float), std, 2)


def _swiss_roll(n: int, rng: np.random.Generator, noise: float = 0.05) -> np.ndarray:
    t = 1.5 * np.pi * (1 + 2 * rng.random(n))
    return np.stack([t * np.cos(t), t * np.sin(t)], 1) / 5 + noise * rng.standard_normal((n, 2))


def spiral(noise: float = 0.05) -> ToyDistribution:
    return ToyDistribution("spiral", None, noise, 2, sampler=lambda n, rng: _swiss_roll(n, rng, noise))


def mixture1d(centres=(-3.0, 0.0, 3.0), std: float = 0.2) -> ToyDistribution:
    return ToyDistribution("mixture1d", np.asarray(centres, float).reshape(-1, 1), std, 1)


TOYS = {"ring8": ring8, "grid25": grid25, "spiral": spiral, "mixture1d": mixture1d}


def toy(name: str) -> ToyDistribution:
    if name not in TOYS:
        raise KeyError(f"unknown toy distribution {name!r}; available: {', '.join(TOYS)}")
    return TOYS[name]()
