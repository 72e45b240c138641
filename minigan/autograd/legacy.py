"""PyTorch's spellings that GAN scripts use and minigan needs no other way: ``Variable``, ``FloatTensor(...)``,
``torch.cuda``, ``torch.backends``.

- ``Variable(x)`` has been a pass-through since PyTorch 0.4: it returns the
  tensor (with ``requires_grad`` set if asked).
- ``FloatTensor``, ``DoubleTensor`` and ``LongTensor`` build a tensor of their
  dtype from sizes (``FloatTensor(64, 1)``, zero-filled, where PyTorch leaves
  the memory uninitialised) or from data (``LongTensor(labels)``,
  ``FloatTensor(np_array)``), and answer ``isinstance`` for tensors of
  their dtype. ``cuda.FloatTensor`` and friends do the same on the GPU.
- ``cuda.is_available()`` says whether the CuPy backend can run: CuPy
  imports and sees at least one device. ``cuda.manual_seed(s)`` and
  ``cuda.manual_seed_all(s)`` seed minigan's one generator, which serves
  both devices.
- ``backends.cudnn.benchmark`` and ``.deterministic`` may be set, and change
  nothing: minigan has no cuDNN, and its runs are deterministic anyway.
  ``backends.cudnn.is_available()`` and ``backends.mps.is_available()`` are
  False.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from minigan.autograd.creation import manual_seed, tensor, zeros
from minigan.autograd.tensor import Tensor

__all__ = ["Variable", "FloatTensor", "DoubleTensor", "LongTensor", "cuda", "backends"]


def Variable(data, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # noqa: N802 - PyTorch's name
    """``data`` as a tensor; with ``requires_grad=True`` a leaf that requires grad. ``volatile`` is ignored."""
    t = data if isinstance(data, Tensor) else tensor(data)
    if requires_grad:
        t.requires_grad = True
    return t


class _TensorType(type):
    """``isinstance(x, FloatTensor)``: a tensor of the type's dtype on its device."""

    def __instancecheck__(cls, x) -> bool:
        return isinstance(x, Tensor) and x.dtype == cls.dtype and x.device == cls.device


class LegacyTensor(metaclass=_TensorType):
    """The legacy types' base: calling one makes a tensor of its dtype on its device."""

    dtype = np.dtype(np.float32)
    device = "cpu"

    def __new__(cls, *args) -> Tensor:
        if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            return zeros(*(args or (0,)), dtype=cls.dtype, device=cls.device)  # FloatTensor() is empty, shape (0,)
        if len(args) != 1:
            raise TypeError(f"{cls.__name__}(*sizes) or {cls.__name__}(data), got {args!r}")
        return tensor(args[0], dtype=cls.dtype, device=cls.device)


class FloatTensor(LegacyTensor):
    """``FloatTensor(*sizes)`` (zeros) or ``FloatTensor(data)``: a float32 tensor."""
    dtype = np.dtype(np.float32)


class DoubleTensor(LegacyTensor):
    """``DoubleTensor(*sizes)`` (zeros) or ``DoubleTensor(data)``: a float64 tensor."""
    dtype = np.dtype(np.float64)


class LongTensor(LegacyTensor):
    """``LongTensor(*sizes)`` (zeros) or ``LongTensor(data)``: an int64 tensor."""
    dtype = np.dtype(np.int64)


class _Cuda:
    """``torch.cuda``'s part that GAN scripts use, for minigan's CuPy backend."""

    class FloatTensor(FloatTensor):
        device = "cuda"

    class DoubleTensor(DoubleTensor):
        device = "cuda"

    class LongTensor(LongTensor):
        device = "cuda"

    @staticmethod
    def device_count() -> int:
        """How many GPUs CuPy sees; 0 without CuPy or a driver."""
        try:
            import cupy

            return int(cupy.cuda.runtime.getDeviceCount())
        except Exception:  # noqa: BLE001 - no CuPy, no driver, no device: all mean none
            return 0

    @staticmethod
    def is_available() -> bool:
        """Whether the CuPy backend can run: CuPy imports and sees a GPU."""
        return _Cuda.device_count() > 0

    manual_seed = manual_seed_all = staticmethod(manual_seed)


cuda = _Cuda()

backends = SimpleNamespace(
    cudnn=SimpleNamespace(benchmark=False, deterministic=False, enabled=True, is_available=lambda: False),
    mps=SimpleNamespace(is_available=lambda: False),
)
