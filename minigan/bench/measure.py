"""Measuring the workloads: timed and interleaved steps, profiles, compile time, the machine's description."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from minigan.bench.steps import JAX_WORKLOADS, _jax_step, _minigan_step, _torch_available, _torch_step, batches_for

# -- timing -------------------------------------------------------------------------------------
def _time(step, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return times


def run_benchmarks(workloads, batches, rounds: int = 5, steps: int = 20, warmup: int = 3,
                   with_torch: bool = True, threads: int | None = None) -> list[dict]:
    """Median ms per step over ``rounds`` x ``steps`` timed steps, minigan and PyTorch interleaved; JAX's
    (where installed, for its workloads) from a process of its own with ``threads`` threads (None: its default).
    ``batches`` None: each workload's default batches (:func:`~minigan.bench.steps.batches_for`)."""
    with_torch = with_torch and _torch_available()
    jax = _jax_medians_in_a_process(workloads, batches, rounds * steps, warmup, threads) if with_torch else {}
    results = []
    for workload in workloads:
        for batch in batches_for(workload, batches):
            steps_by_impl = {"minigan": _minigan_step(workload, batch)}
            if with_torch:
                steps_by_impl["torch"] = _torch_step(workload, batch)
            times = {name: [] for name in steps_by_impl}
            for name, step in steps_by_impl.items():
                _time(step, warmup)
            for _ in range(rounds):
                for name, step in steps_by_impl.items():
                    times[name] += _time(step, steps)
            row = {"workload": workload, "batch": batch}
            for name, ts in times.items():
                median = statistics.median(ts)
                row[f"{name}_ms"] = 1e3 * median
                row[f"{name}_steps_per_s"] = 1.0 / median
                row[f"{name}_max_over_median"] = max(ts) / median
            row["minigan_gflops"] = matrix_flops(workload, batch) / (row["minigan_ms"] * 1e6)
            if with_torch:
                row["ratio"] = row["minigan_ms"] / row["torch_ms"]
            if f"{workload} {batch}" in jax:
                row["jax_ms"] = jax[f"{workload} {batch}"]
                row["ratio_jax"] = row["minigan_ms"] / row["jax_ms"]
            results.append(row)
    return results


def matrix_flops(workload: str, batch: int) -> int:
    """Floating-point operations (2mnk per product) of the matrix products in one minigan step, counted as they
    run: the convolutions' and linear layers' share of the work, which the GEMM peak bounds."""
    from minigan.ops import convolution, linalg

    count = [0]

    def counting(primitive, flops):
        forward = primitive.forward

        def counted(*arrays, **kwargs):
            count[0] += flops(*arrays, **kwargs)
            return forward(*arrays, **kwargs)

        return forward, counted

    products = {  # each weight entry meets every (image, position) pair once, in a multiply and an add
        linalg._matmul: lambda a, b: 2 * int(np.prod(a.shape[:-1])) * a.shape[-1] * b.shape[-1],
        linalg.affine: lambda x, w, b: 2 * int(np.prod(x.shape[:-1])) * w.size,
        convolution._conv2d: lambda x, w, *bias, output_size, **_: 2 * w.size * x.shape[0] * int(np.prod(output_size)),
        convolution._conv_transpose2d: lambda x, w, *bias, **_: 2 * w.size * int(np.prod(x.shape)) // x.shape[1],
        convolution._conv2d_weight: lambda x, y, kernel_size, **_: 2 * x.shape[1] * int(np.prod(kernel_size)) * y.size}
    step = _minigan_step(workload, batch)
    step()  # the first step may differ (optimiser state): count a steady one
    originals = {}
    try:
        for primitive, flops in products.items():
            originals[primitive], primitive.forward = counting(primitive, flops)
        step()
    finally:
        for primitive, forward in originals.items():
            primitive.forward = forward
    return count[0]


def gemm_peak(size: int = 2048, repeats: int = 3) -> float:
    """GFLOP/s of NumPy's BLAS on a square float32 product with the current threads, best of ``repeats``."""
    a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
    a @ a
    best = min(_time(lambda: a @ a, repeats))
    return 2 * size**3 / best / 1e9


def jax_medians(workloads, batches, steps: int, warmup: int) -> dict[str, float]:
    """``{"mlp 64": ms, ...}``: JAX's median step time for each of its workloads, in this process."""
    medians = {}
    for workload in (w for w in workloads if w in JAX_WORKLOADS):
        for batch in batches_for(workload, batches):
            step = _jax_step(workload, batch)
            _time(step, warmup)
            medians[f"{workload} {batch}"] = 1e3 * statistics.median(_time(step, steps))
    return medians


def _jax_medians_in_a_process(workloads, batches, steps: int, warmup: int, threads: int | None) -> dict:
    """:func:`jax_medians` in a fresh process, whose XLA gets ``threads`` threads (None: its default, every core).

    XLA fixes its thread pool when it starts, so each thread count needs a process of its own.
    """
    if importlib.util.find_spec("jax") is None or not any(w in JAX_WORKLOADS for w in workloads):
        return {}
    env = dict(os.environ)
    if threads is not None:
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false "
                            f"intra_op_parallelism_threads={threads}").strip()
    code = ("import json, sys; from minigan.bench.measure import jax_medians; "
            f"print(json.dumps(jax_medians({list(workloads)!r}, {batches and list(batches)!r}, {steps}, {warmup})))")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if run.returncode != 0:  # a JAX that cannot run here: the table goes without it
        return {}
    return json.loads(run.stdout.strip().splitlines()[-1])


PHASES = ("D forward", "D backward", "D optimiser", "G forward", "G backward", "G optimiser")


def profile_minigan(workload: str, batch: int, steps: int, warmup: int = 3) -> str:
    """minigan's profile of ``steps`` steps (after ``warmup``): phases, primitives and layers, ms per step."""
    from minigan.autograd import profiler

    step = _minigan_step(workload, batch)
    _time(step, warmup)
    with profiler.profile(step.networks) as prof:
        _time(step, steps)
    return prof.table(steps)


def profile_torch(workload: str, batch: int, steps: int, warmup: int = 3, top: int = 25) -> str:
    """PyTorch's profiler on the same step: phases, then operators by self CPU time, ms per step."""
    from torch.profiler import ProfilerActivity, profile

    step = _torch_step(workload, batch)
    _time(step, warmup)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        _time(step, steps)
    events = prof.key_averages()
    ms = 1e-3 / steps  # the profiler counts microseconds
    lines = ["| phase | ms/step |", "|---|---|"]
    lines += [f"| {e.key} | {e.cpu_time_total * ms:.2f} |" for name in PHASES for e in events if e.key == name]
    lines += ["", "| operator | self ms | calls/step |", "|---|---|---|"]
    ops = sorted((e for e in events if e.key not in PHASES), key=lambda e: -e.self_cpu_time_total)[:top]
    lines += [f"| {e.key} | {e.self_cpu_time_total * ms:.2f} | {e.count / steps:g} |" for e in ops]
    return "\n".join(lines)


def run_profiles(workloads, batches, steps: int, with_torch: bool = True) -> str:
    """The profile tables of every workload and batch, minigan's and (when installed) PyTorch's."""
    with_torch = with_torch and _torch_available()
    parts = []
    for workload in workloads:
        for batch in batches_for(workload, batches):
            parts += [f"## {workload}, batch {batch}", "", "### minigan", "", profile_minigan(workload, batch, steps)]
            if with_torch:
                parts += ["", "### PyTorch", "", profile_torch(workload, batch, steps)]
            parts.append("")
    return "\n".join(parts)


_JIT_PROBE = """
import time
t = time.perf_counter()
import numpy as np
from minigan.kernels import numba_cpu as k
x = np.ones((2, 3, 6, 6), np.float32)
geometry = ((3, 3), (1, 1), (1, 1), (2, 2))
k.fold(k.unfold(x, *geometry), (6, 6), *geometry)
k.col2im(k.im2col(x, *geometry), (6, 6), *geometry)
k.leaky_relu_backward(x, k.leaky_relu(x, 0.2), 0.2)
xhat = k.standardize(x, (0, 2, 3), 1e-5)
k.standardize_backward(x, xhat, x, (0, 2, 3), 1e-5)
k.moments(x, (0, 2, 3))
c = np.ones(3, np.float32)
k.batch_norm_backward(x, x, c, c, c)
k.batch_norm(x, c, c, c, c)
p, g, m, v = np.ones(4, np.float32), np.ones(4, np.float32), np.zeros(4, np.float32), np.zeros(4, np.float32)
k.adam_update(p, g, m, v, None, step=1, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
              amsgrad=False, maximize=False)
k.sgd_update(p, g, m, first_step=True, lr=1e-3, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False,
             maximize=False)
k.rmsprop_update(p, g, m, None, None, lr=1e-3, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, maximize=False)
print(time.perf_counter() - t)
"""


def jit_times() -> dict:
    """Seconds to import the numba kernels and call each once (float32), in a fresh process: with an empty
    numba cache (everything compiles), then with the cache that run filled."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}

        def run() -> float:
            probe = subprocess.run([sys.executable, "-c", _JIT_PROBE], env=env, capture_output=True, text=True,
                                   check=True)
            return float(probe.stdout.strip().splitlines()[-1])

        return {"jit_cold_s": run(), "jit_cached_s": run()}


_MEMORY_PROBE = """
import gc, json, sys
from minigan import kernels
kernels.apply_policy()
from minigan.bench.steps import _minigan_step, _torch_step
make = {"minigan": _minigan_step, "torch": _torch_step}[sys.argv[1]]
warm = make(sys.argv[2], 2)  # compiles and loads every kernel the step needs, at a size that leaves no heap behind
warm()
del warm
gc.collect()
step = make(sys.argv[2], int(sys.argv[3]))

def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key))

with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak resident set starts again from the current one
before = status("VmRSS:")
step()
step()
print(json.dumps((status("VmHWM:") - before) / 1024))
"""


def step_memory(library: str, workload: str, batch: int, repeats: int = 3) -> float | None:
    """MiB a training step adds to a fresh process at its peak: the highest resident set over two steps less
    the resident set once kernels, networks, optimisers and data exist; the median of ``repeats`` processes,
    since the allocator's choices move it from one process to the next (Linux; None elsewhere or on failure)."""
    if not Path("/proc/self/clear_refs").exists():
        return None
    peaks = []
    for _ in range(repeats):
        run = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, library, workload, str(batch)],
                             capture_output=True, text=True)
        if run.returncode != 0:
            return None
        peaks.append(json.loads(run.stdout.strip().splitlines()[-1]))
    return statistics.median(peaks)


def memory_rows(workloads, batches, with_torch: bool) -> dict[str, dict]:
    """``{"dcgan 256": {"minigan_mib": ..., "torch_mib": ...}, ...}``, each step in a fresh process."""
    libraries = ["minigan"] + (["torch"] if with_torch and _torch_available() else [])
    return {f"{w} {b}": {f"{lib}_mib": step_memory(lib, w, b) for lib in libraries}
            for w in workloads for b in batches_for(w, batches)}


def machine_header() -> dict:
    from minigan import kernels

    info = {"python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine(),
            "cpu_count": os.cpu_count(), "kernels": kernels.backend(), "threads": kernels.num_threads(),
            "malloc": kernels.memory.policy()}
    try:
        from threadpoolctl import threadpool_info

        def not_numpys(p: dict) -> bool:  # SciPy and PyTorch may load BLAS libraries of their own
            return "numpy" not in Path(p.get("filepath", "")).parent.name

        blas = sorted((p for p in threadpool_info() if p.get("user_api") == "blas"), key=not_numpys)
        if blas:
            info.update(blas=f"{blas[0].get('internal_api')} {blas[0].get('version')}",
                        blas_core=blas[0].get("architecture"), blas_threads=blas[0].get("num_threads"))
    except ImportError:
        pass
    if _torch_available():
        import torch

        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
    if importlib.util.find_spec("jax") is not None:
        from importlib.metadata import version

        info["jax"] = version("jax")
    return info


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def format_table(header: dict, rows: list[dict], memory: dict | None = None) -> str:
    """The header, then a markdown table of ``rows`` with the step's memory (``memory_rows``) where measured."""
    items = [f"{k}={v}" for k, v in header.items()]
    lines = ["  ".join(items[i:i + 6]) for i in range(0, len(items), 6)] + [""]
    memory = memory or {}
    has_torch, has_jax = "torch_ms" in rows[0], any("jax_ms" in r for r in rows)
    has_memory = any(v is not None for m in memory.values() for v in m.values())
    cols = (["workload", "batch", "minigan ms", "steps/s", "max/median", "GFLOP/s"]
            + (["torch ms", "ratio", "torch max/median"] if has_torch else [])
            + (["jax ms", "vs jax"] if has_jax else [])
            + (["step MiB"] + (["torch MiB"] if has_torch else []) if has_memory else []))
    lines.append("| " + " | ".join(cols) + " |")
    lines.append("|" + "|".join("---" for _ in cols) + "|")
    for r in rows:
        cells = [r["workload"], str(r["batch"]), f"{r['minigan_ms']:.1f}", f"{r['minigan_steps_per_s']:.1f}",
                 f"{r['minigan_max_over_median']:.2f}", f"{r['minigan_gflops']:.0f}"]
        if has_torch:
            cells += [f"{r['torch_ms']:.1f}", f"{r['ratio']:.2f}", f"{r['torch_max_over_median']:.2f}"]
        if has_jax:
            cells += [f"{r['jax_ms']:.1f}", f"{r['ratio_jax']:.2f}"] if "jax_ms" in r else ["", ""]
        if has_memory:
            mib = memory.get(f"{r['workload']} {r['batch']}", {})
            cells += [_mib(mib.get("minigan_mib"))] + ([_mib(mib.get("torch_mib"))] if has_torch else [])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _mib(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"
