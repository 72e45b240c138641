"""Which array library owns an array: NumPy or CuPy, decided without importing CuPy."""

from __future__ import annotations

import numpy as np

__all__ = ["array_module", "is_cupy"]


def is_cupy(x) -> bool:
    """Whether ``x`` is a CuPy array."""
    return type(x).__module__.startswith("cupy")


def array_module(x):
    """``numpy`` or ``cupy``, whichever owns ``x``."""
    if is_cupy(x):
        import cupy

        return cupy
    return np
