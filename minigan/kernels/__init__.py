"""Array-level implementations of minigan's hot primitives.

Every kernel has one *definition*, the readable NumPy code in
:mod:`minigan.kernels.reference`. Faster twins with identical signatures live
in one module per backend (``numba_cpu`` for NumPy arrays) and must agree
with the reference; the tests compare them.

Dispatch is by array type: a NumPy array goes to the numba twin when numba
imports and the numba path is enabled, otherwise to the reference. A CuPy
array runs the reference itself, which is written against the array module
of its input (``xp``) and so executes on the GPU through CuPy's
NumPy-compatible API. ``MINIGAN_KERNELS=numpy`` in the environment, or
:func:`set_backend("numpy") <set_backend>`, forces the reference path.

Importing this package changes nothing in the process. When minigan's own
work starts, :func:`apply_policy` applies two policies. Threads: a run gets
the cores it has to itself, runs on one machine split them, and the large
numba kernels run over channel ranges on those threads
(:mod:`minigan.kernels.threads` explains why). Memory: on glibc, large arrays
reuse freed heap memory instead of fresh pages (``MINIGAN_MALLOC=system``
opts out; :mod:`minigan.kernels.memory` explains why). Compiled kernels are
cached per user (:func:`cache_dir`), never inside the installed package.

Nothing here knows about Tensors.
"""

from __future__ import annotations

import os
from types import ModuleType

from minigan.kernels import memory, reference, threads
from minigan.kernels.arrays import array_module, is_cupy
from minigan.kernels.cache import cache_dir
from minigan.kernels.settings import SettingError
from minigan.kernels.threads import num_threads, set_num_threads

__all__ = ["array_module", "backend", "set_backend", "kernel_module", "is_cupy", "num_threads",
           "set_num_threads", "apply_policy", "cache_dir", "SettingError"]

_BACKENDS = ("auto", "numba", "numpy")
_backend = os.environ.get("MINIGAN_KERNELS", "auto").strip().lower() or "auto"  # checked at first use


def _checked_backend() -> str:
    if _backend not in _BACKENDS:
        raise SettingError(f"MINIGAN_KERNELS must be one of {', '.join(_BACKENDS)}, got {_backend!r}")
    return _backend

_numba_module: ModuleType | None = None
_numba_failed = False


def backend() -> str:
    """The CPU kernel path in force: ``"numba"`` or ``"numpy"``."""
    return "numba" if _numba() is not None else "numpy"


def set_backend(name: str) -> None:
    """Choose the CPU kernel path: ``"auto"`` (numba if it imports), ``"numba"`` or ``"numpy"``."""
    global _backend
    if name not in _BACKENDS:
        raise ValueError(f"kernel backend must be one of {_BACKENDS}, got {name!r}")
    if name == "numba" and _load_numba() is None:
        raise RuntimeError("the numba kernel backend was requested but numba cannot be imported")
    _backend = name


def _load_numba() -> ModuleType | None:
    global _numba_module, _numba_failed
    if _numba_module is None and not _numba_failed:
        try:
            from minigan.kernels import numba_cpu
        except ImportError:
            _numba_failed = True
        else:
            _numba_module = numba_cpu
    return _numba_module


def _numba() -> ModuleType | None:
    return None if _checked_backend() == "numpy" else _load_numba()


def kernel_module(x) -> ModuleType:
    """The module whose kernels run on ``x``."""
    if is_cupy(x):
        return reference
    return _numba() or reference


def _dispatched(name: str):
    ref = getattr(reference, name)

    def kernel(x, *args, **kwargs):
        impl = getattr(kernel_module(x), name, ref)
        return impl(x, *args, **kwargs)

    kernel.__name__ = name
    kernel.__qualname__ = name
    kernel.__doc__ = ref.__doc__
    return kernel


unfold = _dispatched("unfold")
fold = _dispatched("fold")
im2col = _dispatched("im2col")
col2im = _dispatched("col2im")
conv2d = _dispatched("conv2d")
conv_transpose2d = _dispatched("conv_transpose2d")
conv2d_weight = _dispatched("conv2d_weight")
relu = _dispatched("relu")
leaky_relu = _dispatched("leaky_relu")
leaky_relu_backward = _dispatched("leaky_relu_backward")
softplus = _dispatched("softplus")
moments = _dispatched("moments")
standardize = _dispatched("standardize")
standardize_backward = _dispatched("standardize_backward")
batch_norm = _dispatched("batch_norm")
batch_norm_backward = _dispatched("batch_norm_backward")
sgd_update = _dispatched("sgd_update")
adam_update = _dispatched("adam_update")
rmsprop_update = _dispatched("rmsprop_update")


_applied = False


def apply_policy() -> int:
    """Apply the thread and memory policies, once per process, when minigan's own work starts; the threads."""
    global _applied
    if not _applied:
        _checked_backend()
        memory._from_environment()
        _applied = True
    return threads.apply_policy()
