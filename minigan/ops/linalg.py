r"""Matrix product with batched, broadcast leading dimensions (``numpy.matmul`` semantics), and the affine map.

For :math:`C = AB` with :math:`A \in \mathbb R^{I\times K}`, :math:`B \in \mathbb R^{K\times J}`:

.. math:: \bar A = \bar C B^\top, \qquad \bar B = A^\top \bar C

Leading (batch) dimensions broadcast like any binary op, so each gradient is
summed back to its input's shape. One-dimensional operands are promoted to
matrices and the added axis is removed again, as in NumPy and PyTorch.
"""

from __future__ import annotations

from minigan.autograd import Tensor, primitive
from minigan.ops.reduce import sum as sum_
from minigan.ops.shape import reshape, transpose, unbroadcast

__all__ = ["matmul", "mm", "bmm", "affine"]


@primitive(name="matmul")
def _matmul(a, b):
    r""":math:`C = AB` over the last two axes; :math:`\bar A = \bar C B^\top,\ \bar B = A^\top \bar C`.

    A wide product of a row-major matrix by a transposed one (a convolution's weight gradient
    :math:`\bar y X^\top`) runs as :math:`(X \bar y^\top)^\top`: the same numbers, which OpenBLAS
    computes up to a fifth faster with the longer side as rows (``docs/performance.md``). An inner
    dimension of one is an outer product, :math:`C_{ij} = A_{i1} B_{1j}`, which a broadcast multiply
    writes many times faster than a BLAS call.
    """
    try:
        if a.ndim == b.ndim == 2 and a.shape[1] == 1:
            return a * b
        if (a.ndim == b.ndim == 2 and a.shape[0] < b.shape[1] and a.flags.c_contiguous and b.flags.f_contiguous
                and not b.flags.c_contiguous):
            return (b.T @ a.T).T
        return a @ b
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of {a.shape} and {b.shape} do not broadcast") from None


@_matmul.vjp
def _(g, c, a, b):
    ga = gb = None  # for a transposed operand, the same products as (B Ḡᵀ)ᵀ and (Ḡᵀ A)ᵀ: see _transposed
    if a.requires_grad:
        ga = unbroadcast(transpose(b @ transpose(g)) if _transposed(a) else g @ transpose(b), a.shape)
    if b.requires_grad:
        gb = unbroadcast(transpose(transpose(g) @ a) if _transposed(b) else transpose(a) @ g, b.shape)
    return ga, gb


def _transposed(x: Tensor) -> bool:
    """A matrix stored column-major, such as Linear's ``weight.T``.

    Its gradient is then computed as the transpose of the transposed product,
    so that it lands in the layout of the parameter behind the view and needs
    no copy on its way there.
    """
    return x.ndim == 2 and x.array.flags.f_contiguous and not x.array.flags.c_contiguous


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` as ``torch.matmul``: vectors, matrices and broadcast batches of matrices."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least one dimension, got shapes {a.shape} and {b.shape}")
    vec_a, vec_b = a.ndim == 1, b.ndim == 1
    inner = b.shape[0] if vec_b else b.shape[-2]
    if a.shape[-1] != inner:  # checked here, so the message shows the shapes the user passed
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned ({a.shape[-1]} != {inner})")
    c = _matmul(reshape(a, 1, -1) if vec_a else a, reshape(b, -1, 1) if vec_b else b)
    if vec_a or vec_b:
        c = reshape(c, c.shape[:-2] + (() if vec_a else c.shape[-2:-1]) + (() if vec_b else c.shape[-1:]))
    return c


def _strict(name: str, ndim: int):
    def product(a: Tensor, b: Tensor) -> Tensor:
        if a.ndim != ndim or b.ndim != ndim:
            raise ValueError(f"{name}: both operands must be {ndim}-D, got shapes {a.shape} and {b.shape}")
        if ndim == 3 and a.shape[0] != b.shape[0]:
            raise ValueError(f"{name}: batch sizes differ, {a.shape[0]} and {b.shape[0]}")
        return matmul(a, b)

    product.__name__ = product.__qualname__ = name
    product.__doc__ = f"``torch.{name}``: :func:`matmul` of two {ndim}-D tensors, without broadcasting."
    return product


mm, bmm = _strict("mm", 2), _strict("bmm", 3)


@primitive
def affine(x, w, b):
    r""":math:`y = x W^\top + b`, ``torch.addmm``'s fused form of a linear layer (one node, one buffer).

    With :math:`x` of shape ``(..., in)``, :math:`W` of shape ``(out, in)`` and
    :math:`b` of shape ``(out,)``, and :math:`X, \bar Y` the leading axes
    flattened into rows:

    .. math:: \bar x = \bar y W, \qquad \bar W = \bar Y^\top X, \qquad \bar b = \textstyle\sum_n \bar Y_n
    """
    if x.ndim < 1 or w.ndim != 2 or x.shape[-1] != w.shape[1] or b.shape != w.shape[:1]:
        raise ValueError(f"affine: x {x.shape} (..., in), w {w.shape} (out, in) and b {b.shape} (out,) do not agree")
    y = x @ w.T
    y += b
    return y


@affine.vjp
def _(g, y, x, w, b):
    rows_g, rows_x = reshape(g, -1, g.shape[-1]), reshape(x, -1, x.shape[-1])
    gx = g @ w if x.requires_grad else None
    gw = transpose(rows_g) @ rows_x if w.requires_grad else None
    gb = sum_(rows_g, axis=0) if b.requires_grad else None
    return gx, gw, gb
