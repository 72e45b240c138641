"""Every numba kernel against its NumPy reference, on hypothesis-drawn shapes, geometries and hyper-parameters.

The reference is the definition (minigan.kernels.reference); the numba twins must agree with it in float32
and float64. One test runs the twins' loop bodies as plain Python (each njit function's ``py_func``), so
coverage sees them. No test here measures time.
"""

import contextlib
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigan import kernels
from minigan.kernels import reference
from minigan.testing.strategies import conv_geometries

numba_cpu = pytest.importorskip("minigan.kernels.numba_cpu")

DTYPES = [np.float32, np.float64]


def tolerance(dtype):
    return {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}


def random(rng, shape, dtype, scale=1.0, shift=0.0):
    return np.asarray(rng.standard_normal(shape) * scale + shift, dtype=dtype)


seeds = st.integers(0, 2**32 - 1)


def geometry_args(g):
    return g.kernel_size, g.dilation, g.padding, g.stride


@contextlib.contextmanager
def split_into(threads: int):
    """Every kernel call split across ``threads``, and convolutions taken one image per chunk."""
    from minigan.kernels.numba_cpu import activation, conv, convolution, normalization

    before = kernels.num_threads()
    modules = (activation, conv, convolution, normalization)
    sizes = [m._PARALLEL_ELEMENTS for m in modules]
    chunk = convolution._CHUNK_BYTES
    try:
        kernels.set_num_threads(threads)
        for m in modules:
            m._PARALLEL_ELEMENTS = 0
        convolution._CHUNK_BYTES = 1
        yield
    finally:
        kernels.set_num_threads(before or 1)
        for m, size in zip(modules, sizes):
            m._PARALLEL_ELEMENTS = size
        convolution._CHUNK_BYTES = chunk


# -- convolution: unfold/fold (N, C*kh*kw, L) and im2col/col2im (C*kh*kw, N*L) ----------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@given(g=conv_geometries(max_size=9, max_stride=4), seed=seeds)
def test_conv_kernels_match_reference(dtype, g, seed):
    rng = np.random.default_rng(seed)
    x = random(rng, g.input_shape, dtype)
    for gather, scatter in [("unfold", "fold"), ("im2col", "col2im")]:
        cols = getattr(reference, gather)(x, *geometry_args(g))
        np.testing.assert_array_equal(getattr(numba_cpu, gather)(x, *geometry_args(g)), cols)
        y = random(rng, cols.shape, dtype)
        expected = getattr(reference, scatter)(y, (g.height, g.width), *geometry_args(g))
        got = getattr(numba_cpu, scatter)(y, (g.height, g.width), *geometry_args(g))
        assert got.shape == x.shape and got.dtype == dtype and got.flags.c_contiguous
        np.testing.assert_allclose(got, expected, **tolerance(dtype))


@given(g=conv_geometries(), seed=seeds)
def test_im2col_and_col2im_are_adjoint(g, seed):
    r""":math:`\langle \mathrm{im2col}(x), y\rangle = \langle x, \mathrm{col2im}(y)\rangle`: each is the other's VJP."""
    rng = np.random.default_rng(seed)
    x = random(rng, g.input_shape, np.float64)
    cols = reference.im2col(x, *geometry_args(g))
    y = random(rng, cols.shape, np.float64)
    np.testing.assert_allclose(np.vdot(cols, y), np.vdot(x, reference.col2im(y, x.shape[2:], *geometry_args(g))))


TRANSPOSES = [((1, 1), (1, 1), (0, 0), (1, 1)),   # a 1x1 kernel
              ((5, 2), (1, 1), (0, 0), (3, 2))]   # a kernel as large as the image


@pytest.mark.parametrize("geometry", TRANSPOSES)
@pytest.mark.parametrize("gather, scatter", [("unfold", "fold"), ("im2col", "col2im")])
def test_plain_transposes_match_and_leave_the_input_untouched(geometry, gather, scatter, rng):
    """Where im2col is a plain transpose the twins take a shortcut; it must give fresh arrays all the same."""
    x = random(rng, (3, 4, 5, 2), np.float32)
    cols = getattr(numba_cpu, gather)(x, *geometry)
    np.testing.assert_array_equal(cols, getattr(reference, gather)(x, *geometry))
    image = getattr(numba_cpu, scatter)(cols, (5, 2), *geometry)
    np.testing.assert_array_equal(image, getattr(reference, scatter)(cols, (5, 2), *geometry))
    cols[...] = 0
    image[...] = 0
    assert np.abs(x).min() > 0


def test_conv_kernels_accept_non_contiguous_input(rng):
    x = random(rng, (4, 3, 7, 6), np.float32).transpose(0, 1, 3, 2)  # (4, 3, 6, 7), strided
    geometry = ((3, 2), (1, 2), (1, 1), (2, 1))
    np.testing.assert_array_equal(numba_cpu.im2col(x, *geometry), reference.im2col(x, *geometry))


# -- convolution and its two gradients, a chunk of images at a time ------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 3])
@given(g=conv_geometries(max_size=9, max_stride=3), seed=seeds)
def test_convolution_kernels_match_reference(dtype, threads, g, seed):
    """conv2d, conv_transpose2d and conv2d_weight in chunks of images, on one thread or split over three."""
    rng = np.random.default_rng(seed)
    geometry = g.dilation, g.padding, g.stride
    x, w, y = (random(rng, shape, dtype) for shape in (g.input_shape, g.weight_shape, g.output_shape))
    with split_into(threads):
        got = [numba_cpu.conv2d(x, w, *geometry, g.output_size),
               numba_cpu.conv_transpose2d(y, w, *geometry, x.shape[2:]),
               numba_cpu.conv2d_weight(x, y, g.kernel_size, *geometry)]
    expected = [reference.conv2d(x, w, *geometry, g.output_size),
                reference.conv_transpose2d(y, w, *geometry, x.shape[2:]),
                reference.conv2d_weight(x, y, g.kernel_size, *geometry)]
    for a, b in zip(got, expected):
        assert a.shape == b.shape and a.dtype == dtype and a.flags.c_contiguous
        np.testing.assert_allclose(a, b, **tolerance(dtype))


@given(g=conv_geometries(), seed=seeds)
def test_convolution_kernels_are_adjoint(g, seed):
    r""":math:`\langle \mathrm{conv2d}(x, W), y\rangle = \langle x, \mathrm{conv\_transpose2d}(y, W)\rangle
    = \langle W, \mathrm{conv2d\_weight}(x, y)\rangle`: the identities the three VJPs rest on."""
    rng = np.random.default_rng(seed)
    geometry = g.dilation, g.padding, g.stride
    x, w, y = (random(rng, shape, np.float64) for shape in (g.input_shape, g.weight_shape, g.output_shape))
    product = np.vdot(reference.conv2d(x, w, *geometry, g.output_size), y)
    np.testing.assert_allclose(np.vdot(x, reference.conv_transpose2d(y, w, *geometry, x.shape[2:])), product)
    np.testing.assert_allclose(np.vdot(w, reference.conv2d_weight(x, y, g.kernel_size, *geometry)), product)


# -- rectifiers -----------------------------------------------------------------------------------------------

slopes = st.sampled_from([0.0, 0.01, 0.2, 1.0, 1.5])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 3])
@given(shape=st.lists(st.integers(1, 6), min_size=0, max_size=4).map(tuple), slope=slopes, seed=seeds)
def test_rectifier_kernels_match_reference(dtype, threads, shape, slope, seed):
    rng = np.random.default_rng(seed)
    x, g = random(rng, shape, dtype), random(rng, shape, dtype)
    x[rng.random(shape) < 0.2] = 0  # the kink itself: the gradient takes the slope there, as the reference
    with split_into(threads):
        y, gx, r = numba_cpu.leaky_relu(x, slope), numba_cpu.leaky_relu_backward(g, x, slope), numba_cpu.relu(-x)
    np.testing.assert_allclose(y, reference.leaky_relu(x, slope), **tolerance(dtype))
    np.testing.assert_allclose(gx, reference.leaky_relu_backward(g, x, slope), **tolerance(dtype))
    np.testing.assert_array_equal(r, reference.relu(-x))
    assert not np.signbit(r).any()  # max(x, 0) of a negative x is +0, as PyTorch's


def test_leaky_relu_kernels_accept_views(rng):
    x = random(rng, (5, 6), np.float32).T
    g = np.broadcast_to(random(rng, (1, 5), np.float32), (6, 5))
    np.testing.assert_array_equal(numba_cpu.leaky_relu(x, 0.2), reference.leaky_relu(x, 0.2))
    np.testing.assert_array_equal(numba_cpu.leaky_relu_backward(g, x, 0.2), reference.leaky_relu_backward(g, x, 0.2))



@pytest.mark.parametrize("dtype", DTYPES)
@given(shape=st.lists(st.integers(1, 6), min_size=0, max_size=3).map(tuple), seed=seeds,
       scale=st.sampled_from([1.0, 30.0, 1e3]))
def test_softplus_kernel_is_log_one_plus_exp_without_overflow(dtype, shape, seed, scale):
    r""":math:`\operatorname{softplus}(x) = \log(1 + e^x)`: equal to the naive form where that is finite, and
    :math:`\operatorname{softplus}(x) - \operatorname{softplus}(-x) = x` for every ``x``, however large."""
    rng = np.random.default_rng(seed)
    x = random(rng, shape, dtype, scale=scale)
    y = kernels.softplus(x)
    assert y.shape == x.shape and y.dtype == dtype and np.isfinite(y).all() and (y >= 0).all()
    np.testing.assert_allclose(y - kernels.softplus(-x), x, rtol=1e-6 if dtype == np.float32 else 1e-12,
                               atol=1e-6 if dtype == np.float32 else 1e-12)
    moderate = np.abs(x) < 30
    naive = np.log1p(np.exp(x[moderate].astype(np.float64)))
    np.testing.assert_allclose(y[moderate], naive, **tolerance(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_kernel_at_extremes(dtype):
    x = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], dtype=dtype)
    expected = np.array([0.0, np.exp(-100.0), np.log(2.0), 100.0, 1e4])
    # e^-100 is subnormal in float32
    np.testing.assert_allclose(kernels.softplus(x), expected.astype(dtype), rtol=1e-6, atol=1e-38)


def test_softplus_kernel_is_the_reference_on_every_backend(monkeypatch, rng):
    """No numba twin: the dispatcher serves the reference, so every path computes the same bits."""
    assert not hasattr(numba_cpu, "softplus")
    x = random(rng, (4, 5), np.float32, scale=20.0)
    for name in ("auto", "numpy"):
        monkeypatch.setattr(kernels, "_backend", name)
        np.testing.assert_array_equal(kernels.softplus(x), reference.softplus(x))

# -- standardisation (batch norm and layer norm) ------------------------------------------------------------

@st.composite
def normalisation_cases(draw):
    """An input shape and its reduced axes: batch norm's (all but axis 1) or trailing ones (layer norm)."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=2, max_size=4)))
    if draw(st.booleans()):
        shape = (max(shape[0], 2),) + shape[1:]  # at least two values per channel
        return shape, (0,) + tuple(range(2, len(shape)))
    return shape, tuple(range(draw(st.integers(1, len(shape) - 1)), len(shape)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 3])
@given(case=normalisation_cases(), seed=seeds, scale=st.floats(0.1, 10), shift=st.floats(-5, 5))
def test_standardize_kernels_match_reference(dtype, threads, case, seed, scale, shift):
    shape, axes = case
    rng = np.random.default_rng(seed)
    x, g = random(rng, shape, dtype, scale, shift), random(rng, shape, dtype)
    tol = tolerance(dtype)
    xhat = reference.standardize(x, axes, 1e-5)
    with split_into(threads):
        moments = numba_cpu.moments(x, axes)
        standardized, gx = numba_cpu.standardize(x, axes, 1e-5), numba_cpu.standardize_backward(g, xhat, x, axes, 1e-5)
    for got, expected in zip(moments, reference.moments(x, axes)):
        assert got.shape == expected.shape and got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=tol["rtol"], atol=tol["atol"] * scale**2)
    np.testing.assert_allclose(standardized, xhat, rtol=tol["rtol"], atol=10 * tol["atol"])
    wide_g, wide_x = g.astype(np.float64), x.astype(np.float64)
    exact = reference.standardize_backward(wide_g, reference.standardize(wide_x, axes, 1e-5), wide_x, axes, 1e-5)
    assert_near_definition(gx, reference.standardize_backward(g, xhat, x, axes, 1e-5), exact,
                           rtol=10 * tol["rtol"], atol=10 * tol["atol"] / min(scale, 1))


def assert_near_definition(got, same_dtype, exact, rtol, atol):
    """``got`` is within tolerance of ``exact``, the reference evaluated in float64, or at least as near to it as
    ``same_dtype``, the reference in ``got``'s dtype. With few values per channel batch norm's gradients cancel
    heavily, and a float32 reference loses digits that the twins' float64 sums keep."""
    allowed = np.abs(same_dtype - exact) + rtol * np.abs(exact) + atol
    assert got.dtype == same_dtype.dtype and got.shape == exact.shape
    assert (np.abs(got - exact) <= allowed).all(), np.max(np.abs(got - exact) - allowed)


@st.composite
def batch_norm_cases(draw):
    """``(N, C, ...)`` with at least two values per channel, a few of them large."""
    if draw(st.integers(0, 4)) == 0:
        return (draw(st.integers(16, 40)), draw(st.integers(2, 9)), 17, 19)
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=2, max_size=4)))
    return (max(shape[0], 2),) + shape[1:]


def _batch_norm_inputs(rng, shape, dtype, scale, shift):
    x, g = random(rng, shape, dtype, scale, shift), random(rng, shape, dtype)
    weight, bias = random(rng, shape[1:2], dtype), random(rng, shape[1:2], dtype)
    mean, var = (a.reshape(-1) for a in reference.moments(x, (0,) + tuple(range(2, len(shape)))))
    return x, g, weight, bias, mean, (1 / np.sqrt(var + 1e-5)).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 3])
@given(shape=batch_norm_cases(), seed=seeds, scale=st.floats(0.1, 10), shift=st.floats(-5, 5))
def test_batch_norm_kernels_match_reference(dtype, threads, shape, seed, scale, shift):
    x, g, weight, bias, mean, inv_std = _batch_norm_inputs(np.random.default_rng(seed), shape, dtype, scale, shift)
    tol = tolerance(dtype)
    with split_into(threads):
        y = numba_cpu.batch_norm(x, weight, bias, mean, inv_std)
        grads = numba_cpu.batch_norm_backward(g, x, weight, mean, inv_std)
    np.testing.assert_allclose(y, reference.batch_norm(x, weight, bias, mean, inv_std), rtol=tol["rtol"],
                               atol=10 * tol["atol"])
    m = x.size // x.shape[1]
    exact = reference.batch_norm_backward(*(a.astype(np.float64) for a in (g, x, weight, mean, inv_std)))
    for got, same_dtype, wide, atol in zip(grads, reference.batch_norm_backward(g, x, weight, mean, inv_std), exact,
                                           (10 * tol["atol"] / min(scale, 1), m * tol["atol"], m * tol["atol"])):
        assert got.dtype == dtype
        assert_near_definition(got, same_dtype, wide, rtol=10 * tol["rtol"], atol=atol)


# -- optimiser updates -------------------------------------------------------------------------------------------

rates = st.floats(1e-4, 0.1)
decays = st.sampled_from([0.0]) | st.floats(1e-3, 0.1)

UPDATES = {
    "sgd": (st.fixed_dictionaries({
        "lr": rates, "momentum": st.sampled_from([0.0, 0.5, 0.9]), "dampening": st.sampled_from([0.0, 0.3]),
        "weight_decay": decays, "nesterov": st.booleans(), "maximize": st.booleans()}),
        ["momentum_buffer"]),
    "adam": (st.fixed_dictionaries({
        "lr": rates, "beta1": st.floats(0.0, 0.95), "beta2": st.floats(0.5, 0.9999), "eps": st.floats(1e-10, 1e-3),
        "weight_decay": decays, "amsgrad": st.booleans(), "maximize": st.booleans(),
        "decoupled_weight_decay": st.booleans()}),
        ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
    "rmsprop": (st.fixed_dictionaries({
        "lr": rates, "alpha": st.floats(0.5, 0.999), "eps": st.floats(1e-10, 1e-3), "weight_decay": decays,
        "momentum": st.sampled_from([0.0, 0.9]), "centered": st.booleans(), "maximize": st.booleans()}),
        ["square_avg", "grad_avg", "momentum_buffer"]),
}


def run_updates(module, name, hp, param, grads, contiguous=True):
    """Apply ``name``'s update of ``module`` for each gradient in turn; the final parameter and state."""
    param = param.copy() if contiguous else np.asfortranarray(param)
    state = [np.zeros_like(param) for _ in UPDATES[name][1]]
    update = getattr(module, f"{name}_update")
    for step, grad in enumerate(grads, start=1):
        if name == "sgd":
            update(param, grad, state[0], first_step=step == 1, **hp)
        elif name == "adam":
            update(param, grad, *state, step=step, **hp)
        else:
            update(param, grad, *state, **hp)
    return [param, *state]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(UPDATES))
@given(data=st.data(), seed=seeds, shape=st.lists(st.integers(1, 7), min_size=0, max_size=3).map(tuple))
def test_update_kernels_match_reference(dtype, name, data, seed, shape):
    hp = data.draw(UPDATES[name][0], label="hyper-parameters")
    rng = np.random.default_rng(seed)
    param = random(rng, shape, dtype)
    grads = [random(rng, shape, dtype) for _ in range(4)]
    for got, expected in zip(run_updates(numba_cpu, name, hp, param, grads),
                             run_updates(reference, name, hp, param, grads)):
        np.testing.assert_allclose(got, expected, **tolerance(dtype))


@pytest.mark.parametrize("name", list(UPDATES))
def test_update_kernels_fall_back_to_the_reference_for_strided_parameters(name, rng):
    hp = {"sgd": {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.01, "nesterov": True,
                  "maximize": False},
          "adam": {"lr": 0.1, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8, "weight_decay": 0.01, "amsgrad": True,
                   "maximize": False},
          "rmsprop": {"lr": 0.1, "alpha": 0.9, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.9,
                      "centered": True, "maximize": True}}[name]
    param = random(rng, (3, 4), np.float64)
    grads = [random(rng, (3, 4), np.float64) for _ in range(3)]
    for got, expected in zip(run_updates(numba_cpu, name, hp, param, grads, contiguous=False),
                             run_updates(reference, name, hp, param, grads)):
        np.testing.assert_allclose(got, expected, rtol=1e-12)


# -- the same kernels as plain Python, so coverage sees their bodies ----------------------------------------------

def test_kernel_bodies_run_as_python(monkeypatch, rng):
    """Each njit function replaced by its ``py_func``; the public twins must still match the reference."""
    for module in (numba_cpu.conv, numba_cpu.activation, numba_cpu.normalization, numba_cpu.optim):
        for attr, value in vars(module).items():
            if hasattr(value, "py_func"):
                monkeypatch.setattr(module, attr, value.py_func)
    x, g = random(rng, (2, 3, 5, 2), np.float64), random(rng, (2, 3, 5, 2), np.float64)
    for geometry in [((3, 2), (2, 1), (1, 1), (2, 1)), *TRANSPOSES]:
        for gather, scatter in [("unfold", "fold"), ("im2col", "col2im")]:
            cols = getattr(numba_cpu, gather)(x, *geometry)
            np.testing.assert_array_equal(cols, getattr(reference, gather)(x, *geometry))
            np.testing.assert_allclose(getattr(numba_cpu, scatter)(cols, (5, 2), *geometry),
                                       getattr(reference, scatter)(cols, (5, 2), *geometry))
    np.testing.assert_array_equal(numba_cpu.leaky_relu(x, 0.2), reference.leaky_relu(x, 0.2))
    np.testing.assert_array_equal(numba_cpu.leaky_relu_backward(g, x, 0.2), reference.leaky_relu_backward(g, x, 0.2))
    axes = (0, 2, 3)
    xhat = reference.standardize(x, axes, 1e-5)
    np.testing.assert_allclose(numba_cpu.moments(x, axes), reference.moments(x, axes))
    np.testing.assert_allclose(numba_cpu.standardize(x, axes, 1e-5), xhat)
    np.testing.assert_allclose(numba_cpu.standardize_backward(g, xhat, x, axes, 1e-5),
                               reference.standardize_backward(g, xhat, x, axes, 1e-5))
    _, _, weight, bias, mean, inv_std = _batch_norm_inputs(rng, x.shape, np.float64, 1.0, 0.0)
    np.testing.assert_allclose(numba_cpu.batch_norm(x, weight, bias, mean, inv_std),
                               reference.batch_norm(x, weight, bias, mean, inv_std))
    for got, expected in zip(numba_cpu.batch_norm_backward(g, x, weight, mean, inv_std),
                             reference.batch_norm_backward(g, x, weight, mean, inv_std)):
        np.testing.assert_allclose(got, expected)
    every_branch = {
        "sgd": {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01, "nesterov": False,
                "maximize": True},
        "adam": {"lr": 0.1, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8, "weight_decay": 0.01, "amsgrad": True,
                 "maximize": False, "decoupled_weight_decay": True},
        "rmsprop": {"lr": 0.1, "alpha": 0.9, "eps": 1e-8, "weight_decay": 0.01, "momentum": 0.9,
                    "centered": True, "maximize": False}}
    for name, hp in every_branch.items():
        grads = [g[0, 0], 2 * g[1, 1]]
        for got, expected in zip(run_updates(numba_cpu, name, hp, x[0, 0], grads),
                                 run_updates(reference, name, hp, x[0, 0], grads)):
            np.testing.assert_allclose(got, expected, rtol=1e-12)


# -- dispatch ---------------------------------------------------------------------------------------------------

def test_dispatch_picks_numba_unless_the_reference_is_forced(monkeypatch):
    x = np.ones((1, 1, 3, 3))
    expected = "numpy" if kernels._backend == "numpy" else "numba"
    assert kernels.backend() == expected
    monkeypatch.setattr(kernels, "_backend", "numpy")
    assert kernels.backend() == "numpy" and kernels.kernel_module(x) is reference
    monkeypatch.setattr(kernels, "_backend", "auto")
    assert kernels.kernel_module(x) is numba_cpu


def test_thread_policy_sets_blas_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = kernels.num_threads()
    try:
        kernels.set_num_threads(1)
        assert kernels.num_threads() == 1
        blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
        assert all(p["num_threads"] == 1 for p in blas)
        with pytest.raises(ValueError, match="at least one thread"):
            kernels.set_num_threads(0)
    finally:
        if before is not None:
            kernels.set_num_threads(before)


IMPORT_CHANGES_NOTHING = """
import os, sys
from threadpoolctl import threadpool_info
import numpy
before = [p["num_threads"] for p in threadpool_info()]
import minigan, minigan.kernels as k
x = minigan.randn(64, 64) @ minigan.randn(64, 64)  # library use is not a run: no policy
after = [p["num_threads"] for p in threadpool_info()]
print(before == after, k.memory.policy(), k.num_threads(), k.threads.live_runs())
k.apply_policy()
print(k.memory.policy(), k.num_threads() >= 1, k.threads.live_runs())
"""


def test_importing_minigan_changes_nothing_until_its_work_starts():
    pytest.importorskip("threadpoolctl")
    env = {k: v for k, v in os.environ.items() if k not in ("MINIGAN_MALLOC", "MINIGAN_NUM_THREADS")}
    env["TMPDIR"] = tempfile.mkdtemp()  # a folder of runs of its own
    out = subprocess.run([sys.executable, "-c", IMPORT_CHANGES_NOTHING], env=env, capture_output=True, text=True,
                         check=True).stdout.split("\n")
    malloc = "reuse" if platform.libc_ver()[0] == "glibc" else "system"
    assert out[0].split() == ["True", "system", "None", "0"]
    assert out[1].split() == [malloc, "True", "1"]


@pytest.mark.parametrize("environment, runs, expected", [
    ({"MINIGAN_NUM_THREADS": "3"}, 0, 3),
    ({"PYTEST_XDIST_WORKER": "gw1"}, 0, 1),
    ({}, 1, "cores"),
    ({}, 2, "half"),
])
def test_the_policy_shares_the_cores_among_live_runs(environment, runs, expected, monkeypatch, tmp_path):
    monkeypatch.delenv("MINIGAN_NUM_THREADS", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(kernels.threads, "_runs_folder", lambda: tmp_path)
    monkeypatch.setattr(kernels.threads, "_cores", lambda: 4)
    live = [os.getpid(), os.getppid()][:runs]
    for pid in live:
        (tmp_path / str(pid)).touch()
    (tmp_path / "999999999").touch()  # a run that was killed: not counted, and removed
    assert kernels.threads.policy_threads() == {"cores": 4, "half": 2}.get(expected, expected)
    if not environment:  # the folder was read, and the dead run's entry removed
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(str(pid) for pid in live)


def test_a_bad_thread_setting_is_refused(monkeypatch):
    for value in ("two", "0", "-1"):
        monkeypatch.setenv("MINIGAN_NUM_THREADS", value)
        with pytest.raises(ValueError, match="MINIGAN_NUM_THREADS must be a positive integer"):
            kernels.threads.policy_threads()


@pytest.mark.parametrize("geometry", [((3, 3), (1, 1), (1, 1), (1, 1)), ((4, 4), (1, 1), (1, 1), (2, 2)),
                                      ((5, 3), (2, 1), (2, 0), (1, 2))])
def test_conv_kernels_split_over_threads_match_the_reference(geometry):
    pytest.importorskip("numba")
    from minigan.kernels import numba_cpu

    x = np.random.default_rng(0).standard_normal((6, 37, 21, 19)).astype(np.float32)  # above the split size
    before = kernels.num_threads()
    try:
        kernels.set_num_threads(3)
        cols = numba_cpu.im2col(x, *geometry)
        assert cols.size >= numba_cpu.conv._PARALLEL_ELEMENTS
        np.testing.assert_array_equal(cols, reference.im2col(x, *geometry))
        np.testing.assert_allclose(numba_cpu.col2im(cols, x.shape[2:], *geometry),
                                   reference.col2im(cols, x.shape[2:], *geometry), rtol=1e-6, atol=1e-5)
    finally:
        kernels.set_num_threads(before or 1)


@given(pieces=st.integers(1, 40), threads=st.integers(1, 4))
def test_parallel_range_covers_every_index_once(pieces, threads):
    before = kernels.num_threads()
    seen = []
    try:
        kernels.set_num_threads(threads)
        kernels.threads.parallel_range(pieces, lambda a, b: seen.extend(range(a, b)))
    finally:
        kernels.set_num_threads(before or 1)
    assert sorted(seen) == list(range(pieces))



def test_a_split_inside_a_piece_runs_on_its_thread_and_blas_gets_its_threads_back():
    """Pieces that call BLAS run it single-threaded; afterwards, even after a failure, BLAS has the policy's."""
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return {p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"}

    before = kernels.num_threads()
    seen, inside = [], []

    def piece(first, stop):
        inside.append(blas_threads())
        kernels.threads.parallel_range(4, lambda a, b: seen.append((first, a, b)))  # nested: not split again

    def failing(first, stop):
        raise RuntimeError("a piece failed")

    try:
        kernels.set_num_threads(2)
        kernels.threads.parallel_range(2, piece, blas=True)
        assert sorted(seen) == [(0, 0, 4), (1, 0, 4)] and inside == [{1}, {1}]
        assert blas_threads() == {2}
        with pytest.raises(RuntimeError, match="a piece failed"):
            kernels.threads.parallel_range(2, failing, blas=True)
        assert blas_threads() == {2}
    finally:
        kernels.set_num_threads(before or 1)


SPIN = """
import os, numpy as np
from threadpoolctl import ThreadpoolController
import minigan.kernels as k
servers = [lib.dynlib for lib in ThreadpoolController().select(internal_api="openblas").lib_controllers
           if lib.threading_layer == "pthreads" and hasattr(lib.dynlib, "openblas_thread_timeout")]
if not servers:
    print("no-openblas-server")
    raise SystemExit
timeout = servers[0].openblas_thread_timeout
k.apply_policy()
before = timeout()
np.ones((64, 64), np.float32) @ np.ones((64, 64), np.float32)
k.im2col(np.ones((8, 64, 16, 16), np.float32), (3, 3), (1, 1), (1, 1), (1, 1))  # large enough to split
print(before, timeout(), "OPENBLAS_THREAD_TIMEOUT" in os.environ)
"""


@pytest.mark.parametrize("setting, expected", [(None, ["0", "18", "False"]), ("25", ["25", "25", "True"])])
def test_the_first_split_shortens_openblas_spin_unless_the_user_set_it(setting, expected):
    """Idle OpenBLAS threads would spin for 2**28 cycles and take a core from the pool: once the pool starts, they
    sleep after 2**18. A timeout in the environment is the user's and stays; minigan's own leaves no trace."""
    pytest.importorskip("threadpoolctl")
    pytest.importorskip("numba")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_THREAD_TIMEOUT", "PYTEST_XDIST_WORKER")}
    env.update(MINIGAN_NUM_THREADS="2", TMPDIR=tempfile.mkdtemp())
    if setting is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = setting
    out = subprocess.run([sys.executable, "-c", SPIN], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    if out == ["no-openblas-server"]:
        pytest.skip("NumPy's BLAS is not OpenBLAS with its own threads")
    assert out == expected

MMAPPED_BYTES = """
import ctypes, numpy as np, minigan.kernels as k
k.apply_policy()
class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = MallInfo2
before = mallinfo2().hblkhd
block = np.ones(2**23)  # 64 MiB, above glibc's largest automatic mmap threshold
print(k.memory.policy(), mallinfo2().hblkhd - before >= block.nbytes)
"""


@pytest.mark.parametrize("setting, expected", [(None, "reuse False"), ("system", "system True")])
def test_memory_policy_keeps_large_arrays_in_the_reusable_heap(setting, expected):
    import ctypes
    import platform
    import subprocess
    import sys

    if platform.libc_ver()[0] != "glibc" or not hasattr(ctypes.CDLL(None), "mallinfo2"):
        pytest.skip("the memory policy tunes glibc's malloc (mallinfo2 needs glibc 2.33)")
    env = {k: v for k, v in os.environ.items() if k != "MINIGAN_MALLOC"}
    if setting:
        env["MINIGAN_MALLOC"] = setting
    out = subprocess.run([sys.executable, "-c", MMAPPED_BYTES], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == expected.split()  # "reuse": the block came from the heap, not a fresh mmap


def test_memory_policy_rejects_an_unknown_setting(monkeypatch):
    monkeypatch.setenv("MINIGAN_MALLOC", "sometimes")
    with pytest.raises(ValueError, match="MINIGAN_MALLOC"):
        kernels.memory._from_environment()


def test_compiled_kernels_are_cached_per_user_and_never_inside_the_package(tmp_path):
    """Cache files in the package outlive ``pip uninstall`` and leave a ``minigan`` folder that shadows a reinstall."""
    pytest.importorskip("numba")
    package = Path(kernels.__file__).parent.parent
    script = ("from minigan.kernels import numba_cpu as k; import numpy as np; "
              "k.leaky_relu(np.ones(3, np.float32), 0.2); print(k.activation._leaky_relu._cache._cache_path)")
    env = {**os.environ, "MINIGAN_CACHE_DIR": str(tmp_path)}
    env.pop("NUMBA_CACHE_DIR", None)
    where = Path(subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                                check=True).stdout.strip())
    assert where.is_relative_to(tmp_path / "numba") and not where.resolve().is_relative_to(package.resolve())
    assert list(where.glob("*.nbi")), "nothing was cached"
