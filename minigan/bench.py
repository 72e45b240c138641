"""``python -m minigan.bench`` (also ``minigan bench``): time one GAN training step, minigan against PyTorch.

Three workloads, each a full step (one discriminator update, one generator
update, Adam) at batch 64 and 256:

- ``mlp``: MLP GAN on 784-d data (G 64-256-512-784, D 784-512-256-1), BCE losses;
- ``dcgan``: DCGAN for 28x28 images (latent 64, width 64, batch norm);
- ``wgan-gp``: the MLP pair with a Wasserstein critic and a gradient penalty (lambda 10).

When PyTorch is installed the identical architecture and step runs in the
same process, interleaved with minigan's (so both see the same machine
state), and the table reports the ratio minigan/PyTorch of the median times.
The header names the BLAS library, its core type and thread count, and the
kernel path. The first-call compile time of the numba kernels is measured in
fresh processes, once with an empty cache and once with a warm one.
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

__all__ = ["main", "run_benchmarks"]

LATENT, IMAGE, HIDDEN = 64, 784, (256, 512)


# -- minigan ------------------------------------------------------------------------------
def _minigan_step(workload: str, batch: int):
    import minigan as mg
    import minigan.nn.functional as F
    from minigan import losses, nn, optim
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
        with mg.no_grad():
            fake = G(mg.randn(batch, LATENT))
        real_out, fake_out = D(real), D(fake)
        if workload == "wgan-gp":
            d_loss = fake_out.mean() - real_out.mean() + losses.gradient_penalty(D, real, fake, 10.0)
        else:
            d_loss = (F.binary_cross_entropy_with_logits(real_out, ones)
                      + F.binary_cross_entropy_with_logits(fake_out, zeros))
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        D.requires_grad_(False)
        fake_out = D(G(mg.randn(batch, LATENT)))
        g_loss = -fake_out.mean() if workload == "wgan-gp" else F.binary_cross_entropy_with_logits(fake_out, ones)
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
        D.requires_grad_(True)

    return step


# -- PyTorch, the same thing ----------------------------------------------------------------
def _torch_step(workload: str, batch: int):
    import torch
    from torch import nn
    from torch.nn import functional as F

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
        with torch.no_grad():
            fake = G(latent())
        real_out, fake_out = D(real), D(fake)
        if workload == "wgan-gp":
            d_loss = fake_out.mean() - real_out.mean() + penalty(fake)
        else:
            d_loss = (F.binary_cross_entropy_with_logits(real_out, ones)
                      + F.binary_cross_entropy_with_logits(fake_out, zeros))
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        D.requires_grad_(False)
        fake_out = D(G(latent()))
        g_loss = -fake_out.mean() if workload == "wgan-gp" else F.binary_cross_entropy_with_logits(fake_out, ones)
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
        D.requires_grad_(True)

    return step


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


def run_benchmarks(workloads, batches, rounds: int = 5, steps: int = 10, warmup: int = 3,
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


_JIT_PROBE = """
import time, numpy as np
t = time.perf_counter()
from minigan.kernels import kernel_module
mod = kernel_module(np.zeros(1))
x = np.ones((2, 3, 6, 6), np.float32)
geometry = ((3, 3), (1, 1), (1, 1), (1, 1))
cols = mod.unfold(x, *geometry)
mod.fold(cols, (6, 6), *geometry)
print(time.perf_counter() - t)
"""


def jit_times() -> dict:
    """Seconds for the first kernel calls in a fresh process: with an empty numba cache, then with it warm."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        run = lambda: float(subprocess.run([sys.executable, "-c", _JIT_PROBE], env=env, capture_output=True,  # noqa
                                           text=True, check=True).stdout.strip().splitlines()[-1])
        return {"jit_cold_s": run(), "jit_cached_s": run()}


def machine_header() -> dict:
    from minigan import kernels

    info = {"python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine(),
            "cpu_count": os.cpu_count(), "kernels": kernels.backend()}
    try:
        from threadpoolctl import threadpool_info

        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if blas:
            info.update(blas=f"{blas[0].get('internal_api')} {blas[0].get('version')}",
                        blas_core=blas[0].get("architecture"), blas_threads=blas[0].get("num_threads"))
    except ImportError:
        pass
    if _torch_available():
        import torch

        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
    return info


def format_table(header: dict, rows: list[dict]) -> str:
    lines = ["  ".join(f"{k}={v}" for k, v in header.items()), ""]
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="minigan bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--workloads", nargs="+", default=["mlp", "dcgan", "wgan-gp"],
                   choices=["mlp", "dcgan", "wgan-gp"])
    p.add_argument("--batch", nargs="+", type=int, default=[64, 256])
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--steps", type=int, default=10, help="timed steps per round (default 10)")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is installed")
    p.add_argument("--no-jit", action="store_true", help="skip the compile-time measurement")
    p.add_argument("--json", help="also write the results to this JSON file")
    args = p.parse_args(argv)
    header = machine_header()
    if not args.no_jit and header["kernels"] == "numba":
        header.update({k: round(v, 3) for k, v in jit_times().items()})
    rows = run_benchmarks(args.workloads, args.batch, args.rounds, args.steps, with_torch=not args.no_torch)
    print(format_table(header, rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": header, "results": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
