"""The thread policy: a run uses the cores it has to itself; runs that share a machine split them.

A GAN step is hundreds of small matrix products (tens of microseconds to a
few milliseconds each). OpenBLAS splits every product statically across its
threads and waits for the slowest part. When more threads compete for the
cores than there are cores, the thread holding that part is often
descheduled, and the product then waits a scheduler time slice: on a
two-core machine running one other process, a 0.05 ms product took 8 ms with
two threads, and a whole MLP GAN step went from 23 ms to 690 ms. So the
policy gives every process its share of the cores and no more:

- ``MINIGAN_NUM_THREADS`` threads when it is set;
- one thread in a pytest-xdist worker (its workers already fill the cores);
- otherwise the cores this process may run on, divided among the minigan
  runs alive on this machine: each run that applies the policy leaves its
  PID in a per-user folder for as long as it lives (:func:`live_runs`).

The threads serve BLAS and minigan's own pool (:func:`parallel_range`),
which runs the large numba kernels (im2col, col2im) over channel ranges;
the two never run at once, so they share the same cores.

Importing minigan changes nothing in the process. The policy applies when
minigan's own work starts (a :class:`~minigan.train.Trainer` is built, the
``minigan`` command or the benchmark runs: :func:`apply_policy`) and then
holds for the life of the process, as ``torch.set_num_threads`` does;
:func:`set_num_threads` changes it. ``docs/performance.md`` has the
measurements.
"""

from __future__ import annotations

import atexit
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from minigan.kernels.settings import SettingError

__all__ = ["num_threads", "set_num_threads", "apply_policy", "policy_threads", "live_runs", "parallel_range"]

_threads: int | None = None
_pool: ThreadPoolExecutor | None = None
_registered: Path | None = None


def num_threads() -> int | None:
    """Threads set by minigan (BLAS and its kernel pool), or None before the policy or a setting applies."""
    return _threads


def set_num_threads(n: int) -> None:
    """Give BLAS (for every library in this process, NumPy included) and minigan's kernel pool ``n`` threads."""
    global _threads, _pool
    if int(n) < 1:
        raise ValueError(f"set_num_threads: need at least one thread, got {n}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # BLAS keeps its own default; the benchmark header shows it
        pass
    else:
        threadpool_limits(int(n), user_api="blas")
    _threads = int(n)
    if _pool is not None:
        _pool.shutdown()
        _pool = None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _runs_folder() -> Path:
    return Path(tempfile.gettempdir()) / f"minigan-{os.getuid()}" / "runs"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def live_runs() -> int:
    """How many processes on this machine, this one included if registered, have applied the policy and live.

    POSIX only: elsewhere probing a PID with signal 0 is not a harmless question, and the count is 0.
    """
    if os.name != "posix":
        return 0
    folder = _runs_folder()
    alive = 0
    for entry in folder.glob("*") if folder.is_dir() else ():
        if entry.name.isdigit() and _alive(int(entry.name)):
            alive += 1
        else:
            entry.unlink(missing_ok=True)  # a run that was killed left it
    return alive


def _register() -> None:
    global _registered
    if _registered is not None or os.name != "posix":
        return
    try:
        folder = _runs_folder()
        folder.mkdir(parents=True, exist_ok=True)
        _registered = folder / str(os.getpid())
        _registered.touch()
    except OSError:  # no writable temporary folder: the run counts only itself
        _registered = None
        return
    atexit.register(_registered.unlink, missing_ok=True)


def policy_threads() -> int:
    """The thread count the policy gives this process now (see the module docstring)."""
    value = os.environ.get("MINIGAN_NUM_THREADS", "").strip()
    if value:
        try:
            threads = int(value)
        except ValueError:
            raise SettingError(f"MINIGAN_NUM_THREADS must be a positive integer, got {value!r}") from None
        if threads < 1:
            raise SettingError(f"MINIGAN_NUM_THREADS must be a positive integer, got {value!r}")
        return threads
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return 1
    return max(1, _cores() // max(1, live_runs()))


def apply_policy() -> int:
    """Register this run and give it its threads (once per process; later calls keep the first answer)."""
    if _threads is None:
        _register()
        set_num_threads(policy_threads())
    return _threads


def parallel_range(n: int, body, elements: int | None = None, at_least: int = 0) -> None:
    """``body(start, stop)`` over ``range(n)`` split into one contiguous piece per thread, run at once.

    ``body`` must release the GIL (numba's ``nogil=True``) and its pieces must
    write disjoint memory. With one thread, or when the call touches fewer than
    ``at_least`` ``elements`` (too short to gain from splitting), it is simply
    ``body(0, n)``.
    """
    global _pool
    threads = min(_threads or 1, n)
    if threads <= 1 or (elements is not None and elements < at_least):
        body(0, n)
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(_threads, thread_name_prefix="minigan-kernel")
    bounds = [n * i // threads for i in range(threads + 1)]
    futures = [_pool.submit(body, bounds[i], bounds[i + 1]) for i in range(1, threads)]
    body(bounds[0], bounds[1])  # the calling thread takes the first piece
    for future in futures:
        future.result()
