"""The memory policy: large arrays reuse freed heap memory instead of fresh pages from the kernel.

glibc's ``malloc`` serves every block above its *mmap threshold* (128 KiB,
raised automatically up to 32 MiB) with a fresh ``mmap`` and gives it back
with ``munmap`` when freed. A convolutional GAN step allocates and frees
arrays far above that size: at batch 256 the column matrix of a DCGAN
discriminator layer is 51 MB. Each time, the kernel hands out zeroed pages
and the first write to every 4 KiB page faults. For a DCGAN step at batch
256 on a 2-core machine that made minigan 1.47x PyTorch (1.08x with the
policy) and its slowest step 1.80x the median (1.02x); ``docs/performance.md``
has the commands and the table.

So, on glibc, minigan raises the mmap threshold to 1 GiB and the trim
threshold to 2 GiB when minigan's own work starts
(:func:`minigan.kernels.apply_policy`, never at import): freed blocks stay
in the heap and the next step's arrays of the same sizes reuse them, already
mapped. The cost is that the process keeps its peak heap until it exits,
which is what a training process wants. ``MINIGAN_MALLOC=system`` leaves
malloc's settings alone, for processes that run minigan beside other work.
"""

from __future__ import annotations

import ctypes
import os
import platform

from minigan.kernels.settings import SettingError

__all__ = ["reuse_freed_memory", "policy"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's <malloc.h>
_MMAP_THRESHOLD, _TRIM_THRESHOLD = 1 << 30, (1 << 31) - 1

_policy = "system"


def policy() -> str:
    """``"reuse"`` when minigan tuned malloc, ``"system"`` when malloc keeps its own settings."""
    return _policy


def reuse_freed_memory() -> bool:
    """Tune glibc's malloc as the module docstring says; False (and nothing changed) elsewhere."""
    global _policy
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    if mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD):
        _policy = "reuse"
    return _policy == "reuse"


def _from_environment() -> None:
    value = os.environ.get("MINIGAN_MALLOC", "reuse").strip().lower() or "reuse"
    if value not in ("reuse", "system"):
        raise SettingError(f"MINIGAN_MALLOC must be 'reuse' or 'system', got {value!r}")
    if value == "reuse":
        reuse_freed_memory()
