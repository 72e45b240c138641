"""Elementwise primitives: forward equals NumPy, VJP and double VJP match finite differences.

One case table drives every check; each case names the domain where its op is
smooth (relu's kink at 0, clamp's bounds, the positive reals for log and sqrt).
"""

from typing import Callable, NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan.testing import gradcheck, gradgradcheck
from minigan.testing import strategies as mst

SHAPES = mst.shapes(max_dims=3, max_side=3)  # scalars and size-1 dimensions included
few = settings(max_examples=30)


def reals(shape, **params):
    return mst.arrays(shape)


def positives(shape, **params):
    return mst.positive_arrays(shape)


def away_from_zero(shape, **params):
    return mst.arrays(shape, avoid=(0.0,))


def inside_and_outside_bounds(shape, min=None, max=None):  # noqa: A002
    return mst.arrays(shape, avoid=tuple(b for b in (min, max) if b is not None))


def log1pexp(a):
    return np.logaddexp(0.0, a)


@st.composite
def clamp_bounds(draw):
    """``min`` and/or ``max`` inside the drawn range, so both sides of each bound get drawn."""
    low = draw(st.floats(-2.0, 0.5))
    bounds = {"min": low, "max": low + draw(st.floats(0.5, 3.0))}
    kept = draw(st.sampled_from([("min",), ("max",), ("min", "max")]))
    return {k: bounds[k] for k in kept}


class Case(NamedTuple):
    name: str
    op: Callable  # op(x, **params) on Tensors
    reference: Callable  # reference(a, **params) on float64 arrays
    domain: Callable  # domain(shape, **params): strategy of arrays where op is smooth
    curved: bool  # the second derivative is not identically zero there
    params: st.SearchStrategy = st.just({})


CASES = [
    Case("neg", lambda x: -x, np.negative, reals, False),
    Case("exp", mg.exp, np.exp, reals, True),
    Case("log", mg.log, np.log, positives, True),
    Case("sqrt", mg.sqrt, np.sqrt, positives, True),
    Case("abs", mg.abs, np.abs, away_from_zero, False),
    Case("tanh", mg.tanh, np.tanh, reals, True),
    Case("sigmoid", mg.sigmoid, lambda a: np.exp(-log1pexp(-a)), reals, True),
    Case("relu", mg.relu, lambda a: np.maximum(a, 0.0), away_from_zero, False),
    Case("leaky_relu", mg.leaky_relu, lambda a, negative_slope: np.where(a > 0, a, negative_slope * a),
         away_from_zero, False, st.fixed_dictionaries({"negative_slope": st.floats(-1.0, 2.0)})),
    Case("softplus", mg.softplus, lambda a, beta: log1pexp(beta * a) / beta, reals, True,
         st.fixed_dictionaries({"beta": st.floats(0.2, 5.0)})),
    Case("log_sigmoid", mg.log_sigmoid, lambda a: -log1pexp(-a), reals, True),
    Case("clamp", mg.clamp, lambda a, min=None, max=None: np.clip(a, min, max),  # noqa: A002
         inside_and_outside_bounds, False, clamp_bounds()),
    Case("square", mg.square, np.square, reals, True),
]
by_name = pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])


@st.composite
def inputs(draw, case, dtype=np.float64):
    params = draw(case.params)
    array = draw(case.domain(draw(SHAPES), **params))
    return mg.tensor(array.astype(dtype), requires_grad=True), params


@by_name
@few
@given(data=st.data())
def test_forward_matches_numpy(case, data):
    x, params = data.draw(inputs(case))
    y = case.op(x, **params)
    assert y.shape == x.shape and y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), case.reference(x.numpy(), **params), rtol=1e-12, atol=1e-14)


@by_name
@few
@given(data=st.data())
def test_gradient(case, data):
    x, params = data.draw(inputs(case))
    gradcheck(lambda t: case.op(t, **params), [x])


@by_name
@few
@given(data=st.data())
def test_second_derivative(case, data):
    """gradgradcheck on every op: the Hessian-vector product, and a VJP that stays differentiable in the
    upstream gradient (what WGAN-GP needs, through a ReLU too). Piecewise-linear ops: exactly zero."""
    x, params = data.draw(inputs(case))
    gradgradcheck(lambda t: case.op(t, **params), [x])
    if not case.curved:
        rng = np.random.default_rng(1)
        v = mg.tensor(rng.standard_normal(x.shape), requires_grad=True)
        (gx,) = mg.grad(case.op(x, **params), [x], [v], create_graph=True)
        (hessian_v,) = mg.grad(gx, [x], [mg.tensor(rng.standard_normal(x.shape))], allow_unused=True)
        assert hessian_v is None or not hessian_v.numpy().any()


@by_name
@few
@given(data=st.data())
def test_float32_stays_float32(case, data):
    x, params = data.draw(inputs(case, np.float32))
    y = case.op(x, **params)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), case.reference(x.numpy().astype(np.float64), **params),
                               rtol=1e-5, atol=1e-6)
    (gx,) = mg.grad(y, [x], [mg.randn(*y.shape)])
    assert gx.dtype == np.float32


# -- cast ----------------------------------------------------------------------------------------

@few
@given(shape=SHAPES, source=st.sampled_from([np.float32, np.float64]),
       target=st.sampled_from([np.float32, np.float64]))
def test_cast_forward_and_gradient_dtype(shape, source, target):
    x = mg.randn(*shape, dtype=source, requires_grad=True)
    y = mg.cast(x, dtype=np.dtype(target))
    assert y.dtype == target
    np.testing.assert_array_equal(y.numpy(), x.numpy().astype(target))
    (gx,) = mg.grad(y, [x], [mg.randn(*shape, dtype=target)])
    assert gx.dtype == source  # the gradient comes back in the input's precision
    assert x.float().dtype == np.float32 and x.double().dtype == np.float64


@few
@given(x=mst.tensors(SHAPES))
def test_cast_gradient(x):
    # cast is linear, so a large step is exact and keeps the float32 rounding (~1e-7) out of the quotient
    gradcheck(lambda t: mg.cast(t, dtype=np.dtype(np.float32)), [x], eps=0.1, atol=1e-4)
    gradgradcheck(lambda t: mg.cast(t, dtype=np.dtype(np.float64)), [x])


# -- stability and known answers -----------------------------------------------------------------

EXTREMES = np.array([-1e4, -100.0, 0.0, 100.0, 1e4])


def value_and_gradient(op, values, dtype):
    x = mg.tensor(values.astype(dtype), requires_grad=True)
    y = op(x)
    upstream = np.random.default_rng(0).uniform(0.5, 2.0, values.shape)
    (gx,) = mg.grad(y, [x], [mg.tensor(upstream.astype(dtype))])
    assert y.dtype == dtype and gx.dtype == dtype
    assert np.isfinite(y.numpy()).all() and np.isfinite(gx.numpy()).all()
    return y.numpy(), gx.numpy() / upstream


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta", [1.0, 0.5, 3.0])
def test_softplus_is_stable_at_extremes(dtype, beta):
    y, slope = value_and_gradient(lambda t: mg.softplus(t, beta=beta), EXTREMES, dtype)
    np.testing.assert_allclose(y, log1pexp(beta * EXTREMES) / beta, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(slope, [0, 0, 0.5, 1, 1], rtol=1e-6, atol=1e-6)  # sigmoid(beta x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_sigmoid_is_stable_at_extremes(dtype):
    y, slope = value_and_gradient(mg.log_sigmoid, EXTREMES, dtype)
    np.testing.assert_allclose(y, [-1e4, -100, -np.log(2), 0, 0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(slope, [1, 1, 0.5, 0, 0], rtol=1e-6, atol=1e-6)  # sigmoid(-x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_at_extremes(dtype):
    y, slope = value_and_gradient(mg.sigmoid, EXTREMES, dtype)
    np.testing.assert_allclose(y, [0, 0, 0.5, 1, 1], atol=1e-7)
    np.testing.assert_allclose(slope, [0, 0, 0.25, 0, 0], atol=1e-7)


@few
@given(x=st.floats(-700, 700))
def test_sigmoid_keeps_relative_precision_in_both_tails(x):
    exact = np.exp(-np.logaddexp(0.0, -x))  # 1 / (1 + e^{-x}) without cancellation
    np.testing.assert_allclose(mg.sigmoid(mg.tensor(np.float64(x))).numpy(), exact, rtol=1e-14, atol=0)


@few
@given(x=mst.tensors(SHAPES, min_value=-1e4, max_value=1e4), beta=st.floats(0.2, 5.0))
def test_softplus_and_log_sigmoid_over_a_wide_range(x, beta):
    a = x.numpy()
    np.testing.assert_allclose(mg.softplus(x, beta=beta).numpy(), log1pexp(beta * a) / beta, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(mg.log_sigmoid(x).numpy(), -log1pexp(-a), rtol=1e-12, atol=1e-300)
    gradcheck(lambda t: mg.softplus(t, beta=beta), [x])
    gradcheck(mg.log_sigmoid, [x])


def test_kinks_take_pytorchs_subgradient():
    x = mg.tensor([-1.0, 0.0, 1.0, 2.0], dtype=np.float64, requires_grad=True)
    g = mg.tensor([3.0, 5.0, 7.0, 11.0], dtype=np.float64)
    for op, expected in [(mg.relu, [0, 0, 7, 11]), (mg.abs, [-3, 0, 7, 11]),
                         (lambda t: mg.leaky_relu(t, negative_slope=0.1), [0.3, 0.5, 7, 11]),
                         (lambda t: mg.clamp(t, min=0.0, max=1.0), [0, 5, 7, 0])]:  # bounds pass it on
        np.testing.assert_allclose(mg.grad(op(x), [x], [g])[0].numpy(), expected)


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="clamp"):
        mg.clamp(mg.ones(2))


# -- the Tensor methods reach the same primitives ---------------------------------------------------

@pytest.mark.parametrize("method, op", [
    (lambda t: -t, mg.neg), (lambda t: t.neg(), mg.neg), (lambda t: t.exp(), mg.exp),
    (lambda t: t.log(), mg.log), (lambda t: t.sqrt(), mg.sqrt), (abs, mg.abs), (lambda t: t.abs(), mg.abs),
    (lambda t: t.tanh(), mg.tanh), (lambda t: t.sigmoid(), mg.sigmoid), (lambda t: t.relu(), mg.relu),
    (lambda t: t.leaky_relu(negative_slope=0.2), mg.leaky_relu), (lambda t: t.softplus(beta=2.0), mg.softplus),
    (lambda t: t.log_sigmoid(), mg.log_sigmoid), (lambda t: t.clamp(min=0.5), mg.clamp),
    (lambda t: t.clip(max=1.0), mg.clamp), (lambda t: t.to(np.float64), mg.cast),
])
def test_methods_use_the_primitives(method, op):
    x = mg.rand(2, 3, requires_grad=True) + 0.1
    assert method(x).grad_fn.primitive is op
