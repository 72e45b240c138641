"""``minigan bench``: time one GAN training step, minigan against PyTorch and JAX.

The workloads (:mod:`minigan.bench.steps`) are timed interleaved with
PyTorch's in one process, so both see the same machine, and JAX's in a
process of its own per pass (:mod:`minigan.bench.measure`). Without
``--threads`` there are two passes: each library's defaults (minigan's
thread policy, :mod:`minigan.kernels.threads`), then one thread each. Each
table gives the median time per step, max/median over all timed steps (100
by default) and the ratios minigan/PyTorch and minigan/JAX; the header
names the BLAS library, the core type it detected, the thread counts, the
kernel path, the load average before and after, and the first-call compile
time of the numba kernels in fresh processes, with an empty cache and with
a warm one. ``--profile`` shows where the time goes instead.
"""

from minigan.bench.command import BenchUsageError, add_arguments, main, run
from minigan.bench.measure import format_table, jit_times, machine_header, run_benchmarks, run_profiles

__all__ = ["main", "run", "add_arguments", "BenchUsageError", "run_benchmarks", "run_profiles", "jit_times",
           "machine_header", "format_table"]
