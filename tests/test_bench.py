"""The benchmark command: each library's defaults, then one thread each, in one table per pass."""

import json
import os
import subprocess
import sys

import pytest

from minigan import bench, kernels
from minigan.bench.steps import _torch_available


def test_the_benchmark_measures_defaults_and_one_thread_each(tmp_path, capsys):
    before = kernels.num_threads()
    try:
        assert bench.main(["--workloads", "mlp", "--batch", "4", "--rounds", "1", "--steps", "2", "--no-jit",
                           "--json", str(tmp_path / "bench.json")]) == 0
    finally:
        kernels.set_num_threads(before or 1)
    out = capsys.readouterr().out
    assert out.count("| workload | batch |") == 2 and "pass=defaults" in out and "pass=one thread each" in out
    report = json.loads((tmp_path / "bench.json").read_text())
    assert list(report) == ["defaults", "one thread each"]
    assert report["one thread each"]["machine"]["threads"] == 1
    for run in report.values():
        (row,) = run["results"]
        assert row["workload"] == "mlp" and row["batch"] == 4 and row["minigan_ms"] > 0
        if _torch_available():
            assert row["ratio"] == row["minigan_ms"] / row["torch_ms"]


def test_threads_given_measure_one_pass(tmp_path, capsys):
    before = kernels.num_threads()
    try:
        bench.main(["--workloads", "wgan-gp", "--batch", "4", "--rounds", "1", "--steps", "1", "--no-jit",
                    "--threads", "2", "--no-torch"])
    finally:
        kernels.set_num_threads(before or 1)
    out = capsys.readouterr().out
    assert out.count("| workload | batch |") == 1 and "pass=2 threads each" in out and "torch ms" not in out


def test_jax_reference_times_its_workloads_in_a_process_of_its_own():
    pytest.importorskip("jax")
    from minigan.bench.measure import _jax_medians_in_a_process

    medians = _jax_medians_in_a_process(["mlp", "dcgan", "wgan-gp"], [4], steps=2, warmup=1, threads=1)
    assert set(medians) == {"mlp 4", "wgan-gp 4"} and all(ms > 0 for ms in medians.values())


def test_memory_of_a_step_is_measured_in_a_fresh_process_and_grows_with_the_batch():
    from minigan.bench.measure import step_memory

    if not os.path.exists("/proc/self/clear_refs"):
        pytest.skip("needs Linux's /proc/self/clear_refs")
    small, large = step_memory("minigan", "mlp", 8, repeats=1), step_memory("minigan", "mlp", 512, repeats=1)
    assert small is not None and large is not None and 0 <= small < large


def test_matrix_flops_are_counted_per_step_and_scale_with_the_batch():
    from minigan.bench.measure import gemm_peak, matrix_flops
    from minigan.ops import convolution, linalg

    counted = (linalg._matmul, linalg.affine, convolution._conv2d, convolution._conv_transpose2d)
    forwards = [p.forward for p in counted]
    for workload in ("mlp", "wgan-gp", "dcgan"):
        small, large = matrix_flops(workload, 4), matrix_flops(workload, 8)
        assert 0 < small and large == 2 * small  # every product in a step is linear in the batch
    assert [p.forward for p in counted] == forwards  # the counters are removed
    # DCGAN at batch 1, by hand: G 64->128x7x7 (dense), 128->64 (4x4 over 7x7 inputs), 64->1 (4x4 over 14x14);
    # D 1->64 (4x4 onto 14x14), 64->128 (4x4 onto 7x7), 128x7x7->1 (dense). Backward costs a layer's forward
    # products once for its weight and once for its input, each only where needed.
    g_first, d_first = 2 * 64 * 128 * 49, 2 * 64 * 16 * 196
    g = g_first + 2 * (128 * 64 * 16 * 49 + 64 * 16 * 196)
    d = d_first + 2 * (128 * 64 * 16 * 49 + 128 * 49)
    d_step = g + 2 * d + 2 * (d + d - d_first)  # G without grad; D on real and fake, neither input needs grad
    g_step = g + d + d + g + (g - g_first)      # D frozen: only its input gradients; the latent needs none
    assert matrix_flops("dcgan", 1) == d_step + g_step
    assert gemm_peak(size=128, repeats=2) > 0


@pytest.mark.parametrize("argv, env, fragment", [
    (["--json", "nodir/bench.json"], {}, "--json nodir/bench.json: folder nodir does not exist"),
    (["--profile", "--json", "bench.json"], {}, "--json saves the timing tables"),
    (["--no-jit"], {"MINIGAN_NUM_THREADS": "two"}, "MINIGAN_NUM_THREADS must be a positive integer, got 'two'"),
])
def test_python_m_minigan_bench_reports_a_user_mistake_in_one_line_before_measuring(argv, env, fragment, tmp_path):
    run = subprocess.run([sys.executable, "-m", "minigan.bench", *argv], cwd=tmp_path, capture_output=True,
                         text=True, env={**os.environ, **env}, timeout=120)
    assert run.returncode == 2 and run.stdout == ""  # nothing measured
    assert run.stderr.splitlines() == [run.stderr.strip()] and fragment in run.stderr
    assert list(tmp_path.iterdir()) == []
