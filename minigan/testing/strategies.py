r"""Hypothesis strategies for gradient checks: shapes, well-conditioned arrays, conv geometries.

Every strategy is built by construction, never by filtering, so none of them
trips hypothesis's health checks::

    from hypothesis import given
    import minigan as mg
    from minigan.testing import gradcheck, strategies as mst

    @given(x=mst.tensors(avoid=(0.0,)))         # relu has a kink at 0
    def test_relu(x):
        gradcheck(lambda t: t.relu(), [x])

    @given(g=mst.conv_geometries())
    def test_conv(g):
        x = mg.randn(*g.input_shape, dtype=mg.float64, requires_grad=True)
        ...                                      # g.stride, g.padding, g.output_size, ...
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigan.autograd import Tensor

__all__ = [
    "shapes", "arrays", "positive_arrays", "tensors", "broadcastable_shapes",
    "conv_geometries", "ConvGeometry",
]

Pair = tuple[int, int]


def shapes(min_dims=0, max_dims=4, min_side=1, max_side=5):
    """Array shapes, scalars ``()`` included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def arrays(shape=None, dtype=np.float64, min_value=-3.0, max_value=3.0, avoid=(), margin=1e-2):
    r"""Finite arrays with every element in ``[min_value, max_value]`` and away from ``avoid``.

    Parameters
    ----------
    shape : tuple, strategy or None
        A fixed shape, a strategy of shapes, or None for :func:`shapes`.
    dtype : dtype
        A floating dtype.
    min_value, max_value : float
        Bounds that keep values well conditioned (no overflow in ``exp``).
    avoid : sequence of float
        Kinks of the function under test (``(0.0,)`` for ReLU, abs, LeakyReLU;
        ``(-1.0, 1.0)`` for hinge or ``clamp(-1, 1)``). Every element ends at
        least ``margin`` from each, so a finite difference with a step below
        ``margin`` never straddles one. Points must lie more than
        ``2 * margin`` apart.
    margin : float
        Distance kept from each kink.

    Notes
    -----
    An element closer than ``margin`` to a kink :math:`p` is moved to
    :math:`p \pm \text{margin}` (on its own side, or the side inside the
    bounds), so no draw is ever rejected.
    """
    if shape is None:
        shape = shapes()
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"arrays: expected a floating dtype, got {dtype}")
    elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=8 * dtype.itemsize)
    kinks = tuple(float(p) for p in avoid)
    return hnp.arrays(dtype, shape, elements=elements).map(
        lambda a: _away_from(a, kinks, margin, min_value, max_value))


def _away_from(array, kinks, margin, low, high):
    """``array`` with every element within ``margin`` of a kink pushed to distance ``margin``."""
    out = array.astype(np.float64)
    for p in kinks:
        side = np.where(out >= p, 1.0, -1.0)
        side = np.where(p + side * margin > high, -1.0, np.where(p + side * margin < low, 1.0, side))
        out = np.where(np.abs(out - p) < margin, p + side * margin, out)
    out = out.astype(array.dtype)
    for p in kinks:  # rounding to a narrow dtype may land a hair inside the margin: step outwards
        inside = np.abs(out.astype(np.float64) - p) < margin
        out = np.where(inside, np.nextafter(out, np.where(out >= p, np.inf, -np.inf).astype(out.dtype)), out)
    return out


def positive_arrays(shape=None, dtype=np.float64, min_value=0.1, max_value=3.0):
    """Arrays in ``[min_value, max_value]`` with ``min_value > 0``: the domain of ``log`` and ``sqrt``."""
    if not min_value > 0:
        raise ValueError(f"positive_arrays: min_value must be positive, got {min_value}")
    return arrays(shape, dtype, min_value, max_value)


def tensors(shape=None, dtype=np.float64, requires_grad=True, **array_kwargs):
    """minigan Tensors holding :func:`arrays` (keyword arguments as there)."""
    return arrays(shape, dtype, **array_kwargs).map(lambda a: Tensor(a, requires_grad=requires_grad))


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4):
    """``(input_shapes, result_shape)``: shapes that broadcast together, and their broadcast."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims,
                                             max_side=max_side)


# -- convolution ------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ConvGeometry:
    r"""The sizes of one 2-D convolution (or transposed convolution) that PyTorch would accept.

    Works as a mapping of its fields (``dict(g)``, ``g["stride"]``); pass
    :attr:`kwargs` to a conv function. Output size per axis, as in PyTorch:

    .. math::
        H_{out} = \left\lfloor \frac{H + 2p - d(k-1) - 1}{s} \right\rfloor + 1
        \quad\text{(conv)}, \qquad
        H_{out} = (H-1)s - 2p + d(k-1) + p_{out} + 1
        \quad\text{(transposed)}.
    """

    n: int
    c_in: int
    c_out: int
    height: int
    width: int
    kernel_size: Pair
    stride: Pair
    padding: Pair
    dilation: Pair
    output_padding: Pair = (0, 0)
    transposed: bool = False

    @property
    def output_size(self) -> Pair:
        axes = zip((self.height, self.width), self.kernel_size, self.stride, self.padding, self.dilation,
                   self.output_padding)
        if self.transposed:
            return tuple((h - 1) * s - 2 * p + d * (k - 1) + q + 1 for h, k, s, p, d, q in axes)
        return tuple((h + 2 * p - d * (k - 1) - 1) // s + 1 for h, k, s, p, d, _ in axes)

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.c_in, self.height, self.width)

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        """``(C_out, C_in, kh, kw)``, or ``(C_in, C_out, kh, kw)`` when transposed (PyTorch's layouts)."""
        channels = (self.c_in, self.c_out) if self.transposed else (self.c_out, self.c_in)
        return (*channels, *self.kernel_size)

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.c_out, *self.output_size)

    @property
    def kwargs(self) -> dict:
        """``stride``, ``padding``, ``dilation`` (and ``output_padding`` when transposed) for a conv call."""
        extra = {"output_padding": self.output_padding} if self.transposed else {}
        return {"stride": self.stride, "padding": self.padding, "dilation": self.dilation, **extra}

    def keys(self):
        return [f.name for f in dataclasses.fields(self)]

    def __getitem__(self, key):
        if key not in self.keys():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self.keys())


@st.composite
def conv_geometries(draw, min_size=1, max_size=8, max_kernel=4, max_stride=3, max_padding=2, max_dilation=2,
                    transposed=False):
    r""":class:`ConvGeometry` draws with a non-empty output, square or not, strides above the kernel included.

    Kernel, stride, dilation and padding are drawn first (padding at most half
    the effective kernel, :math:`p \le \lfloor (d(k-1)+1) / 2 \rfloor`, as PyTorch requires;
    ``output_padding`` below ``max(stride, dilation)``), then each input side
    from ``[min_size, max_size]``, raised where the kernel needs a larger
    input for one output position.
    """
    axes = [draw(_axis(min_size, max_size, max_kernel, max_stride, max_padding, max_dilation, transposed))
            for _ in range(2)]
    channels = st.integers(1, 3)
    k, s, p, d, q, size = zip(*axes)  # each a (height, width) pair
    return ConvGeometry(n=draw(st.integers(1, 3)), c_in=draw(channels), c_out=draw(channels), height=size[0],
                        width=size[1], kernel_size=k, stride=s, padding=p, dilation=d, output_padding=q,
                        transposed=transposed)


@st.composite
def _axis(draw, min_size, max_size, max_kernel, max_stride, max_padding, max_dilation, transposed):
    """(kernel, stride, padding, dilation, output_padding, input size) along one axis."""
    k, s, d = draw(st.integers(1, max_kernel)), draw(st.integers(1, max_stride)), draw(st.integers(1, max_dilation))
    span = d * (k - 1) + 1  # the effective kernel
    p = draw(st.integers(0, min(max_padding, span // 2)))
    q = draw(st.integers(0, max(s, d) - 1)) if transposed else 0
    if transposed:  # (H - 1) s + span - 2p + q >= 1
        smallest = 1 + max(0, math.ceil((2 * p - span + 1 - q) / s))
    else:  # H + 2p - span >= 0
        smallest = span - 2 * p
    smallest = max(min_size, smallest)
    return k, s, p, d, q, draw(st.integers(smallest, max(max_size, smallest)))
