"""``Tensor``: one array, whether it requires grad, its gradient, and the node that made it.

The arithmetic methods (``+``, ``@``, ``.sum()``, ``.tanh()``, ...) and the
differentiable conversions (``.to()``, ``.cpu()``, ``.cuda()``, ``.float()``,
``.double()``) are the primitives of :mod:`minigan.ops`, attached to this class
by that package so that autograd never imports the ops built on top of it.
``.backward()`` is attached the same way by :mod:`minigan.autograd.engine`,
which imports this module.
"""

from __future__ import annotations

import numpy as np

from minigan.kernels import array_module, is_cupy

__all__ = ["Tensor", "to_device", "device_of"]


def device_of(array) -> str:
    return "cuda" if is_cupy(array) else "cpu"


def to_device(array, device: str):
    """``array`` moved to ``"cpu"`` (NumPy) or ``"cuda"`` (CuPy); unchanged if already there."""
    device = str(device)
    if device.startswith("cuda"):
        if is_cupy(array):
            return array
        try:
            import cupy
        except ImportError as err:
            raise RuntimeError(
                "device 'cuda' needs CuPy: pip install 'minigan[cuda]' on a machine with an NVIDIA GPU"
            ) from err
        return cupy.asarray(array)
    if device == "cpu":
        return array.get() if is_cupy(array) else np.asarray(array)
    raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")


class Tensor:
    """An n-dimensional array that records how it was computed, as ``torch.Tensor``.

    ``data`` is a ``numpy.ndarray`` on ``"cpu"`` or a ``cupy.ndarray`` on
    ``"cuda"``. Create tensors with :func:`minigan.tensor` and friends.
    """

    __slots__ = ("data", "requires_grad", "grad", "_node", "__weakref__")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected operator

    def __init__(self, data, requires_grad: bool = False):
        if isinstance(data, Tensor):
            data = data.data
        elif not (isinstance(data, np.ndarray) or is_cupy(data)):
            data = np.asarray(data)
            if data.dtype == object:
                raise TypeError("cannot make a tensor from objects of mixed or non-numeric type")
        self.data = data
        self.grad: Tensor | None = None
        self._node = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # -- what it is ---------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def dim(self) -> int:
        return self.data.ndim

    def size(self, dim: int | None = None):
        """The shape, or its length along ``dim`` (as ``torch.Tensor.size``)."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        return int(self.data.size)

    @property
    def device(self) -> str:
        return device_of(self.data)

    @property
    def xp(self):
        """The array module of ``data``: ``numpy`` or ``cupy``."""
        return array_module(self.data)

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self):
        """The :class:`~minigan.autograd.primitive.Node` that produced this tensor, or None."""
        return self._node

    # -- gradients ------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(f"only floating-point tensors can require gradients, got dtype {self.data.dtype}")
        if not requires_grad and self._node is not None:
            raise RuntimeError("requires_grad_(False) is only allowed on leaf tensors; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor(self.data)

    # -- leaving minigan ------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shared, not copied, on the CPU)."""
        return to_device(self.data, "cpu")

    def tolist(self):
        return self.numpy().tolist()

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.reshape(()).item()

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype, copy=False)

    # -- Python protocol ------------------------------------------------------
    __hash__ = object.__hash__  # by identity, as torch; == is elementwise

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.data.size} elements is ambiguous")
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iub":
            raise TypeError("only integer tensors can be used as an index")
        return int(self.item())

    def __setitem__(self, index, value) -> None:
        if self.requires_grad:
            raise RuntimeError("in-place assignment to a tensor that requires grad is not supported")
        self.data[_raw(index)] = _raw(value)

    # comparisons are not differentiable: they return boolean tensors outside the graph
    def __eq__(self, other):
        return Tensor(self.data == _raw(other))

    def __ne__(self, other):
        return Tensor(self.data != _raw(other))

    def __lt__(self, other):
        return Tensor(self.data < _raw(other))

    def __le__(self, other):
        return Tensor(self.data <= _raw(other))

    def __gt__(self, other):
        return Tensor(self.data > _raw(other))

    def __ge__(self, other):
        return Tensor(self.data >= _raw(other))

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.dtype != np.float32 and self.dtype.kind == "f":
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.primitive.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"


def _raw(value):
    """The array inside a Tensor (recursively through tuples), anything else unchanged."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, tuple):
        return tuple(_raw(v) for v in value)
    return value
