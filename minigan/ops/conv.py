r"""``unfold`` (im2col) and ``fold`` (col2im): the adjoint pair that convolution is built from.

``unfold`` copies each receptive field of an image into a column; ``fold``
adds columns back onto the pixels they came from. For the same geometry they
are adjoint linear maps,

.. math:: \langle \mathrm{unfold}(x), y \rangle = \langle x, \mathrm{fold}(y) \rangle,

so each is the other's VJP: :math:`\bar x = \mathrm{fold}(\bar y)` for
``unfold`` and :math:`\bar y = \mathrm{unfold}(\bar x)` for ``fold``. A
convolution is then ``weight @ unfold(x)``, and its transpose
``fold(weight^T @ x)``; every derivative of either, to any order, is made of
the same three pieces. The array work happens in :mod:`minigan.kernels`.

``im2col``/``col2im`` are the same pair with the columns of the whole batch
side by side, ``(C*kh*kw, N*L)`` instead of ``(N, C*kh*kw, L)``: with them a
convolution, and each of its gradients, is a single matrix product.
"""

from __future__ import annotations

from minigan import kernels
from minigan.autograd import Tensor, primitive
from minigan.kernels.reference import conv_output_size

__all__ = ["unfold", "fold", "im2col", "col2im", "pair"]


def pair(value, name: str = "argument") -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; a pair stays a pair."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _geometry(kernel_size, dilation, padding, stride):
    geometry = dict(kernel_size=pair(kernel_size, "kernel_size"), dilation=pair(dilation, "dilation"),
                    padding=pair(padding, "padding"), stride=pair(stride, "stride"))
    for name, (a, b) in geometry.items():
        low = 0 if name == "padding" else 1
        if a < low or b < low:
            raise ValueError(f"unfold/fold: {name} must be >= {low}, got {(a, b)}")
    return geometry


def _output_positions(size, geometry) -> tuple[int, int]:
    return tuple(
        conv_output_size(size[i], geometry["kernel_size"][i], geometry["dilation"][i],
                         geometry["padding"][i], geometry["stride"][i])
        for i in range(2)
    )


@primitive(name="unfold")
def _unfold(x, *, kernel_size, dilation, padding, stride):
    r"""``(N, C, H, W)`` -> ``(N, C*kh*kw, L)``; VJP: :math:`\bar x = \mathrm{fold}(\bar y)`."""
    return kernels.unfold(x, kernel_size, dilation, padding, stride)


@_unfold.vjp
def _(g, y, x, **geometry):
    return _fold(g, output_size=x.shape[2:], **geometry)


@primitive(name="fold")
def _fold(cols, *, output_size, kernel_size, dilation, padding, stride):
    r"""``(N, C*kh*kw, L)`` -> ``(N, C, H, W)``; VJP: :math:`\bar y = \mathrm{unfold}(\bar x)`."""
    return kernels.fold(cols, output_size, kernel_size, dilation, padding, stride)


@_fold.vjp
def _(g, x, cols, *, output_size, **geometry):
    return _unfold(g, **geometry)


@primitive(name="im2col")
def _im2col(x, *, kernel_size, dilation, padding, stride):
    r"""``(N, C, H, W)`` -> ``(C*kh*kw, N*L)``; VJP: :math:`\bar x = \mathrm{col2im}(\bar y)`."""
    return kernels.im2col(x, kernel_size, dilation, padding, stride)


@_im2col.vjp
def _(g, y, x, **geometry):
    return _col2im(g, output_size=x.shape[2:], **geometry)


@primitive(name="col2im")
def _col2im(cols, *, output_size, kernel_size, dilation, padding, stride):
    r"""``(C*kh*kw, N*L)`` -> ``(N, C, H, W)``; VJP: :math:`\bar y = \mathrm{im2col}(\bar x)`."""
    return kernels.col2im(cols, output_size, kernel_size, dilation, padding, stride)


@_col2im.vjp
def _(g, x, cols, *, output_size, **geometry):
    return _im2col(g, **geometry)


def _image_geometry(name, x: Tensor, kernel_size, dilation, padding, stride) -> dict:
    if x.ndim != 4:
        raise ValueError(f"{name}: expected input of shape (N, C, H, W), got {x.shape}")
    geometry = _geometry(kernel_size, dilation, padding, stride)
    oh, ow = _output_positions(x.shape[2:], geometry)
    if oh < 1 or ow < 1:
        raise ValueError(f"{name}: input {x.shape} is too small for {geometry}: the output would be {oh}x{ow}")
    return geometry


def _columns_geometry(name, x: Tensor, output_size, kernel_size, dilation, padding, stride, *, batched: bool):
    """Checked geometry for columns laid out ``(N, C*kh*kw, L)`` (batched) or ``(C*kh*kw, N*L)``."""
    geometry = _geometry(kernel_size, dilation, padding, stride)
    output_size = pair(output_size, "output_size")
    kh, kw = geometry["kernel_size"]
    oh, ow = _output_positions(output_size, geometry)
    if batched:
        expected = f"(N, C*{kh}*{kw}, {oh}*{ow})"
        fits = x.ndim == 3 and x.shape[1] % (kh * kw) == 0 and x.shape[2] == oh * ow
    else:
        expected = f"(C*{kh}*{kw}, N*{oh}*{ow})"
        fits = x.ndim == 2 and x.shape[0] % (kh * kw) == 0 and oh * ow > 0 and x.shape[1] % (oh * ow) == 0
    if not fits or oh < 1 or ow < 1:
        raise ValueError(f"{name}: expected input of shape {expected} for output_size {output_size} "
                         f"and {geometry}, got {x.shape}")
    return output_size, geometry


def unfold(x: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding blocks, as ``torch.nn.functional.unfold``: ``(N, C, H, W)`` -> ``(N, C*kh*kw, L)``."""
    return _unfold(x, **_image_geometry("unfold", x, kernel_size, dilation, padding, stride))


def fold(x: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum sliding blocks into an image, as ``torch.nn.functional.fold``: ``(N, C*kh*kw, L)`` -> ``(N, C, H, W)``."""
    output_size, geometry = _columns_geometry("fold", x, output_size, kernel_size, dilation, padding, stride,
                                              batched=True)
    return _fold(x, output_size=output_size, **geometry)


def im2col(x: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """:func:`unfold` with the batch's columns side by side: ``(N, C, H, W)`` -> ``(C*kh*kw, N*L)``."""
    return _im2col(x, **_image_geometry("im2col", x, kernel_size, dilation, padding, stride))


def col2im(x: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """:func:`fold` for :func:`im2col`'s layout: ``(C*kh*kw, N*L)`` -> ``(N, C, H, W)``."""
    output_size, geometry = _columns_geometry("col2im", x, output_size, kernel_size, dilation, padding, stride,
                                              batched=False)
    return _col2im(x, output_size=output_size, **geometry)
