import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import minigan as mg

# Gradient checks are slow per example, so hypothesis draws fewer, without deadlines;
# CI derandomises so every run checks the same cases.
settings.register_profile("default", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.register_profile("thorough", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default"))


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread_per_worker():
    """Under pytest-xdist each worker has a core of its own: a second BLAS thread would only fight the other worker."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            yield
    else:
        yield


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state."""
    mg.manual_seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def example(tmp_path):
    """Run ``examples/<name>.py`` in-process with its short settings; returns what its ``main`` returns."""
    import importlib.util
    from pathlib import Path

    def run(name: str, *args: str):
        path = Path(__file__).resolve().parent.parent / "examples" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"examples_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.main(["--quick", "--out", str(tmp_path), *args])

    threads = mg.kernels.num_threads()  # an example may set its own, for its process
    yield run
    if mg.kernels.num_threads() != threads:
        mg.kernels.set_num_threads(threads or 1)
