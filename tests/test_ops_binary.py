"""Binary primitives: NumPy broadcasting forward, gradients summed back to each input's shape.

One case table drives the checks. Inputs are drawn as broadcasting pairs (scalars
and size-1 dimensions included), each from the domain where the op is smooth:
divisors and negative powers away from 0, positive bases for real powers, and
maximum/minimum on inputs that never tie.
"""

from typing import Callable, NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigan as mg
from minigan.testing import gradcheck, gradgradcheck
from minigan.testing import strategies as mst

few = settings(max_examples=30)
PAIRS = mst.broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)
SHAPES = mst.shapes(max_dims=3, max_side=3)


def reals(shape):
    return mst.arrays(shape)


def nonzero(shape):
    return mst.arrays(shape, avoid=(0.0,), margin=0.3)


def positives(shape):
    return mst.positive_arrays(shape, min_value=0.2)


def lattice(shape, offset):
    """Points of ``0.2 k + offset``, jittered by at most 0.03: the lattices at offsets 0 and 0.1 never meet."""
    steps = hnp.arrays(np.int64, shape, elements=st.integers(-12, 12))
    jitter = mst.arrays(shape, min_value=-0.03, max_value=0.03)
    return st.tuples(steps, jitter).map(lambda kj: np.asarray(0.2 * kj[0] + offset + kj[1]))


@st.composite
def pair(draw, domain_a, domain_b):
    (shape_a, shape_b), _ = draw(PAIRS)
    return draw(domain_a(shape_a)), draw(domain_b(shape_b))


def untied():
    """Pairs from disjoint lattices, so maximum and minimum never meet a tie."""
    return pair(lambda s: lattice(s, 0.0), lambda s: lattice(s, 0.1))


@st.composite
def single(draw, domain):
    return (draw(domain(draw(SHAPES))),)


@st.composite
def selection(draw):
    (shape_c, shape_a, shape_b), _ = draw(mst.broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
    condition = mg.tensor(draw(hnp.arrays(np.bool_, shape_c)))  # a constant of the graph
    return condition, draw(reals(shape_a)), draw(reals(shape_b))


class Case(NamedTuple):
    name: str
    op: Callable  # op(*inputs, **params)
    reference: Callable  # reference(*arrays, **params) in NumPy
    inputs: Callable  # inputs(**params): strategy of a tuple of float64 arrays (a where condition: a Tensor)
    curved: bool  # the second derivative is not identically zero
    params: st.SearchStrategy = st.just({})


def to_the(x, exponent):
    """``x ** exponent`` for a Tensor (the pow primitive) and for its NumPy reference alike."""
    return x**exponent


def exponents(values):
    return st.fixed_dictionaries({"exponent": values})


CASES = [
    Case("add", lambda a, b: a + b, np.add, lambda: pair(reals, reals), False),
    Case("sub", lambda a, b: a - b, np.subtract, lambda: pair(reals, reals), False),
    Case("mul", lambda a, b: a * b, np.multiply, lambda: pair(reals, reals), True),
    Case("div", lambda a, b: a / b, np.divide, lambda: pair(reals, nonzero), True),
    Case("power", lambda a, b: a**b, np.power, lambda: pair(positives, reals), True),
    Case("maximum", mg.maximum, np.maximum, untied, False),
    Case("minimum", mg.minimum, np.minimum, untied, False),
    Case("where", mg.where, np.where, selection, False),
    Case("pow_whole", to_the, to_the, lambda exponent: single(reals), True, exponents(st.sampled_from([0, 1, 2, 3]))),
    Case("pow_negative", to_the, to_the, lambda exponent: single(nonzero), True,
         exponents(st.sampled_from([-1, -2, -3]))),
    Case("pow_fractional", to_the, to_the, lambda exponent: single(positives), True,
         exponents(st.floats(-2.5, 2.5) | st.sampled_from([0.5, -0.5, 1.5]))),
    Case("rpow", lambda x, base: base**x, lambda a, base: np.power(base, a), lambda base: single(reals), True,
         st.fixed_dictionaries({"base": st.floats(0.2, 4.0) | st.sampled_from([1.0, 2, 3, np.e])})),
]
by_name = pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])


@st.composite
def inputs(draw, case, dtype=np.float64):
    params = draw(case.params)
    arrays = draw(case.inputs(**params))
    tensors = [a if isinstance(a, mg.Tensor) else mg.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    return tensors, params


def raw(inputs):
    return [t.numpy() for t in inputs]


@by_name
@few
@given(data=st.data())
def test_forward_matches_numpy(case, data):
    xs, params = data.draw(inputs(case))
    expected = case.reference(*raw(xs), **params)
    y = case.op(*xs, **params)
    assert y.shape == np.shape(expected) and y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-14)


@by_name
@few
@given(data=st.data())
def test_gradient(case, data):
    xs, params = data.draw(inputs(case))
    gradcheck(lambda *ts: case.op(*ts, **params), xs)


@by_name
@few
@given(data=st.data())
def test_second_derivative(case, data):
    """The Hessian-vector product, and for the bilinear and piecewise-linear ops a VJP linear in the upstream
    gradient; for ops that are linear in their inputs the second derivative is exactly zero."""
    xs, params = data.draw(inputs(case))
    gradgradcheck(lambda *ts: case.op(*ts, **params), xs)
    if not case.curved:
        rng = np.random.default_rng(1)
        y = case.op(*xs, **params)
        v = mg.tensor(rng.standard_normal(y.shape), requires_grad=True)
        wrt = [x for x in xs if x.requires_grad]
        grads = mg.grad(y, wrt, [v], create_graph=True)
        live = [(g, x) for g, x in zip(grads, wrt) if g.requires_grad]
        second = mg.grad([g for g, _ in live], wrt, [mg.tensor(rng.standard_normal(x.shape)) for _, x in live],
                         allow_unused=True)
        assert all(h is None or not h.numpy().any() for h in second)


@by_name
@few
@given(data=st.data())
def test_float32_stays_float32(case, data):
    xs, params = data.draw(inputs(case, np.float32))
    y = case.op(*xs, **params)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), case.reference(*[a.astype(np.float64) for a in raw(xs)], **params),
                               rtol=1e-5, atol=1e-6)
    wrt = [x for x in xs if x.requires_grad]
    assert all(g.dtype == np.float32 for g in mg.grad(y, wrt, [mg.randn(*y.shape)]))


# -- Python numbers keep the tensor's precision ------------------------------------------------------

NUMBER_EXPRESSIONS = {
    "x + 1.5": lambda x: x + 1.5, "2 + x": lambda x: 2 + x, "x - 1": lambda x: x - 1, "2 - x": lambda x: 2 - x,
    "x * 2": lambda x: x * 2, "0.5 * x": lambda x: 0.5 * x, "x / 3": lambda x: x / 3, "3 / x": lambda x: 3 / x,
    "x ** 2": lambda x: x**2, "x ** 0.5": lambda x: x**0.5, "x ** -1": lambda x: x**-1,
    "2 ** x": lambda x: 2**x, "0.5 ** x": lambda x: 0.5**x, "x ** x": lambda x: x**x,
    "maximum(x, 1.0)": lambda x: mg.maximum(x, 1.0), "minimum(2, x)": lambda x: mg.minimum(2, x),
    "where(c, x, 0)": lambda x: mg.where(x > 1, x, 0), "where(c, 2.5, x)": lambda x: mg.where(x > 1, 2.5, x),
    "where(c, 3, x)": lambda x: mg.where(x > 1, 3, x),  # a number beside a boolean condition keeps its value
}


@pytest.mark.parametrize("expression", NUMBER_EXPRESSIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_python_numbers_keep_the_dtype(expression, dtype):
    values = np.array([[0.5, 1.25, 2.0], [3.0, 0.75, 1.5]])
    x = mg.tensor(values.astype(dtype), requires_grad=True)
    y = NUMBER_EXPRESSIONS[expression](x)
    assert y.dtype == dtype
    namespace = {"x": values, "c": values > 1, "maximum": np.maximum, "minimum": np.minimum, "where": np.where}
    np.testing.assert_allclose(y.numpy(), eval(expression, namespace), rtol=1e-6)
    assert mg.grad(y, [x], [mg.randn(*y.shape, dtype=dtype)])[0].dtype == dtype


def test_where_between_two_numbers_is_float32():
    y = mg.where(mg.tensor([True, False]), 2.5, -1.0)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), [2.5, -1.0])


def test_integer_tensors_with_float_numbers_become_float32():
    k = mg.arange(4)
    np.testing.assert_allclose((2.5**k).numpy(), 2.5 ** np.arange(4))
    np.testing.assert_allclose((k**0.5).numpy(), np.sqrt(np.arange(4)), rtol=1e-6)
    assert (2.5**k).dtype == np.float32 and (k**0.5).dtype == np.float32
    assert (k**2).dtype == np.int64 and (2**k).dtype == np.int64


# -- broadcasting errors -----------------------------------------------------------------------------

@st.composite
def clashing_shapes(draw):
    """Two shapes that do not broadcast: one axis of sizes n >= 2 and n + 1."""
    shape = draw(mst.shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    axis = draw(st.integers(0, len(shape) - 1))
    other = shape[:axis] + (shape[axis] + 1,) + shape[axis + 1:]
    lead = draw(st.integers(0, axis))  # the other shape may also lack leading axes
    return shape, other[lead:]


BINARY = {"add": mg.add, "sub": mg.sub, "mul": mg.mul, "div": mg.div, "power": mg.power,
          "maximum": mg.maximum, "minimum": mg.minimum, "where": lambda a, b: mg.where(mg.ones(*a.shape) > 0, a, b)}


@pytest.mark.parametrize("name", BINARY)
@settings(max_examples=10)
@given(shapes=clashing_shapes())
def test_shapes_that_do_not_broadcast(name, shapes):
    a, b = mg.ones(*shapes[0]), mg.ones(*shapes[1])
    with pytest.raises(ValueError) as error:
        BINARY[name](a, b)
    assert all(part in str(error.value) for part in (name, str(a.shape), str(b.shape)))


# -- operators and methods reach the same primitives ---------------------------------------------------

@pytest.mark.parametrize("expression, op, expected", [
    (lambda x, y: x + y, mg.add, lambda a, b: a + b), (lambda x, y: x.add(y), mg.add, lambda a, b: a + b),
    (lambda x, y: 2 - x, mg.sub, lambda a, b: 2 - a), (lambda x, y: x.sub(y), mg.sub, lambda a, b: a - b),
    (lambda x, y: y * x, mg.mul, lambda a, b: b * a), (lambda x, y: x.mul(3), mg.mul, lambda a, b: 3 * a),
    (lambda x, y: x / 3, mg.div, lambda a, b: a / 3), (lambda x, y: 1 / x, mg.div, lambda a, b: 1 / a),
    (lambda x, y: x.div(y), mg.div, lambda a, b: a / b),
    (lambda x, y: x**2, mg.pow, lambda a, b: a**2), (lambda x, y: x.pow(0.5), mg.pow, lambda a, b: a**0.5),
    (lambda x, y: 2**x, mg.rpow, lambda a, b: 2**a), (lambda x, y: x**y, mg.power, lambda a, b: a**b),
    (lambda x, y: x.pow(y), mg.power, lambda a, b: a**b),
    (lambda x, y: x.maximum(y), mg.maximum, np.maximum), (lambda x, y: x.minimum(y), mg.minimum, np.minimum),
    (lambda x, y: y.numpy() + x, mg.add, lambda a, b: a + b),  # an ndarray on the left defers to the Tensor
])
def test_operators_use_the_primitives(expression, op, expected):
    x, y = mg.rand(2, 3, requires_grad=True) + 0.5, mg.rand(3) + 0.5
    z = expression(x, y)
    assert z.grad_fn.primitive is op
    np.testing.assert_allclose(z.numpy(), expected(x.numpy(), y.numpy()), rtol=1e-6)


# -- known answers ---------------------------------------------------------------------------------------

def test_ties_split_the_gradient():
    a = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = mg.tensor([2.0, 2.0, 2.0], requires_grad=True)
    g = mg.tensor([4.0, 6.0, 8.0])
    np.testing.assert_allclose([t.numpy() for t in mg.grad(mg.maximum(a, b), [a, b], [g])], [[0, 3, 8], [4, 3, 0]])
    np.testing.assert_allclose([t.numpy() for t in mg.grad(mg.minimum(a, b), [a, b], [g])], [[4, 3, 0], [0, 3, 8]])


def test_broadcast_gradients_are_summed_to_each_shape():
    a, b = mg.ones(2, 1, requires_grad=True), mg.ones(3, requires_grad=True)
    g = mg.tensor(np.arange(6.0).reshape(2, 3))
    ga, gb = mg.grad(a * b, [a, b], [g])
    np.testing.assert_allclose(ga.numpy(), [[3], [12]])
    np.testing.assert_allclose(gb.numpy(), [3, 5, 7])


def test_pow_zero_and_one_at_zero():
    """d/dx x^0 = 0 and d/dx x^1 = 1 everywhere, 0 included (no 0 * inf)."""
    x = mg.tensor([0.0, 2.0], dtype=np.float64, requires_grad=True)
    for exponent, expected in [(0, [0, 0]), (1, [1, 1]), (2, [0, 4])]:
        np.testing.assert_allclose(mg.grad((x**exponent).sum(), [x])[0].numpy(), expected)


def test_powers_at_a_zero_base():
    """0^x and a^b at a = 0: the exponent's gradient z log a is 0 there (its limit), not NaN, as in torch."""
    x = mg.tensor([0.5, 2.0], dtype=np.float64, requires_grad=True)
    a = mg.tensor([0.0, 2.0], dtype=np.float64, requires_grad=True)
    np.testing.assert_array_equal(mg.grad((0**x).sum(), [x])[0].numpy(), [0, 0])
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.isnan(mg.grad(((-2.0) ** x).sum(), [x])[0].numpy()).all()  # no real logarithm: NaN, no error
        ga, gx = mg.grad((a**x).sum(), [a, x])
    np.testing.assert_allclose(ga.numpy(), [np.inf, 4.0])  # 0.5 * 0^-0.5 is infinite
    np.testing.assert_allclose(gx.numpy(), [0.0, 4 * np.log(2)])
