r"""Resizing image batches, as ``torch.nn.functional.interpolate`` on 4-D input.

Every mode is a fixed linear map of the input, separable in height and width:
per image and channel

.. math:: y = A_h\, x\, A_w^\top, \qquad \bar x = A_h^\top\, \bar y\, A_w,

where row :math:`i` of :math:`A` (``(n_out, n_in)``) is one-hot at a source
index (nearest) or holds two weights summing to one (bilinear). The source
indices and weights follow PyTorch's index arithmetic to the last rounding
(float32 scales, its special cases), so a port gives the same pixels. The map
is applied with ``getitem`` (whose VJP scatter-adds :math:`\bar y` back onto
the rows it read) and weighted sums, so the second derivative follows too.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np

from minigan import ops
from minigan.autograd import Tensor
from minigan.nn.spatial import _expect, _expect_4d
from minigan.ops.conv import pair

__all__ = ["interpolate", "nearest", "bilinear", "nearest_source", "linear_source", "check_arguments", "MODES"]

MODES = ("nearest", "nearest-exact", "bilinear")


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",  # noqa: A002
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    r"""Resize ``(N, C, H, W)`` to ``size`` or by ``scale_factor``, as ``torch.nn.functional.interpolate``.

    The output is :math:`(H_{out}, W_{out})` = ``size``, or
    :math:`(\lfloor H s_h \rfloor, \lfloor W s_w \rfloor)` for ``scale_factor``
    :math:`s` (a number or a pair). Unless ``recompute_scale_factor=True``, a
    given :math:`s` also sets the source coordinate (ratio :math:`1/s`, not
    :math:`H / H_{out}`), as in PyTorch; see :func:`nearest_source` and
    :func:`linear_source` for the index arithmetic of each mode.

    Parameters
    ----------
    mode : {'nearest', 'nearest-exact', 'bilinear'}
        ``nearest`` is PyTorch's (OpenCV's) :math:`\lfloor i r \rfloor`;
        ``nearest-exact`` takes the pixel whose centre is nearest,
        :math:`\lfloor (i + \frac12) r \rfloor`; ``bilinear`` weighs the two
        nearest rows, then the two nearest columns.
    align_corners : bool, optional
        Bilinear only (``None`` means False): map corner pixel centres onto
        each other, :math:`r = (n_{in} - 1) / (n_{out} - 1)`.
    antialias : bool
        Only False: no anti-aliasing filter is implemented.

    Notes
    -----
    VJP: :math:`\bar x = A_h^\top \bar y A_w` (module docstring): each output
    pixel's gradient goes back to the source pixels it read, with their weights.
    """
    check_arguments("interpolate", size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
    _expect_4d("interpolate", input)
    out, scales = _output_size(tuple(input.shape[2:]), size, scale_factor, recompute_scale_factor)
    if mode == "bilinear":
        return bilinear(input, out, scales, align_corners=bool(align_corners))
    return nearest(input, out, scales, exact=mode == "nearest-exact")


def check_arguments(op: str, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias=False):
    """Raise ``ValueError`` for options :func:`interpolate` refuses, whatever the input; ``op`` names the caller."""
    _expect(mode in MODES, f"{op}: mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
    _expect(not antialias, f"{op}: antialias=True is not supported (no anti-aliasing filter is implemented); "
                           "expected antialias=False")
    _expect(align_corners is None or mode == "bilinear",
            f"{op}: align_corners applies only to mode='bilinear'; expected align_corners=None with "
            f"mode={mode!r}, got align_corners={align_corners!r}")
    given = "both" if size is not None else "neither"
    _expect((size is None) != (scale_factor is None),
            f"{op}: expected exactly one of size and scale_factor, got {given} "
            f"(size={size!r}, scale_factor={scale_factor!r})")
    _expect(not (recompute_scale_factor and size is not None),
            f"{op}: recompute_scale_factor=True needs scale_factor, not an explicit size={size!r}")
    if size is not None:
        sides = size if isinstance(size, (tuple, list)) else (size, size)
        _expect(len(sides) == 2 and all(isinstance(s, Integral) and s >= 1 for s in sides),
                f"{op}: size must be a positive int or a pair (H_out, W_out) of them, got {size!r}")
    else:
        factors = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor, scale_factor)
        _expect(len(factors) == 2 and all(_positive(f) for f in factors),
                f"{op}: scale_factor must be a positive number or a pair (s_h, s_w) of them, got {scale_factor!r}")


def _positive(value) -> bool:
    try:
        return math.isfinite(value) and value > 0
    except TypeError:
        return False


def _output_size(hw, size, scale_factor, recompute):
    """``((H_out, W_out), (s_h, s_w))``; a scale is ``None`` where PyTorch infers it from the sizes."""
    if size is not None:
        out, scales = pair(size, "size"), None
    else:
        factors = tuple(float(f) for f in (scale_factor if isinstance(scale_factor, (tuple, list))
                                           else (scale_factor, scale_factor)))
        out = tuple(math.floor(n * s) for n, s in zip(hw, factors))  # in double, as PyTorch
        scales = None if recompute else factors
        _expect(min(out) >= 1, f"interpolate: scale_factor {scale_factor!r} takes an input of size {hw} "
                               f"to {out}; expected at least 1 pixel on each side")
    return out, scales or (None, None)


# -- index arithmetic, one axis at a time -----------------------------------------------------------------------

def _ratio(n_in: int, n_out: int, scale, dtype):
    """PyTorch's ``compute_scales_value``: :math:`1/s` for a given factor, else :math:`n_{in}/n_{out}`, in ``dtype``."""
    return dtype(1.0 / scale) if scale is not None else dtype(n_in) / dtype(n_out)


def nearest_source(n_in: int, n_out: int, scale: float | None = None, exact: bool = False) -> np.ndarray:
    r"""Source index of each of ``n_out`` output positions along an axis of ``n_in``, as PyTorch's kernels.

    .. math:: j(i) = \min(\lfloor i\, r \rfloor,\; n_{in} - 1) \quad (\text{nearest}), \qquad
              j(i) = \min(\lfloor (i + \tfrac12)\, r \rfloor,\; n_{in} - 1) \quad (\text{nearest-exact})

    with :math:`r = 1/s` for a given factor :math:`s`, else :math:`n_{in}/n_{out}`,
    rounded to float32 whatever the input dtype (as PyTorch). ``nearest`` copies
    (:math:`j = i`) when :math:`n_{out} = n_{in}` and halves (:math:`j = \lfloor i/2 \rfloor`)
    when :math:`n_{out} = 2 n_{in}`, whatever :math:`s`: PyTorch special-cases both.
    """
    i = np.arange(n_out)
    if not exact and n_out == n_in:
        return i
    if not exact and n_out == 2 * n_in:
        return i // 2
    r = _ratio(n_in, n_out, scale, np.float32)
    # nearest multiplies in float32; nearest-exact adds 0.5 in double and rounds to float32 before the floor
    src = ((i + 0.5) * np.float64(r)).astype(np.float32) if exact else i.astype(np.float32) * r
    return np.minimum(np.floor(src).astype(np.int64), n_in - 1)


def linear_source(n_in: int, n_out: int, scale: float | None = None, align_corners: bool = False,
                  dtype=np.float32) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Two source indices and their weights per output position, ``(j0, j1, w0, w1)``, as PyTorch's kernels.

    The source coordinate of output :math:`i` is

    .. math:: u(i) = r\, i \quad (\text{align\_corners}), \qquad
              u(i) = \max\big(r\,(i + \tfrac12) - \tfrac12,\; 0\big) \quad (\text{otherwise}),

    with :math:`r = (n_{in} - 1)/(n_{out} - 1)` (0 for one output) when
    aligning corners, else :math:`1/s` or :math:`n_{in}/n_{out}` as in
    :func:`nearest_source`; the clamp at 0 replicates the edge pixel. Then
    :math:`j_0 = \min(\lfloor u \rfloor, n_{in} - 1)`,
    :math:`j_1 = \min(j_0 + 1, n_{in} - 1)`,
    :math:`\lambda = \mathrm{clip}(u - j_0, 0, 1)` and
    :math:`(w_0, w_1) = (1 - \lambda, \lambda)`. Arithmetic in ``dtype``
    (PyTorch's: float64 for float64 input, else float32, where its compiled
    kernel rounds :math:`r(i + \tfrac12) - \tfrac12` once, a fused multiply-add),
    the floor in float32 (PyTorch's ``floorf``); an axis whose size does not
    change is copied.
    """
    i = np.arange(n_out)
    if n_out == n_in:
        return i, i, np.ones(n_out, dtype), np.zeros(n_out, dtype)
    if align_corners:
        r = dtype(n_in - 1) / dtype(n_out - 1) if n_out > 1 else dtype(0)
        u = r * i.astype(dtype)
    else:
        r = _ratio(n_in, n_out, scale, dtype)
        if dtype is np.float32:  # PyTorch's CPU kernel fuses the multiply-add: exact in float64, one rounding
            u = np.maximum((np.float64(r) * (i + 0.5) - 0.5).astype(np.float32), np.float32(0))
        else:
            u = np.maximum(r * (i + 0.5) - 0.5, 0.0)
    j0 = np.minimum(np.floor(u.astype(np.float32)).astype(np.int64), n_in - 1)
    lam = np.clip(u - j0.astype(dtype), dtype(0), dtype(1)).astype(dtype)
    return j0, np.minimum(j0 + 1, n_in - 1), (dtype(1) - lam).astype(dtype), lam


# -- applying the map -------------------------------------------------------------------------------------------

def nearest(x: Tensor, size: tuple[int, int], scales=(None, None), *, exact: bool = False) -> Tensor:
    r"""Nearest-neighbour resize of ``(N, C, H, W)`` to ``size``: :math:`y_{ik} = x_{j_h(i)\, j_w(k)}`.

    VJP: :math:`\bar x_{pq} = \sum_{i: j_h(i) = p} \sum_{k: j_w(k) = q} \bar y_{ik}`.
    When every source pixel fills a :math:`k_h \times k_w` block (an integer
    upscale), the gather is a broadcast and its VJP sums each block.
    """
    (h, w), (oh, ow) = x.shape[2:], size
    rows, cols = nearest_source(h, oh, scales[0], exact), nearest_source(w, ow, scales[1], exact)
    kh, kw = _repeats(rows, h), _repeats(cols, w)
    if kh and kw:
        n, c = x.shape[:2]
        blocks = ops.broadcast_to(x.reshape(n, c, h, 1, w, 1), shape=(n, c, h, kh, w, kw))
        return blocks.reshape(n, c, oh, ow)
    return _take(_take(x, 2, rows), 3, cols)


def bilinear(x: Tensor, size: tuple[int, int], scales=(None, None), *, align_corners: bool = False) -> Tensor:
    r"""Bilinear resize of ``(N, C, H, W)`` to ``size``: two linear resizes, along width then height.

    .. math:: y = \sum_{a, b \in \{0, 1\}} w^h_a\, w^w_b\; x[j^h_a, j^w_b]

    with indices and weights from :func:`linear_source`. VJP: each weighted
    read scatters back, :math:`\bar x[j^h_a, j^w_b] \mathrel{+}= w^h_a w^w_b\, \bar y`.
    """
    dtype = np.float64 if x.dtype == np.float64 else np.float32
    (h, w), (oh, ow) = x.shape[2:], size
    cols = _blend(x, 3, *linear_source(w, ow, scales[1], align_corners, dtype))
    j0, j1, w0, w1 = linear_source(h, oh, scales[0], align_corners, dtype)
    return _blend(cols, 2, j0, j1, w0[:, None], w1[:, None])


def _blend(x: Tensor, axis: int, j0, j1, w0, w1) -> Tensor:
    """:math:`w_0 \\odot x[j_0] + w_1 \\odot x[j_1]` along ``axis``; an unchanged axis is passed through."""
    if len(j0) == x.shape[axis] and not w1.any() and np.array_equal(j0, np.arange(len(j0))):
        return x
    weight = lambda a: Tensor(x.xp.asarray(a, dtype=x.dtype))  # noqa: E731
    return _take(x, axis, j0) * weight(w0) + _take(x, axis, j1) * weight(w1)


def _take(x: Tensor, axis: int, idx: np.ndarray) -> Tensor:
    """``x`` at indices ``idx`` along ``axis``; evenly spaced indices become a slice, whose VJP is a plain write."""
    n = len(idx)
    if n == x.shape[axis] and np.array_equal(idx, np.arange(n)):
        return x
    step = int(idx[1] - idx[0]) if n > 1 else 1
    if step > 0 and np.array_equal(idx, idx[0] + step * np.arange(n)):
        key = slice(int(idx[0]), int(idx[-1]) + 1, step)
    else:
        key = x.xp.asarray(idx)
    return ops.getitem(x, index=(slice(None),) * axis + (key,))


def _repeats(idx: np.ndarray, n_in: int) -> int | None:
    """``k`` when ``idx`` reads each of the ``n_in`` sources ``k`` times in order (``i // k``), else None."""
    k = len(idx) // n_in
    return k if k >= 1 and k * n_in == len(idx) and np.array_equal(idx, np.arange(len(idx)) // k) else None
