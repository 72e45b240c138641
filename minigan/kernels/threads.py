"""The thread policy: one compute thread per process, unless asked for more.

A GAN step here is hundreds of small matrix products (tens of microseconds
to a few milliseconds each). OpenBLAS splits every product statically across
its threads and waits for the slowest part. On a busy machine the thread
holding that part is often descheduled, and the product then waits a
scheduler time slice: on a two-core machine running one other process, a
0.05 ms product took 8 ms with two threads, and a whole MLP GAN step went
from 23 ms to 690 ms. A second pool (numba's) on the same cores
would add the same contention. So:

- BLAS gets ``MINIGAN_NUM_THREADS`` threads (default 1), set when
  :mod:`minigan.kernels` is imported and changeable with :func:`set_num_threads`;
- the numba kernels are serial (they are memory-bound loops over data that
  the matrix products have just touched, and gain little from threads);
- to use more cores, run more processes (seeds, a hyper-parameter sweep,
  pytest-xdist workers): they scale without contention.

On an idle machine with large batches, a few BLAS threads can shorten a step;
``MINIGAN_NUM_THREADS=2`` (or more) opts in. ``docs/performance.md`` has
the measurements.
"""

from __future__ import annotations

import os

__all__ = ["num_threads", "set_num_threads"]

_threads: int | None = None


def num_threads() -> int | None:
    """BLAS threads set by minigan, or None if threadpoolctl is missing and BLAS keeps its own setting."""
    return _threads


def set_num_threads(n: int) -> None:
    """Give BLAS ``n`` threads (for every library in this process that uses it, NumPy included)."""
    global _threads
    if int(n) < 1:
        raise ValueError(f"set_num_threads: need at least one thread, got {n}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # BLAS keeps its own default; the benchmark header shows it
        return
    threadpool_limits(int(n), user_api="blas")
    _threads = int(n)


def _from_environment() -> int:
    value = os.environ.get("MINIGAN_NUM_THREADS", "1").strip() or "1"
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"MINIGAN_NUM_THREADS must be a positive integer, got {value!r}") from None
