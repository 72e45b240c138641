r"""Padding layers, as ``torch.nn``: ``ZeroPad2d``, ``ConstantPad2d``, ``ReflectionPad2d``, ``ReplicationPad2d``.

Each pads the last two axes of ``(N, C, H, W)`` (or ``(C, H, W)``) by
``padding`` = (left, right, top, bottom), or the same int on all four sides,
through :func:`minigan.nn.functional.pad`; see there for the formulas and gradients.
"""

from __future__ import annotations

from minigan.nn import functional as F
from minigan.nn.module import Module

__all__ = ["ConstantPad2d", "ReflectionPad2d", "ReplicationPad2d", "ZeroPad2d"]


def _four(padding, name: str) -> tuple[int, int, int, int]:
    """``2`` -> ``(2, 2, 2, 2)``; a 4-tuple (left, right, top, bottom) stays one."""
    if isinstance(padding, (tuple, list)):
        if len(padding) != 4:
            raise ValueError(f"{name}: padding must be an int or 4 ints (left, right, top, bottom), got {padding!r}")
        return tuple(int(p) for p in padding)
    return (int(padding),) * 4


class _Pad2d(Module):
    mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _four(padding, type(self).__name__)

    def _check(self, x) -> None:
        if x.ndim not in (3, 4):
            raise ValueError(f"{type(self).__name__}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                             f"got a {x.ndim}-D input of shape {tuple(x.shape)}")

    def forward(self, x):
        self._check(x)
        return F.pad(x, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ConstantPad2d(_Pad2d):
    r"""Surround the image with ``value``: :math:`y = x` inside, ``value`` on the border; :math:`\bar x` is :math:`\bar y` cropped."""

    def __init__(self, padding, value: float):
        super().__init__(padding)
        self.value = value

    def forward(self, x):
        self._check(x)
        return F.pad(x, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ZeroPad2d(ConstantPad2d):
    """Surround the image with zeros, as ``torch.nn.ZeroPad2d``."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad2d(_Pad2d):
    r"""Mirror the image at its edges without repeating them (each pad smaller than its side),
    as ``torch.nn.ReflectionPad2d``: row :math:`-k` is row :math:`k`; border gradients add onto the rows they copy."""

    mode = "reflect"


class ReplicationPad2d(_Pad2d):
    r"""Repeat the edge pixels outwards, as ``torch.nn.ReplicationPad2d``; each edge pixel's gradient
    is the sum over its copies."""

    mode = "replicate"
