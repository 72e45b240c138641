"""``python -m minigan.bench``: time one GAN training step, minigan against PyTorch.

Three workloads, each a full step (one discriminator update, one generator
update, Adam) at batch 64 and 256:

- ``mlp``: MLP GAN on 784-d data (G 64-256-512-784, D 784-512-256-1), BCE losses;
- ``dcgan``: DCGAN for 28x28 images (latent 64, width 64, batch norm);
- ``wgan-gp``: the MLP pair with a Wasserstein critic and a gradient penalty (lambda 10).

When PyTorch is installed the identical architecture and step runs in the
same process, interleaved with minigan's (so both see the same machine
state), with as many threads as minigan's BLAS has (see
:mod:`minigan.kernels.threads`); the table reports the ratio minigan/PyTorch
of the median times and max/median over all timed steps (100 by default).
The header names the BLAS library, the core type it detected, the thread
counts, the kernel path and the load average before and after. The first-call
compile time of the numba kernels is measured in fresh processes, once with
an empty cache and once with a warm one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

__all__ = ["main", "run", "add_arguments", "run_benchmarks"]

LATENT, IMAGE, HIDDEN = 64, 784, (256, 512)


# -- minigan ------------------------------------------------------------------------------
def _minigan_step(workload: str, batch: int):
    import minigan as mg
    import minigan.nn.functional as F
    from minigan import losses, nn, optim
    from minigan.autograd.profiler import phase
    from minigan.models import DCGANDiscriminator, DCGANGenerator

    mg.manual_seed(0)
    if workload == "dcgan":
        G, D = DCGANGenerator(LATENT, 28, 1, 64), DCGANDiscriminator(28, 1, 64)
        real = mg.randn(batch, 1, 28, 28).tanh()
    else:
        G = nn.Sequential(nn.Linear(LATENT, HIDDEN[0]), nn.ReLU(), nn.Linear(HIDDEN[0], HIDDEN[1]), nn.ReLU(),
                          nn.Linear(HIDDEN[1], IMAGE), nn.Tanh())
        D = nn.Sequential(nn.Linear(IMAGE, HIDDEN[1]), nn.LeakyReLU(0.2), nn.Linear(HIDDEN[1], HIDDEN[0]),
                          nn.LeakyReLU(0.2), nn.Linear(HIDDEN[0], 1))
        real = mg.randn(batch, IMAGE).tanh()
    betas = (0.5, 0.9) if workload == "wgan-gp" else (0.5, 0.999)
    g_opt, d_opt = optim.Adam(G.parameters(), 2e-4, betas), optim.Adam(D.parameters(), 2e-4, betas)
    ones, zeros = mg.ones(batch, 1), mg.zeros(batch, 1)

    def step():
        with phase("D forward"):
            with mg.no_grad():
                fake = G(mg.randn(batch, LATENT))
            real_out, fake_out = D(real), D(fake)
            if workload == "wgan-gp":
                d_loss = fake_out.mean() - real_out.mean() + losses.gradient_penalty(D, real, fake, 10.0)
            else:
                d_loss = (F.binary_cross_entropy_with_logits(real_out, ones)
                          + F.binary_cross_entropy_with_logits(fake_out, zeros))
        with phase("D backward"):
            d_opt.zero_grad()
            d_loss.backward()
        with phase("D optimiser"):
            d_opt.step()
        with phase("G forward"):
            D.requires_grad_(False)
            fake_out = D(G(mg.randn(batch, LATENT)))
            g_loss = -fake_out.mean() if workload == "wgan-gp" else F.binary_cross_entropy_with_logits(fake_out, ones)
        with phase("G backward"):
            g_opt.zero_grad()
            g_loss.backward()
        with phase("G optimiser"):
            g_opt.step()
            D.requires_grad_(True)

    step.networks = {"G": G, "D": D}
    return step


# -- PyTorch, the same thing ----------------------------------------------------------------
def _torch_step(workload: str, batch: int):
    import torch
    from torch import nn
    from torch.nn import functional as F
    from torch.autograd.profiler import record_function as phase

    torch.manual_seed(0)
    if workload == "dcgan":
        G = nn.Sequential(nn.ConvTranspose2d(LATENT, 128, 7, 1, 0, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
                          nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                          nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
        D = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
                          nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
                          nn.Conv2d(128, 1, 7, 1, 0), nn.Flatten())
        real = torch.randn(batch, 1, 28, 28).tanh()
        latent = lambda: torch.randn(batch, LATENT, 1, 1)  # noqa: E731
    else:
        G = nn.Sequential(nn.Linear(LATENT, HIDDEN[0]), nn.ReLU(), nn.Linear(HIDDEN[0], HIDDEN[1]), nn.ReLU(),
                          nn.Linear(HIDDEN[1], IMAGE), nn.Tanh())
        D = nn.Sequential(nn.Linear(IMAGE, HIDDEN[1]), nn.LeakyReLU(0.2), nn.Linear(HIDDEN[1], HIDDEN[0]),
                          nn.LeakyReLU(0.2), nn.Linear(HIDDEN[0], 1))
        real = torch.randn(batch, IMAGE).tanh()
        latent = lambda: torch.randn(batch, LATENT)  # noqa: E731
    betas = (0.5, 0.9) if workload == "wgan-gp" else (0.5, 0.999)
    try:
        g_opt = torch.optim.Adam(G.parameters(), 2e-4, betas, fused=True)
        d_opt = torch.optim.Adam(D.parameters(), 2e-4, betas, fused=True)
    except (RuntimeError, TypeError):
        g_opt, d_opt = torch.optim.Adam(G.parameters(), 2e-4, betas), torch.optim.Adam(D.parameters(), 2e-4, betas)
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def penalty(fake):
        eps = torch.rand(batch, *([1] * (real.ndim - 1)))
        mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
        (g,) = torch.autograd.grad(D(mixed).sum(), mixed, create_graph=True)
        return 10.0 * ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()

    def step():
        with phase("D forward"):
            with torch.no_grad():
                fake = G(latent())
            real_out, fake_out = D(real), D(fake)
            if workload == "wgan-gp":
                d_loss = fake_out.mean() - real_out.mean() + penalty(fake)
            else:
                d_loss = (F.binary_cross_entropy_with_logits(real_out, ones)
                          + F.binary_cross_entropy_with_logits(fake_out, zeros))
        with phase("D backward"):
            d_opt.zero_grad()
            d_loss.backward()
        with phase("D optimiser"):
            d_opt.step()
        with phase("G forward"):
            D.requires_grad_(False)
            fake_out = D(G(latent()))
            g_loss = -fake_out.mean() if workload == "wgan-gp" else F.binary_cross_entropy_with_logits(fake_out, ones)
        with phase("G backward"):
            g_opt.zero_grad()
            g_loss.backward()
        with phase("G optimiser"):
            g_opt.step()
            D.requires_grad_(True)

    return step


_TORCH_DEFAULT_THREADS: int | None = None


def _set_torch_threads(torch, threads: int | None) -> None:
    """PyTorch with ``threads`` intra-op threads, or with its own default (what it had when first seen)."""
    global _TORCH_DEFAULT_THREADS
    if _TORCH_DEFAULT_THREADS is None:
        _TORCH_DEFAULT_THREADS = torch.get_num_threads()
    torch.set_num_threads(threads or _TORCH_DEFAULT_THREADS)


def _set_threads(threads: int | None) -> None:
    """Both libraries with ``threads`` threads, or each with its default (minigan's policy, PyTorch's own)."""
    from minigan import kernels

    kernels.set_num_threads(threads or kernels.threads.policy_threads())
    if _torch_available():
        import torch

        _set_torch_threads(torch, threads)


# -- timing -------------------------------------------------------------------------------------
def _time(step, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return times


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def run_benchmarks(workloads, batches, rounds: int = 5, steps: int = 20, warmup: int = 3,
                   with_torch: bool = True) -> list[dict]:
    """Median ms per step over ``rounds`` x ``steps`` timed steps, minigan and PyTorch interleaved."""
    with_torch = with_torch and _torch_available()
    results = []
    for workload in workloads:
        for batch in batches:
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
            if with_torch:
                row["ratio"] = row["minigan_ms"] / row["torch_ms"]
            results.append(row)
    return results


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
        for batch in batches:
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


def machine_header() -> dict:
    from minigan import kernels

    info = {"python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine(),
            "cpu_count": os.cpu_count(), "kernels": kernels.backend(), "threads": kernels.num_threads(),
            "malloc": kernels.memory.policy()}
    try:
        from threadpoolctl import threadpool_info

        def not_numpys(p: dict) -> bool:  # PyTorch may load a BLAS of its own
            return "numpy" not in p.get("filepath", "") and "scipy_openblas" not in p.get("prefix", "")

        blas = sorted((p for p in threadpool_info() if p.get("user_api") == "blas"), key=not_numpys)
        if blas:
            info.update(blas=f"{blas[0].get('internal_api')} {blas[0].get('version')}",
                        blas_core=blas[0].get("architecture"), blas_threads=blas[0].get("num_threads"))
    except ImportError:
        pass
    if _torch_available():
        import torch

        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
    return info


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def format_table(header: dict, rows: list[dict]) -> str:
    items = [f"{k}={v}" for k, v in header.items()]
    lines = ["  ".join(items[i:i + 6]) for i in range(0, len(items), 6)] + [""]
    has_torch = "torch_ms" in rows[0]
    cols = ["workload", "batch", "minigan ms", "steps/s", "max/median"] + (["torch ms", "ratio"] if has_torch else [])
    lines.append("| " + " | ".join(cols) + " |")
    lines.append("|" + "|".join("---" for _ in cols) + "|")
    for r in rows:
        cells = [r["workload"], str(r["batch"]), f"{r['minigan_ms']:.1f}", f"{r['minigan_steps_per_s']:.1f}",
                 f"{r['minigan_max_over_median']:.2f}"]
        if has_torch:
            cells += [f"{r['torch_ms']:.1f}", f"{r['ratio']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _positive(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The benchmark's options, shared by ``minigan bench`` and ``python -m minigan.bench``."""
    p.add_argument("--workloads", nargs="+", default=["mlp", "dcgan", "wgan-gp"],
                   choices=["mlp", "dcgan", "wgan-gp"])
    p.add_argument("--batch", nargs="+", type=_positive, default=[64, 256])
    p.add_argument("--rounds", type=_positive, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--steps", type=_positive, default=20, help="timed steps per round (default 20)")
    p.add_argument("--threads", type=_positive, help="threads for minigan and PyTorch alike (default: two "
                                                     "passes, each library's defaults, then one thread each)")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is installed")
    p.add_argument("--no-jit", action="store_true", help="skip the compile-time measurement")
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--profile", action="store_true",
                   help="instead of timing, profile --steps steps: time per phase, per primitive (forward and "
                        "VJP apart) and per layer, and PyTorch's per-operator times for the same step")


def _passes(threads: int | None) -> list[tuple[str, int | None]]:
    """What to measure: each library's defaults and one thread each, or ``threads`` each when it is given."""
    if threads is not None:
        return [(f"{threads} thread{'s' if threads > 1 else ''} each", threads)]
    return [("defaults", None), ("one thread each", 1)]


def run(args: argparse.Namespace) -> None:
    """Run the benchmark that ``args`` (from :func:`add_arguments`) describes and print its tables."""
    from minigan import kernels

    kernels.apply_policy()
    jit = {}
    if not args.no_jit and not args.profile and kernels.backend() == "numba":
        jit = {k: round(v, 3) for k, v in jit_times().items()}
    report = {}
    for name, threads in _passes(args.threads):
        _set_threads(threads)
        header = {"pass": name, **machine_header(), **jit}
        if args.profile:
            items = [f"{k}={v}" for k, v in header.items()]
            print("  ".join(items), "", run_profiles(args.workloads, args.batch, args.steps, not args.no_torch),
                  sep="\n")
            continue
        header["load_before"] = _load()
        rows = run_benchmarks(args.workloads, args.batch, args.rounds, args.steps, with_torch=not args.no_torch)
        header["load_after"] = _load()
        print(format_table(header, rows), end="\n\n", flush=True)
        report[name] = {"machine": header, "results": rows}
    if args.json and report:
        from minigan.serialization import atomic_path

        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(report, indent=2))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m minigan.bench",
                                description="Time one GAN training step, minigan against PyTorch.")
    add_arguments(p)
    run(p.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
