"""Making tensors: ``tensor``, ``zeros``, ``randn``, ... and the random generator.

Floating-point tensors are float32 unless a dtype is given, as in PyTorch.
Randomness comes from one seeded NumPy generator (or an explicit
:class:`Generator`), drawn on the CPU and moved to the device, so the same
seed gives the same numbers on every backend.
"""

from __future__ import annotations

import numpy as np

from minigan.autograd.tensor import Tensor, to_device
from minigan.kernels import is_cupy

__all__ = [
    "tensor", "from_numpy", "as_tensor", "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like",
    "randn", "rand", "randint", "randperm", "randn_like", "rand_like", "arange", "linspace", "eye", "is_tensor",
    "manual_seed", "Generator", "default_generator", "float32", "float64", "int64", "bool_",
]

float32, float64, int64, bool_ = np.float32, np.float64, np.int64, np.bool_
DEFAULT_DTYPE = np.dtype(np.float32)


def _make(array, dtype, device, requires_grad) -> Tensor:
    if dtype is not None:
        array = array.astype(np.dtype(dtype), copy=False)
    return Tensor(to_device(array, device), requires_grad=requires_grad)


def _size(size) -> tuple[int, ...]:
    """``f(2, 3)`` and ``f((2, 3))`` both mean shape ``(2, 3)``, as in torch."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(int(s) for s in size)


def tensor(data, dtype=None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``; Python floats become float32 (as ``torch.tensor``)."""
    if isinstance(data, Tensor):
        data = data.array
    if is_cupy(data):
        array = data.copy()
    else:
        array = np.array(data)
        if dtype is None and array.dtype == np.float64 and not isinstance(data, (np.ndarray, np.generic)):
            dtype = DEFAULT_DTYPE  # Python floats: float32, but a float64 ndarray keeps its dtype
    return _make(array, dtype, device, requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory and dtype (as ``torch.from_numpy``): writes to one show in the other."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def as_tensor(data, dtype=None, device: str = "cpu") -> Tensor:
    """``data`` as a tensor, sharing memory when no conversion is needed."""
    if isinstance(data, Tensor) and dtype is None and data.device == device:
        return data
    return tensor(data, dtype=dtype, device=device)


def zeros(*size, dtype=None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(_size(size), dtype or DEFAULT_DTYPE), None, device, requires_grad)


def ones(*size, dtype=None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    return _make(np.ones(_size(size), dtype or DEFAULT_DTYPE), None, device, requires_grad)


def empty(*size, dtype=None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    return _make(np.empty(_size(size), dtype or DEFAULT_DTYPE), None, device, requires_grad)


def full(size, fill_value, dtype=None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    return _make(np.full(_size((size,)), fill_value, dtype or DEFAULT_DTYPE), None, device, requires_grad)


def zeros_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(t.xp.zeros(t.shape, dtype or t.dtype), requires_grad=requires_grad)


def ones_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(t.xp.ones(t.shape, dtype or t.dtype), requires_grad=requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(t.xp.full(t.shape, fill_value, dtype or t.dtype), requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """Like ``torch.arange``: int64 for integer arguments, float32 otherwise."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if integral else DEFAULT_DTYPE
    return _make(np.arange(start, end, step, dtype=dtype), None, device, requires_grad)


def linspace(start, end, steps: int, dtype=None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    return _make(np.linspace(start, end, steps, dtype=dtype or DEFAULT_DTYPE), None, device, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    return _make(np.eye(n, m, dtype=dtype or DEFAULT_DTYPE), None, device, requires_grad)


class Generator:
    """A seeded source of random numbers (a NumPy PCG64 generator) with a saveable state."""

    def __init__(self, seed: int | None = None):
        self.manual_seed(seed)

    def manual_seed(self, seed: int | None) -> Generator:
        self.initial_seed = seed
        self.rng = np.random.default_rng(seed)
        return self

    def get_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator, so the same seed gives the same run bit for bit."""
    return default_generator.manual_seed(int(seed))


def _rng(generator: Generator | None) -> np.random.Generator:
    return (generator or default_generator).rng


def randn(*size, dtype=None, device: str = "cpu", generator: Generator | None = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples (drawn in the requested float dtype)."""
    dtype = np.dtype(dtype or DEFAULT_DTYPE)
    array = _rng(generator).standard_normal(_size(size), dtype=dtype if dtype.kind == "f" else np.float64)
    return _make(array, dtype, device, requires_grad)


def rand(*size, dtype=None, device: str = "cpu", generator: Generator | None = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    dtype = np.dtype(dtype or DEFAULT_DTYPE)
    array = _rng(generator).random(_size(size), dtype=dtype if dtype.kind == "f" else np.float64)
    return _make(array, dtype, device, requires_grad)


def randint(low: int, high: int | None = None, size=(), dtype=np.int64, device: str = "cpu",
            generator: Generator | None = None) -> Tensor:
    """Integers uniform on [low, high), as ``torch.randint``."""
    if high is None:
        low, high = 0, low
    return _make(_rng(generator).integers(low, high, size=_size((size,))), dtype, device, False)


def randperm(n: int, dtype=np.int64, device: str = "cpu", generator: Generator | None = None) -> Tensor:
    """A random permutation of ``0, ..., n - 1``, as ``torch.randperm``."""
    return _make(_rng(generator).permutation(int(n)), dtype, device, False)


def is_tensor(obj) -> bool:
    """Whether ``obj`` is a minigan tensor, as ``torch.is_tensor``."""
    return isinstance(obj, Tensor)


def randn_like(t: Tensor, generator: Generator | None = None) -> Tensor:
    return randn(t.shape, dtype=t.dtype, device=t.device, generator=generator)


def rand_like(t: Tensor, generator: Generator | None = None) -> Tensor:
    return rand(t.shape, dtype=t.dtype, device=t.device, generator=generator)
