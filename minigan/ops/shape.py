r"""Shape primitives: they move entries around without changing them.

Each is linear, so its VJP is its adjoint, another shape primitive:

========================  ===================================
forward                   VJP (adjoint)
========================  ===================================
reshape to ``s``          reshape back to ``x.shape``
permute by ``p``          permute by :math:`p^{-1}`
broadcast_to ``s``        sum_to ``x.shape``
sum_to ``s``              broadcast_to ``x.shape``
getitem ``[i]``           scatter-add into zeros at ``[i]``
scatter-add at ``[i]``    getitem ``[i]``
cat along an axis         slices of the gradient
pad with a constant       crop the gradient
========================  ===================================

The adjoint pairs call each other, so every second derivative follows.
"""

from __future__ import annotations

import math

import numpy as np

from minigan.autograd import Tensor, primitive
from minigan.kernels import array_module

__all__ = [
    "reshape", "view", "permute", "transpose", "flatten", "squeeze", "unsqueeze", "broadcast_to",
    "expand", "sum_to", "unbroadcast", "getitem", "scatter_add", "cat", "concatenate", "stack", "pad",
]


def _shape_arg(shape) -> tuple[int, ...]:
    """``f(x, 2, 3)`` and ``f(x, (2, 3))`` both mean ``(2, 3)``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _axis(axis: int, ndim: int, name: str) -> int:
    if not -ndim <= axis < max(ndim, 1):
        raise IndexError(f"{name}: axis {axis} is out of range for a tensor with {ndim} dimensions")
    return axis % max(ndim, 1)


# -- reshape -------------------------------------------------------------------

@primitive(name="reshape")
def _reshape(x, *, shape):
    r""":math:`y = x` read in a new shape (row-major); :math:`\bar x = \bar y` reshaped back."""
    try:
        return x.reshape(shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} into {shape}") from None


@_reshape.vjp
def _(g, y, x, *, shape):
    return reshape(g, x.shape)


def reshape(x: Tensor, *shape) -> Tensor:
    """The same entries in a new shape (one dimension may be -1), as ``torch.reshape``."""
    shape = _shape_arg(shape)
    return x if shape == x.shape else _reshape(x, shape=shape)


view = reshape


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one, as ``torch.flatten``."""
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = _axis(start_dim, x.ndim, "flatten"), _axis(end_dim, x.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}")
    return reshape(x, x.shape[:start] + (-1,) + x.shape[end + 1:])


def squeeze(x: Tensor, dim: int | None = None) -> Tensor:
    """Drop size-1 dimensions (all, or only ``dim`` if it has size 1), as ``torch.squeeze``."""
    if dim is None:
        return reshape(x, tuple(s for s in x.shape if s != 1))
    dim = _axis(dim, x.ndim, "squeeze")
    return x if x.ndim == 0 or x.shape[dim] != 1 else reshape(x, x.shape[:dim] + x.shape[dim + 1:])


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dimension at ``dim``, as ``torch.unsqueeze``."""
    dim = _axis(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


# -- permute -------------------------------------------------------------------

@primitive(name="permute")
def _permute(x, *, axes):
    r""":math:`y_{i_{p(0)} \dots} = x_{i_0 \dots}`; :math:`\bar x` = :math:`\bar y` permuted by :math:`p^{-1}`."""
    return x.transpose(axes)


@_permute.vjp
def _(g, y, x, *, axes):
    return _permute(g, axes=tuple(int(a) for a in np.argsort(axes)))


def permute(x: Tensor, *dims) -> Tensor:
    """Reorder the dimensions, as ``torch.permute``."""
    axes = tuple(_axis(d, x.ndim, "permute") for d in _shape_arg(dims))
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the {x.ndim} dimensions of shape {x.shape}")
    return x if axes == tuple(range(x.ndim)) else _permute(x, axes=axes)


def transpose(x: Tensor, dim0: int = -2, dim1: int = -1) -> Tensor:
    """Swap two dimensions, as ``torch.transpose``."""
    axes = list(range(x.ndim))
    i, j = _axis(dim0, x.ndim, "transpose"), _axis(dim1, x.ndim, "transpose")
    axes[i], axes[j] = axes[j], axes[i]
    return permute(x, axes)


# -- broadcasting ------------------------------------------------------------------

@primitive
def broadcast_to(x, *, shape):
    r"""Repeat ``x`` along stretched axes (NumPy rules); :math:`\bar x = \operatorname{sum\_to}(\bar y, \mathrm{shape}(x))`."""
    try:
        return array_module(x).broadcast_to(x, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: shape {x.shape} cannot be broadcast to {shape}") from None


@broadcast_to.vjp
def _(g, y, x, *, shape):
    return sum_to(g, shape=x.shape)


@primitive
def sum_to(x, *, shape):
    r"""Sum ``x`` down to ``shape``, the adjoint of broadcasting to ``x.shape``.

    Leading axes that ``shape`` lacks, and axes where ``shape`` has 1, are
    summed. VJP: :math:`\bar x = \operatorname{broadcast\_to}(\bar y, \mathrm{shape}(x))`.
    """
    lead = x.ndim - len(shape)
    stretched = tuple(lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1)
    if lead < 0 or any(s not in (1, x.shape[lead + i]) for i, s in enumerate(shape)):
        raise ValueError(f"sum_to: shape {x.shape} cannot be summed to {shape}")
    return x.sum(axis=tuple(range(lead)) + stretched, keepdims=True).reshape(shape)


@sum_to.vjp
def _(g, y, x, *, shape):
    return broadcast_to(g, shape=x.shape)


def unbroadcast(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``g`` summed down to ``shape`` (a no-op when the shapes already agree)."""
    return g if g.shape == tuple(shape) else sum_to(g, shape=tuple(shape))


def expand(x: Tensor, *sizes) -> Tensor:
    """``torch.Tensor.expand``: broadcast to ``sizes``, where -1 keeps a dimension."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return x if shape == x.shape else broadcast_to(x, shape=shape)


# -- indexing ------------------------------------------------------------------

def _reads_each_once(index: tuple) -> bool:
    """No integer-array entries, so no element is selected twice (slices, ints, masks)."""
    return not any(hasattr(i, "dtype") and i.dtype.kind in "iu" and i.ndim > 0 for i in index)


@primitive
def getitem(x, *, index):
    r"""NumPy indexing, :math:`y = x[i]`: slices, integers, integer arrays and boolean masks.

    VJP: scatter :math:`\bar y` back where it was read,
    :math:`\bar x = \operatorname{scatter\_add}(\bar y, i)`; entries read more than
    once (repeated integer indices) receive the sum of their gradients.
    """
    return x[index]


@getitem.vjp
def _(g, y, x, *, index):
    return scatter_add(g, index=index, shape=x.shape)


@primitive
def scatter_add(g, *, index, shape):
    r"""Zeros of ``shape`` with ``g`` added at ``[index]``: the adjoint of ``getitem``.

    VJP: :math:`\bar g = \bar y[\mathrm{index}]`.
    """
    xp = array_module(g)
    out = xp.zeros(shape, dtype=g.dtype)
    if _reads_each_once(index):
        out[index] = g
    else:
        xp.add.at(out, index, g)
    return out


@scatter_add.vjp
def _(gy, y, g, *, index, shape):
    return getitem(gy, index=index)


def _normalise_index(index):
    """Tensors and lists inside an index become arrays; the index becomes a tuple."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for i in index:
        if isinstance(i, Tensor):
            i = i.array
        elif isinstance(i, list):
            i = np.asarray(i)
        out.append(i)
    return tuple(out)


def index(x: Tensor, key) -> Tensor:
    """``x[key]`` (used by ``Tensor.__getitem__``)."""
    key = _normalise_index(key)
    try:
        return getitem(x, index=key)
    except IndexError as err:
        raise IndexError(f"getitem: index {key} for a tensor of shape {x.shape}: {err}") from None


# -- joining ---------------------------------------------------------------------

@primitive(name="cat")
def _cat(*xs, axis):
    r""":math:`y = [x_1, x_2, \dots]` along ``axis``; :math:`\bar x_k` is the slice of :math:`\bar y` that came from :math:`x_k`."""
    try:
        return array_module(xs[0]).concatenate(xs, axis=axis)
    except ValueError:
        raise ValueError(f"cat: shapes {[x.shape for x in xs]} do not match outside axis {axis}") from None


@_cat.vjp
def _(g, y, *xs, axis):
    grads, start = [], 0
    for x in xs:
        stop = start + x.shape[axis]
        grads.append(getitem(g, index=(slice(None),) * axis + (slice(start, stop),)) if x.requires_grad else None)
        start = stop
    return tuple(grads)


def cat(tensors, dim: int = 0) -> Tensor:
    """Concatenate along an existing dimension, as ``torch.cat``."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    return _cat(*tensors, axis=_axis(dim, tensors[0].ndim, "cat"))


concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Join along a new dimension, as ``torch.stack``."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    if len({t.shape for t in tensors}) > 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {[t.shape for t in tensors]}")
    dim = _axis(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, dim) for t in tensors], dim)


# -- padding ---------------------------------------------------------------------

@primitive(name="pad")
def _pad(x, *, widths, value):
    r"""Surround ``x`` with a constant; :math:`\bar x` is :math:`\bar y` cropped back to ``x``."""
    return array_module(x).pad(x, widths, mode="constant", constant_values=value)


@_pad.vjp
def _(g, y, x, *, widths, value):
    return getitem(g, index=tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape)))


_INDEX_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _padded_indices(n: int, lo: int, hi: int, mode: str) -> np.ndarray:
    """Source index of each padded position along one axis: ``reflect`` of 0..3 by (2, 1) is 2 1 0 1 2 3 2."""
    return np.pad(np.arange(n), (lo, hi), mode=_INDEX_MODES[mode])


def pad(x: Tensor, pad: tuple[int, ...], mode: str = "constant", value: float = 0.0) -> Tensor:
    r"""Pad as ``torch.nn.functional.pad``: ``pad`` lists (left, right) pairs from the last dimension backwards.

    ``mode="constant"`` surrounds ``x`` with ``value`` (a primitive whose VJP
    crops). The other modes read every output entry from an entry of ``x``,
    :math:`y_j = x_{s(j)}` along each padded axis, with

    - ``"reflect"``: mirror without repeating the edge, :math:`s(-k) = k`, :math:`s(n-1+k) = n-1-k` (pad < n);
    - ``"replicate"``: repeat the edge, :math:`s(-k) = 0`, :math:`s(n-1+k) = n-1` (any width);
    - ``"circular"``: wrap around, :math:`s(j) = j \bmod n` (pad <= n);

    so they are ``getitem`` with integer indices, one axis at a time, and
    :math:`\bar x_i = \sum_{j : s(j) = i} \bar y_j` (a scatter-add) follows.
    """
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected an even number of at most {2 * x.ndim} widths, got {pad}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {pad} is not supported")
    pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(0, len(pad), 2)]
    widths = tuple([(0, 0)] * (x.ndim - len(pairs)) + pairs[::-1])
    if mode == "constant":
        return _pad(x, widths=widths, value=value)
    if mode not in _INDEX_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if not (1 <= len(pairs) <= 3 and x.ndim - len(pairs) in (1, 2)):
        raise NotImplementedError(f"pad: mode={mode!r} pads the last 1, 2 or 3 dimensions of an input with one or "
                                  f"two more (2 widths: 2-D or 3-D input; 4: 3-D or 4-D; 6: 4-D or 5-D), as PyTorch; "
                                  f"got {len(pad)} widths for a {x.ndim}-D input of shape {x.shape}")
    out = x
    for axis, ((lo, hi), n) in enumerate(zip(widths, x.shape)):
        if lo == hi == 0:
            continue
        limit = {"reflect": n - 1, "circular": n}.get(mode, math.inf)  # replicate: any width of a non-empty axis
        if n == 0 or max(lo, hi) > limit:
            bound = {"reflect": "< the size of", "circular": "<= the size of"}.get(mode, "a non-empty")
            raise ValueError(f"pad: mode={mode!r} needs padding {bound} the padded dimension, got {(lo, hi)} "
                             f"for dimension {axis} of size {n} (input {x.shape})")
        source = out.xp.asarray(_padded_indices(n, lo, hi, mode))
        out = getitem(out, index=(slice(None),) * axis + (source,))
    return out
