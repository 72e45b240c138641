"""``Conv2d`` and ``ConvTranspose2d``: unfold + matmul, and its adjoint (see :mod:`minigan.nn.functional`)."""

from __future__ import annotations

from minigan.autograd.creation import empty
from minigan.nn import functional as F
from minigan.nn import init
from minigan.nn.module import Module, Parameter
from minigan.ops.conv import pair

__all__ = ["Conv2d", "ConvTranspose2d"]


class _ConvNd(Module):
    def _make_parameters(self, weight_shape, out_channels, bias, device, dtype) -> None:
        factory = dict(device=device or "cpu", dtype=dtype)
        self.weight = Parameter(empty(*weight_shape, **factory))
        self.bias = Parameter(empty(out_channels, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_init_(self.weight, self.bias)

    def extra_repr(self) -> str:
        """As torch's: settings left at their defaults are not shown."""
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        for name, default in (("padding", (0, 0)), ("dilation", (1, 1)), ("output_padding", (0, 0))):
            if getattr(self, name, default) != default:
                s += f", {name}={getattr(self, name)}"
        return s + ("" if self.bias is not None else ", bias=False")


class Conv2d(_ConvNd):
    r"""2-D convolution (cross-correlation), ``weight`` ``(out, in, kh, kw)``, as ``torch.nn.Conv2d``.

    Output size per axis: :math:`\lfloor (H + 2p - d(k-1) - 1)/s \rfloor + 1`.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
        if groups != 1 or padding_mode != "zeros":
            raise NotImplementedError("Conv2d: only groups=1 and padding_mode='zeros' are implemented")
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = pair(kernel_size, "kernel_size"), pair(stride, "stride")
        self.padding, self.dilation = pair(padding, "padding"), pair(dilation, "dilation")
        self._make_parameters((out_channels, in_channels, *self.kernel_size), out_channels, bias, device, dtype)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)


class ConvTranspose2d(_ConvNd):
    r"""Transposed ("fractionally-strided") convolution, weight ``(in, out, kh, kw)``, as ``torch.nn.ConvTranspose2d``.

    Output size per axis: :math:`(H - 1)s - 2p + d(k - 1) + p_{out} + 1`, where :math:`p_{out} < \max(s, d)`.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None,
                 dtype=None):
        if groups != 1 or padding_mode != "zeros":
            raise NotImplementedError("ConvTranspose2d: only groups=1 and padding_mode='zeros' are implemented")
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = pair(kernel_size, "kernel_size"), pair(stride, "stride")
        self.padding, self.dilation = pair(padding, "padding"), pair(dilation, "dilation")
        self.output_padding = pair(output_padding, "output_padding")
        self._make_parameters((in_channels, out_channels, *self.kernel_size), out_channels, bias, device, dtype)

    def forward(self, x):
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                  1, self.dilation)
