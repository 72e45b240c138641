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
which runs large kernels (convolutions, im2col, col2im, batch norm,
rectifiers) in one piece per thread; the two never run at once, so they
share the same cores, and where the pieces call BLAS it runs on one thread
in each. Between calls, though, OpenBLAS's idle threads spin for 2**28
clock cycles (a tenth of a second) before they sleep, and a spinning thread
takes half of its core from the pool's: a col2im right after a product took
twice as long on two threads. So the first time the pool splits work, idle
OpenBLAS threads are told to sleep after 2**18 cycles (about 0.1 ms)
instead (:func:`_shorten_blas_spin`; an ``OPENBLAS_THREAD_TIMEOUT`` set by
the user is kept). Runs that never split work (small arrays, no
convolutions) keep the long spin, which hands consecutive small products to
awake threads.

Importing minigan changes nothing in the process. The policy applies when
minigan's own work starts (a :class:`~minigan.train.Trainer` is built, the
``minigan`` command or the benchmark runs: :func:`apply_policy`) and then
holds for the life of the process, as ``torch.set_num_threads`` does;
:func:`set_num_threads` changes it. ``docs/performance.md`` has the
measurements.
"""

from __future__ import annotations

import atexit
import functools
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from minigan.kernels.settings import SettingError

__all__ = ["num_threads", "set_num_threads", "apply_policy", "policy_threads", "live_runs", "parallel_range"]

_threads: int | None = None
_pool: ThreadPoolExecutor | None = None
_registered: Path | None = None
_BLAS_SPIN = 18  # log2 of the clock cycles an idle OpenBLAS thread spins once the pool is in use


def num_threads() -> int | None:
    """Threads set by minigan (BLAS and its kernel pool), or None before the policy or a setting applies."""
    return _threads


def set_num_threads(n: int) -> None:
    """Give BLAS (for every library in this process, NumPy included) and minigan's kernel pool ``n`` threads."""
    global _threads, _pool
    if int(n) < 1:
        raise ValueError(f"set_num_threads: need at least one thread, got {n}")
    _blas_libraries.cache_clear()  # find the BLAS libraries loaded since (without threadpoolctl: none, and
    _set_blas_threads(int(n))      # BLAS keeps its own default, which the benchmark header shows)
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


def parallel_range(n: int, body, elements: int | None = None, at_least: int = 0, blas: bool = False) -> None:
    """``body(start, stop)`` over ``range(n)`` split into one contiguous piece per thread, run at once.

    ``body`` must release the GIL (numba's ``nogil=True``, NumPy's loops and
    BLAS do) and its pieces must write disjoint memory. With one thread, when
    the call touches fewer than ``at_least`` ``elements`` (too short to gain
    from splitting), or inside a piece of another split, it is simply
    ``body(0, n)``. With ``blas`` the pieces call BLAS, which then runs on
    one thread in each: the pool's threads take the place of BLAS's.
    """
    global _pool
    threads = min(_threads or 1, n)
    if threads <= 1 or getattr(_piece, "running", False) or (elements is not None and elements < at_least):
        body(0, n)
        return
    if _pool is None:
        _shorten_blas_spin()
        _pool = ThreadPoolExecutor(_threads, thread_name_prefix="minigan-kernel")
    bounds = [n * i // threads for i in range(threads + 1)]
    if blas:
        _set_blas_threads(1)
    try:
        futures = [_pool.submit(_run_piece, body, bounds[i], bounds[i + 1]) for i in range(1, threads)]
        _run_piece(body, bounds[0], bounds[1])  # the calling thread takes the first piece
        for future in futures:
            future.result()
    finally:
        if blas:
            _set_blas_threads(_threads)


_piece = threading.local()  # ``running`` while this thread runs a piece of a split


def _run_piece(body, start: int, stop: int) -> None:
    _piece.running = True
    try:
        body(start, stop)
    finally:
        _piece.running = False


@functools.cache
def _blas_libraries() -> tuple:
    """threadpoolctl's controllers of the BLAS libraries loaded now (NumPy's among them), found once."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return ()
    return tuple(ThreadpoolController().select(user_api="blas").lib_controllers)


def _set_blas_threads(n: int) -> None:
    for library in _blas_libraries():
        library.set_num_threads(n)


_spin_shortened = False


def _shorten_blas_spin() -> None:
    """Once per process: idle OpenBLAS threads sleep after ``2**_BLAS_SPIN`` cycles (see the module docstring).

    OpenBLAS reads ``OPENBLAS_THREAD_TIMEOUT`` when it starts its threads, so
    the variable is set just long enough to be read, and the threads (idle:
    this runs between BLAS calls) are restarted. Only for OpenBLAS's own
    pthreads server, and only where it exports the two functions.
    """
    global _spin_shortened
    if _spin_shortened or "OPENBLAS_THREAD_TIMEOUT" in os.environ:
        return
    _spin_shortened = True
    servers = [lib.dynlib for lib in _blas_libraries()
               if lib.internal_api == "openblas" and lib.threading_layer == "pthreads"
               and all(hasattr(lib.dynlib, name) for name in ("openblas_read_env", "blas_thread_shutdown_"))]
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = str(_BLAS_SPIN)
    try:
        for server in servers:
            server.openblas_read_env()
            server.blas_thread_shutdown_()  # the next call starts them again, with the short spin
    finally:
        del os.environ["OPENBLAS_THREAD_TIMEOUT"]
