r"""Pooling layers, as ``torch.nn``: ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d``.

Thin modules over :mod:`minigan.nn.functional` (``max_pool2d``, ``avg_pool2d``,
``adaptive_avg_pool2d``), where the formulas and gradients are stated. Input
and output ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
"""

from __future__ import annotations

from minigan.nn import functional as F
from minigan.nn.module import Module

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d"]


class MaxPool2d(Module):
    r""":math:`y_{ij} = \max` of window :math:`(i, j)`; the gradient goes to the maximum (ties share it)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode
        if return_indices or ceil_mode:
            raise NotImplementedError("MaxPool2d: return_indices=True and ceil_mode=True are not implemented")

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    r""":math:`y_{ij}` = mean of window :math:`(i, j)` (zero padding counted by default); :math:`\bar x = \mathrm{fold}(\bar y / |W|)`."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override
        if ceil_mode:
            raise NotImplementedError("AvgPool2d: ceil_mode=True is not implemented")

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    r"""Average pooling to a fixed ``output_size`` (an int, a pair, ``None`` keeps that side):
    :math:`y = A_h x A_w^\top` with PyTorch's adaptive bins as averaging matrices."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
