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

__all__ = ["Tensor", "Device", "to_device", "device_of"]


class Device(str):
    """A device, as ``torch.device``: ``Device("cuda:0")`` or ``Device("cuda", 0)``, with ``type`` and ``index``.

    It is the string it was made from, so ``x.device == "cpu"`` holds and
    anything that takes a device name takes a ``Device``.
    """

    def __new__(cls, type: str, index: int | None = None):  # noqa: A002 - torch's name
        name = str(type) if index is None else f"{type}:{index}"
        kind, _, number = name.partition(":")
        if kind not in ("cpu", "cuda") or (number and not number.isdigit()):
            raise ValueError(f"unknown device {name!r}: expected 'cpu', 'cuda' or 'cuda:N'")
        return super().__new__(cls, name)

    @property
    def type(self) -> str:
        return str.__str__(self).partition(":")[0]

    @property
    def index(self) -> int | None:
        number = str.__str__(self).partition(":")[2]
        return int(number) if number else None

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"


CPU, CUDA = Device("cpu"), Device("cuda")


def device_of(array) -> Device:
    return CUDA if is_cupy(array) else CPU


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

    ``array`` is the storage: a ``numpy.ndarray`` on ``"cpu"`` or a
    ``cupy.ndarray`` on ``"cuda"``. ``data`` is, as in PyTorch, a tensor
    sharing that storage outside the graph. Create tensors with
    :func:`minigan.tensor` and friends.
    """

    __slots__ = ("array", "requires_grad", "grad", "_node", "__weakref__")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected operator

    def __init__(self, array, requires_grad: bool = False):
        self.array = _storage(array)
        self.grad: Tensor | None = None
        self._node = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # -- what it is ---------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.array.shape

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    @property
    def ndim(self) -> int:
        return self.array.ndim

    def dim(self) -> int:
        return self.array.ndim

    def size(self, dim: int | None = None):
        """The shape, or its length along ``dim`` (as ``torch.Tensor.size``)."""
        return self.array.shape if dim is None else self.array.shape[dim]

    def numel(self) -> int:
        return int(self.array.size)

    @property
    def device(self) -> Device:
        return device_of(self.array)

    @property
    def xp(self):
        """The array module of ``array``: ``numpy`` or ``cupy``."""
        return array_module(self.array)

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self):
        """The :class:`~minigan.autograd.primitive.Node` that produced this tensor, or None."""
        return self._node

    # -- gradients ------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.array.dtype.kind not in "fc":
            raise RuntimeError(f"only floating-point tensors can require gradients, got dtype {self.array.dtype}")
        if not requires_grad and self._node is not None:
            raise RuntimeError("requires_grad_(False) is only allowed on leaf tensors; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same storage, cut from the graph."""
        return Tensor(self.array)

    @property
    def data(self) -> Tensor:
        """The same storage as a tensor outside the graph, as ``torch.Tensor.data``.

        Writes through it change this tensor and are not recorded:
        ``p.data.clamp_(-c, c)``, ``nn.init.normal_(m.weight.data, 0.0, 0.02)``.
        Assigning ``p.data = t`` makes ``t``'s storage this tensor's.
        """
        return Tensor(self.array)

    @data.setter
    def data(self, value) -> None:
        self.array = _storage(value)

    # -- leaving minigan ------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The storage as a NumPy array (shared, not copied, on the CPU)."""
        return to_device(self.array, "cpu")

    def tolist(self):
        return self.numpy().tolist()

    def item(self):
        if self.array.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.array.reshape(()).item()

    def __array__(self, dtype=None, copy=None):
        """NumPy's protocol: ``np.asarray(t)`` shares the storage, ``np.array(t)`` copies it (``copy=True``)."""
        array = self.numpy()
        if dtype is not None:
            return array.astype(dtype, copy=bool(copy))
        return array.copy() if copy else array

    # -- Python protocol ------------------------------------------------------
    __hash__ = object.__hash__  # by identity, as torch; == is elementwise

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.array.size} elements is ambiguous")
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
        self.array[_raw(index)] = _raw(value)

    # comparisons are not differentiable: they return boolean tensors outside the graph
    def __eq__(self, other):
        return Tensor(self.array == _raw(other))

    def __ne__(self, other):
        return Tensor(self.array != _raw(other))

    def __lt__(self, other):
        return Tensor(self.array < _raw(other))

    def __le__(self, other):
        return Tensor(self.array <= _raw(other))

    def __gt__(self, other):
        return Tensor(self.array > _raw(other))

    def __ge__(self, other):
        return Tensor(self.array >= _raw(other))

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


def _storage(value):
    """The array a tensor made from ``value`` holds: a tensor's own, an array itself, else a new NumPy array."""
    if isinstance(value, Tensor):
        return value.array
    if isinstance(value, np.ndarray) or is_cupy(value):
        return value
    array = np.asarray(value)
    if array.dtype == object:
        raise TypeError("cannot make a tensor from objects of mixed or non-numeric type")
    return array


def _raw(value):
    """The array inside a Tensor (recursively through tuples), anything else unchanged."""
    if isinstance(value, Tensor):
        return value.array
    if isinstance(value, tuple):
        return tuple(_raw(v) for v in value)
    return value
