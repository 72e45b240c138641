"""Reductions: forward equals NumPy over drawn axes (negative, tuples, keepdims), gradients spread back.

One case table drives the checks. Max, min and the inf-norm are checked on
entries with distinct values and magnitudes (a tie is a kink); ties get their
own known-answer test: they share the gradient equally.
"""

from typing import Callable, NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan.testing import gradcheck, gradgradcheck
from minigan.testing import strategies as mst

few = settings(max_examples=30)
SHAPES = mst.shapes(max_dims=3, max_side=3)


def reals(shape):
    return mst.arrays(shape)


def away_from_zero(shape):
    return mst.arrays(shape, avoid=(0.0,), margin=0.1)


def distinct(shape):
    """Entries whose values and magnitudes all differ by at least 0.07, none within 0.2 of 0."""
    size = int(np.prod(shape))
    magnitudes = st.permutations(range(size)).map(lambda p: 0.2 + 0.1 * np.array(p, dtype=np.float64))
    jitter = mst.arrays((size,), min_value=0.0, max_value=0.03)
    signs = mst.arrays((size,), min_value=-1.0, max_value=1.0, avoid=(0.0,)).map(np.sign)
    return st.tuples(magnitudes, jitter, signs).map(lambda mjs: ((mjs[0] + mjs[1]) * mjs[2]).reshape(shape))


def spread_out(shape):
    """Entries that differ along every axis (a ramp plus a small draw), so the variance is well above 0."""
    ramp = 0.5 * np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    return mst.arrays(shape, min_value=-0.2, max_value=0.2).map(lambda a: a + ramp)


def np_norm(a, axis, keepdims, p):
    if p == np.inf:
        return np.max(np.abs(a), axis=axis, keepdims=keepdims)
    return np.sum(np.abs(a) ** p, axis=axis, keepdims=keepdims) ** (1.0 / p)


def np_logsumexp(a, axis, keepdims):
    return np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))


class Case(NamedTuple):
    name: str
    op: Callable  # op(x, axis, keepdims, **params)
    reference: Callable  # reference(a, axis, keepdims, **params) in NumPy
    domain: Callable  # domain(shape): strategy of arrays where op is smooth
    curved: bool  # the second derivative is not identically zero
    params: st.SearchStrategy = st.just({})
    min_count: Callable = lambda **params: 1  # fewest reduced entries for which op is defined and smooth


UNBIASED = st.fixed_dictionaries({"unbiased": st.booleans()})

CASES = [
    Case("sum", mg.sum, lambda a, axis, keepdims: np.sum(a, axis, keepdims=keepdims), reals, False),
    Case("mean", mg.mean, lambda a, axis, keepdims: np.mean(a, axis, keepdims=keepdims), reals, False),
    Case("var", lambda x, axis, keepdims, unbiased: mg.var(x, axis, keepdims, unbiased),
         lambda a, axis, keepdims, unbiased: np.var(a, axis, ddof=int(unbiased), keepdims=keepdims),
         reals, True, UNBIASED, lambda unbiased: 1 + unbiased),
    Case("std", lambda x, axis, keepdims, unbiased: mg.std(x, axis, keepdims, unbiased),
         lambda a, axis, keepdims, unbiased: np.std(a, axis, ddof=int(unbiased), keepdims=keepdims),
         spread_out, True, UNBIASED, lambda unbiased: 2),
    Case("max", mg.amax, lambda a, axis, keepdims: np.max(a, axis, keepdims=keepdims), distinct, False),
    Case("min", mg.amin, lambda a, axis, keepdims: np.min(a, axis, keepdims=keepdims), distinct, False),
    Case("logsumexp", mg.logsumexp, np_logsumexp, reals, True),
    Case("norm", lambda x, axis, keepdims, p: mg.norm(x, p, axis, keepdims), np_norm, away_from_zero, True,
         st.fixed_dictionaries({"p": st.sampled_from([2, 1, 3, 1.5])})),
    Case("norm_inf", lambda x, axis, keepdims: mg.norm(x, float("inf"), axis, keepdims),
         lambda a, axis, keepdims: np_norm(a, axis, keepdims, np.inf), distinct, False),
]
by_name = pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])


@st.composite
def axes(draw, ndim):
    """None, one axis, or a tuple of distinct axes, each possibly counted from the back."""
    if ndim == 0:
        return draw(st.sampled_from([None, 0, -1]))
    chosen = draw(st.none() | st.integers(0, ndim - 1) | st.lists(st.integers(0, ndim - 1), min_size=1,
                                                                 max_size=ndim, unique=True).map(tuple))

    def maybe_from_back(a):
        return a - ndim if draw(st.booleans()) else a

    if chosen is None:
        return None
    return maybe_from_back(chosen) if isinstance(chosen, int) else tuple(map(maybe_from_back, chosen))


def reduced_count(shape, axis):
    if axis is None or not shape:
        return int(np.prod(shape))
    return int(np.prod([shape[a] for a in ((axis,) if isinstance(axis, int) else axis)]))


@st.composite
def inputs(draw, case, dtype=np.float64):
    """(x, axis, keepdims, params), with at least ``case.min_count`` entries in each reduction."""
    params = draw(case.params)
    shape = draw(SHAPES)
    axis = draw(axes(len(shape)))
    need = case.min_count(**params)
    if reduced_count(shape, axis) < need:  # grow the first reduced axis
        if not shape:
            shape, axis = (need,), None
        else:
            first = 0 if axis is None else np.atleast_1d(axis)[0] % len(shape)
            shape = shape[:first] + (need,) + shape[first + 1:]
    x = mg.tensor(draw(case.domain(shape)).astype(dtype), requires_grad=True)
    return x, axis, draw(st.booleans()), params


def numpy_axis(x, axis):
    """A scalar's axis 0 or -1 means all (none) of its axes, as in torch; NumPy only takes None there."""
    return None if x.ndim == 0 else axis


@by_name
@few
@given(data=st.data())
def test_forward_matches_numpy(case, data):
    x, axis, keepdims, params = data.draw(inputs(case))
    expected = case.reference(x.numpy(), numpy_axis(x, axis), keepdims, **params)
    y = case.op(x, axis, keepdims, **params)
    assert y.shape == np.shape(expected) and y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-14)


@by_name
@few
@given(data=st.data())
def test_gradient(case, data):
    x, axis, keepdims, params = data.draw(inputs(case))
    gradcheck(lambda t: case.op(t, axis, keepdims, **params), [x])


@by_name
@few
@given(data=st.data())
def test_second_derivative(case, data):
    """The Hessian-vector product; linear and piecewise-linear reductions: exactly zero."""
    x, axis, keepdims, params = data.draw(inputs(case))
    gradgradcheck(lambda t: case.op(t, axis, keepdims, **params), [x])
    if not case.curved:
        rng = np.random.default_rng(1)
        y = case.op(x, axis, keepdims, **params)
        (gx,) = mg.grad(y, [x], [mg.tensor(rng.standard_normal(y.shape), requires_grad=True)], create_graph=True)
        (hessian_v,) = mg.grad(gx, [x], [mg.tensor(rng.standard_normal(x.shape))], allow_unused=True)
        assert hessian_v is None or not hessian_v.numpy().any()


@by_name
@few
@given(data=st.data())
def test_float32_stays_float32(case, data):
    x, axis, keepdims, params = data.draw(inputs(case, np.float32))
    y = case.op(x, axis, keepdims, **params)
    assert y.dtype == np.float32
    expected = case.reference(x.numpy().astype(np.float64), numpy_axis(x, axis), keepdims, **params)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)
    assert mg.grad(y, [x], [mg.randn(*y.shape)])[0].dtype == np.float32


# -- ties, zeros and large values -------------------------------------------------------------------

@few
@given(x=mst.tensors(mst.shapes(min_dims=1, max_dims=3, max_side=4), min_value=0, max_value=2).map(
    lambda t: mg.tensor(np.round(t.numpy()), requires_grad=True)), data=st.data())
def test_ties_share_the_gradient_equally(x, data):
    """Entries of {0, 1, 2} tie often: each that attains the extremum gets an equal share of its gradient."""
    axis = data.draw(axes(x.ndim))
    for op, extremum in [(mg.amax, np.max), (mg.amin, np.min)]:
        y = op(x, axis, keepdims=True)
        g = np.random.default_rng(0).standard_normal(y.shape)
        (gx,) = mg.grad(y, [x], [mg.tensor(g)])
        attains = x.numpy() == extremum(x.numpy(), axis, keepdims=True)
        np.testing.assert_allclose(gx.numpy(), attains * g / attains.sum(axis, keepdims=True))


def test_ties_known_answer():
    x = mg.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    (gx,) = mg.grad(x.max(dim=1).values, [x], [mg.tensor([6.0, 9.0])])
    np.testing.assert_allclose(gx.numpy(), [[0, 3, 3], [3, 3, 3]])
    (gx,) = mg.grad(mg.norm(x, float("inf")), [x])
    np.testing.assert_allclose(gx.numpy(), [[0, 0.5, 0.5], [0, 0, 0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_norm_of_zero_has_zero_gradient(dtype):
    x = mg.zeros(2, 3, dtype=dtype, requires_grad=True)
    for y in [mg.norm(x), mg.norm(x, dim=1), x.norm(2, axis=(0, 1), keepdims=True)]:
        (gx,) = mg.grad(y, [x], [mg.randn(*y.shape, dtype=dtype)])
        assert y.dtype == dtype and not y.numpy().any()
        np.testing.assert_array_equal(gx.numpy(), np.zeros((2, 3)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_of_large_values(dtype):
    x = mg.tensor([[1e4, 1e4, -1e4], [-1e4, -1e4, -np.inf]], dtype=dtype, requires_grad=True)
    y = mg.logsumexp(x, dim=1)
    np.testing.assert_allclose(y.numpy(), [1e4 + np.log(2), -1e4 + np.log(2)], rtol=1e-6)
    (gx,) = mg.grad(y, [x], [mg.tensor([2.0, 4.0], dtype=dtype)])
    np.testing.assert_allclose(gx.numpy(), [[1, 1, 0], [2, 2, 0]])  # upstream times the softmax


def test_var_known_answers():
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], dtype=np.float64, requires_grad=True)
    assert mg.var(x).item() == pytest.approx(5 / 3) and mg.var(x, unbiased=False).item() == pytest.approx(1.25)
    (gx,) = mg.grad(mg.var(x, unbiased=False), [x])
    np.testing.assert_allclose(gx.numpy(), 2 * (x.numpy() - 2.5) / 4)
    assert np.isnan(mg.var(mg.tensor([1.0])).item())  # one entry has no unbiased variance, as in torch
    assert np.isnan(mg.mean(mg.ones(2, 0), dim=1).numpy()).all()  # nor has nothing a mean


# -- axes: errors and spellings -----------------------------------------------------------------------

REDUCTIONS = {"sum": mg.sum, "mean": mg.mean, "var": mg.var, "std": mg.std, "max": mg.amax, "min": mg.amin,
              "logsumexp": mg.logsumexp, "norm": lambda x, axis: mg.norm(x, 2, axis)}


@pytest.mark.parametrize("name", REDUCTIONS)
@settings(max_examples=10)
@given(shape=SHAPES, data=st.data())
def test_out_of_range_axis(name, shape, data):
    rank = max(len(shape), 1)
    bad = data.draw(st.sampled_from([rank, rank + 1, -rank - 1]))
    x = mg.ones(*shape)
    for axis in (bad, (0, bad)):
        with pytest.raises(IndexError) as error:
            REDUCTIONS[name](x, axis)
        assert name in str(error.value) and str(x.shape) in str(error.value)


def test_repeated_axis():
    with pytest.raises(ValueError, match=r"sum.*\(2, 3\)"):
        mg.ones(2, 3).sum((1, -1))


def test_axis_and_dim_are_exclusive():
    with pytest.raises(TypeError, match="sum"):
        mg.sum(mg.ones(2, 3), axis=0, dim=0)


@pytest.mark.parametrize("method, op, expected", [
    (lambda t: t.sum(), "sum", lambda a: a.sum()),
    (lambda t: t.sum(dim=1, keepdim=True), "sum", lambda a: a.sum(1, keepdims=True)),
    (lambda t: t.sum(axis=(0, 1), keepdims=True), "sum", lambda a: a.sum((0, 1), keepdims=True)),
    (lambda t: t.sum(np.int64(-1)), "sum", lambda a: a.sum(-1)),
    (lambda t: t.mean(), "div", lambda a: a.mean()),  # mean, var and the p-norms are composites
    (lambda t: t.mean(dim=(0, 2)), "div", lambda a: a.mean((0, 2))),
    (lambda t: t.var(dim=0, unbiased=False), "mul", lambda a: a.var(0)),
    (lambda t: t.std(1, keepdim=True), "sqrt", lambda a: a.std(1, ddof=1, keepdims=True)),
    (lambda t: t.max(dim=-1)[0], "max", lambda a: a.max(-1)), (lambda t: t.amin(0), "min", lambda a: a.min(0)),
    (lambda t: t.logsumexp(dim=2), "logsumexp", lambda a: np.log(np.exp(a).sum(2))),
    (lambda t: t.norm(), "norm", lambda a: np.sqrt((a * a).sum())),
    (lambda t: t.norm(p=1, dim=1), "pow", lambda a: np.abs(a).sum(1)),
])
def test_methods_use_the_primitives(method, op, expected):
    x = mg.randn(2, 3, 4, dtype=np.float64, requires_grad=True)
    y = method(x)
    assert y.grad_fn.primitive.name == op
    np.testing.assert_allclose(y.numpy(), expected(x.numpy()), rtol=1e-12)
