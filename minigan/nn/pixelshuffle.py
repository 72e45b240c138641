r"""``PixelShuffle`` and ``PixelUnshuffle`` (Shi et al. 2016), as ``torch.nn``: sub-pixel rearrangements.

``PixelShuffle(r)`` maps ``(N, C r^2, H, W)`` to ``(N, C, H r, W r)``;
``PixelUnshuffle(r)`` is its inverse. Both are a reshape and a permute (see
:func:`minigan.nn.functional.pixel_shuffle`), so each one's VJP is the other.

References
----------
Shi et al., "Real-Time Single Image and Video Super-Resolution Using an
Efficient Sub-Pixel Convolutional Neural Network", CVPR 2016.
"""

from __future__ import annotations

from minigan.nn import functional as F
from minigan.nn.module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    r""":math:`y_{n,\,c,\,h r + i,\,w r + j} = x_{n,\,c r^2 + i r + j,\,h,\,w}`."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, x):
        return F.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    r""":math:`y_{n,\,c r^2 + i r + j,\,h,\,w} = x_{n,\,c,\,h r + i,\,w r + j}`."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, x):
        return F.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
