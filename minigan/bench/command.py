"""The benchmark's command line: ``minigan bench`` and ``python -m minigan.bench`` share it."""

from __future__ import annotations

import argparse
import json
import sys

from minigan.bench.measure import (_load, format_table, gemm_peak, jit_times, machine_header, memory_rows,
                                   run_benchmarks, run_profiles)
from minigan.bench.steps import TRANSLATION, WORKLOADS, _set_threads
from minigan.kernels.settings import SettingError

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
    p.add_argument("--workloads", nargs="+", default=["mlp", "dcgan", "wgan-gp"], choices=WORKLOADS,
                   help="default: mlp dcgan wgan-gp; the image-to-image steps (" + ", ".join(TRANSLATION)
                        + ") only when named")
    own = ", ".join(f"{name} {workload.batch}" for name, workload in TRANSLATION.items())
    p.add_argument("--batch", nargs="+", type=_positive,
                   help="batch sizes, given to every workload named (default: 64 and 256; an image-to-image "
                        f"workload its recipe's batch: {own}); to time image-to-image workloads at other sizes, "
                        "name them on their own")
    p.add_argument("--rounds", type=_positive, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--steps", type=_positive, default=20, help="timed steps per round (default 20)")
    p.add_argument("--threads", type=_positive, help="threads for minigan and PyTorch alike (default: two "
                                                     "passes, each library's defaults, then one thread each)")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch and JAX even if they are installed")
    p.add_argument("--no-jit", action="store_true", help="skip the compile-time measurement")
    p.add_argument("--memory", action="store_true",
                   help="also measure the memory a step adds at its peak: each library in fresh processes, the "
                        "median of three")
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--profile", action="store_true",
                   help="instead of timing, profile --steps steps: time per phase, per primitive (forward and "
                        "VJP apart) and per layer, and PyTorch's per-operator times for the same step")


def _passes(threads: int | None) -> list[tuple[str, int | None]]:
    """What to measure: each library's defaults and one thread each, or ``threads`` each when it is given."""
    if threads is not None:
        return [(f"{threads} thread{'s' if threads > 1 else ''} each", threads)]
    return [("defaults", None), ("one thread each", 1)]


class BenchUsageError(Exception):
    """Options the benchmark cannot honour, found before any measuring: one line and status 2 on the command line."""


def _check(args: argparse.Namespace) -> None:
    """Refuse what would only fail (or be silently dropped) after minutes of measuring."""
    from minigan.serialization import unwritable

    if args.json and args.profile:
        raise BenchUsageError("--json saves the timing tables, which --profile does not make; drop one of them")
    if args.json and (problem := unwritable(args.json)) is not None:
        raise BenchUsageError(f"--json {args.json}: {problem}")


def run(args: argparse.Namespace) -> None:
    """Run the benchmark that ``args`` (from :func:`add_arguments`) describes and print its tables."""
    from minigan import kernels

    _check(args)
    kernels.apply_policy()
    jit, memory = {}, {}
    if not args.no_jit and not args.profile and kernels.backend() == "numba":
        jit = {k: round(v, 3) for k, v in jit_times().items()}
    if args.memory and not args.profile:
        memory = memory_rows(args.workloads, args.batch, with_torch=not args.no_torch)
    report = {}
    for name, threads in _passes(args.threads):
        _set_threads(threads)
        header = {"pass": name, **machine_header(), **jit}
        if args.profile:
            items = [f"{k}={v}" for k, v in header.items()]
            print("  ".join(items), "", run_profiles(args.workloads, args.batch, args.steps, not args.no_torch),
                  sep="\n")
            continue
        header["gemm_peak_gflops"] = round(gemm_peak())
        header["load_before"] = _load()
        rows = run_benchmarks(args.workloads, args.batch, args.rounds, args.steps, with_torch=not args.no_torch,
                              threads=threads)
        header["load_after"] = _load()
        print(format_table(header, rows, memory), end="\n\n", flush=True)
        report[name] = {"machine": header, "results": rows, "memory_mib": memory}
    if args.json and report:
        from minigan.serialization import atomic_path

        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(report, indent=2))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m minigan.bench",
                                description="Time one GAN training step, minigan against PyTorch.")
    add_arguments(p)
    args = p.parse_args(argv)
    try:
        run(args)
    except (BenchUsageError, SettingError) as err:  # as the minigan command reports them
        print(f"minigan: {err}", file=sys.stderr)
        return 2
    return 0
