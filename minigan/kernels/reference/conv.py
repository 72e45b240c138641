r"""Convolution's data movement: im2col and col2im, in two layouts.

Convolution geometry (one spatial axis; the other is the same). For an input
of size ``H``, kernel ``k``, dilation ``d``, padding ``p`` and stride ``s``,
the number of output positions is

.. math:: H_{out} = \lfloor (H + 2p - d(k - 1) - 1) / s \rfloor + 1

``unfold``/``fold`` use PyTorch's layout ``(N, C*kh*kw, L)``, one column
matrix per image. ``im2col``/``col2im`` put the columns of the whole batch
side by side, ``(C*kh*kw, N*L)``, so that a convolution is one large matrix
product ``W @ cols`` instead of ``N`` small ones.
"""

from __future__ import annotations

from minigan.kernels.arrays import array_module

Pair = tuple[int, int]

__all__ = ["conv_output_size", "unfold", "fold", "im2col", "col2im"]


def conv_output_size(size: int, kernel: int, dilation: int, padding: int, stride: int) -> int:
    """Output positions along one axis (the formula in this module's docstring)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def unfold(x, kernel_size: Pair, dilation: Pair, padding: Pair, stride: Pair):
    r"""im2col: gather every receptive field of ``x`` into a column.

    ``x`` is ``(N, C, H, W)``; the result is ``(N, C*kh*kw, L)`` with
    ``L = H_out * W_out`` and row index ``c*kh*kw + i*kw + j``, exactly as
    ``torch.nn.functional.unfold``:

    .. math:: \mathrm{cols}[n, (c,i,j), (a,b)] = x_{pad}[n, c, a s_h + i d_h, b s_w + j d_w]
    """
    xp = array_module(x)
    n, c, h, w = x.shape
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel_size, dilation, padding, stride
    oh = conv_output_size(h, kh, dh, ph, sh)
    ow = conv_output_size(w, kw, dw, pw, sw)
    padded = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = xp.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)  # (N, C, kh, kw, oh, ow)
    for i in range(kh):
        for j in range(kw):
            top, left = i * dh, j * dw
            cols[:, :, i, j] = padded[:, :, top : top + sh * (oh - 1) + 1 : sh,
                                      left : left + sw * (ow - 1) + 1 : sw]
    return cols.reshape(n, c * kh * kw, oh * ow)  # (N, C*kh*kw, L)


def fold(cols, output_size: Pair, kernel_size: Pair, dilation: Pair, padding: Pair, stride: Pair):
    r"""col2im: scatter-add columns back onto an ``(N, C, H, W)`` image.

    The adjoint of :func:`unfold` for the same geometry: every entry of
    ``cols`` (shape ``(N, C*kh*kw, L)``) is added to the pixel it was read
    from, so pixels covered by several receptive fields receive the sum,
    exactly as ``torch.nn.functional.fold``:

    .. math:: \langle \mathrm{unfold}(x), y \rangle = \langle x, \mathrm{fold}(y) \rangle
    """
    xp = array_module(cols)
    (h, w), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = output_size, kernel_size, dilation, padding, stride
    n, ckk, _ = cols.shape
    c = ckk // (kh * kw)
    oh = conv_output_size(h, kh, dh, ph, sh)
    ow = conv_output_size(w, kw, dw, pw, sw)
    cols = cols.reshape(n, c, kh, kw, oh, ow)
    padded = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            top, left = i * dh, j * dw
            padded[:, :, top : top + sh * (oh - 1) + 1 : sh,
                   left : left + sw * (ow - 1) + 1 : sw] += cols[:, :, i, j]
    return xp.ascontiguousarray(padded[:, :, ph : ph + h, pw : pw + w])  # (N, C, H, W)


def im2col(x, kernel_size: Pair, dilation: Pair, padding: Pair, stride: Pair):
    r"""The batch's :func:`unfold` columns side by side: ``(N, C, H, W)`` -> ``(C*kh*kw, N*L)``.

    .. math:: \mathrm{cols}[(c,i,j), (n,a,b)] = \mathrm{unfold}(x)[n, (c,i,j), (a,b)]
    """
    cols = unfold(x, kernel_size, dilation, padding, stride)  # (N, C*kh*kw, L)
    n, ckk, positions = cols.shape
    return cols.transpose(1, 0, 2).reshape(ckk, n * positions)  # (C*kh*kw, N*L)


def col2im(cols, output_size: Pair, kernel_size: Pair, dilation: Pair, padding: Pair, stride: Pair):
    r""":func:`fold` for columns in :func:`im2col`'s layout: ``(C*kh*kw, N*L)`` -> ``(N, C, H, W)``.

    The adjoint of :func:`im2col`:
    :math:`\langle \mathrm{im2col}(x), y \rangle = \langle x, \mathrm{col2im}(y) \rangle`.
    """
    (h, w), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = output_size, kernel_size, dilation, padding, stride
    positions = conv_output_size(h, kh, dh, ph, sh) * conv_output_size(w, kw, dw, pw, sw)
    ckk, columns = cols.shape
    per_image = cols.reshape(ckk, columns // positions, positions).transpose(1, 0, 2)  # (N, C*kh*kw, L)
    return fold(per_image, output_size, kernel_size, dilation, padding, stride)
