"""numba twins of the reference kernels: same signatures, same results, faster on the CPU.

Each is a plain loop nest compiled with ``@njit(cache=True)``. They run
serially, by the thread policy in :mod:`minigan.kernels.threads`.
"""

from minigan.kernels.numba_cpu.conv import col2im, fold, im2col, unfold

__all__ = ["unfold", "fold", "im2col", "col2im"]
