"""gradcheck and gradgradcheck pass on right derivatives, fail on wrong ones, and tell kinks apart;
the strategies draw what they promise."""

import re

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan.testing import GradcheckError, NonDifferentiableError, gradcheck, gradgradcheck
from minigan.testing import strategies as mst

checks = settings(max_examples=25, deadline=None)
small = mst.shapes(max_dims=3, max_side=3)  # second-order checks cost one backward per element


# -- primitives with known derivatives, right and wrong --------------------------------------------

@mg.primitive
def sin(x):
    return np.sin(x)


@sin.vjp
def _(g, y, x):
    return g * cos(x)


@mg.primitive
def cos(x):
    return np.cos(x)


@cos.vjp
def _(g, y, x):
    return -g * sin(x)


@mg.primitive
def sin_scaled_vjp(x):
    return np.sin(x)


@sin_scaled_vjp.vjp
def _(g, y, x):
    return g * cos(x) * 1.01  # a one-percent error


@mg.primitive
def cos_sign_slip(x):
    return np.cos(x)


@cos_sign_slip.vjp
def _(g, y, x):
    return g * sin(x)  # the minus sign is missing


@mg.primitive
def sin_wrong_above_2(x):
    return np.sin(x)


@sin_wrong_above_2.vjp
def _(g, y, x):
    return g * cos(x) * mg.tensor(np.where(x.numpy() > 2, 1.5, 1.0))


@mg.primitive
def abs_plus_one_at_zero(x):
    return np.abs(x)


@abs_plus_one_at_zero.vjp
def _(g, y, x):
    return g * mg.tensor(np.where(x.numpy() >= 0, 1.0, -1.0))  # a subgradient, as some libraries pick


@mg.primitive
def center(x):
    return x - x.mean()


@center.vjp
def _(g, y, x):
    return g * 0  # wrong (the VJP is g - mean(g)), yet right for g = ones


@mg.primitive
def square_detached(x):
    return x * x


@square_detached.vjp
def _(g, y, x):
    return g * 2 * x.detach()  # right value, but d/dx of the VJP is lost


@mg.primitive
def square_detached_upstream(x):
    return x * x


@square_detached_upstream.vjp
def _(g, y, x):
    return g.detach() * 2 * x  # right value, but d/dv of the VJP is lost


def leaf(array):
    return mg.tensor(np.asarray(array, np.float64), requires_grad=True)


def raised(check, fn, inputs, **kwargs):
    with pytest.raises(GradcheckError) as info:
        check(fn, inputs, **kwargs)
    return info.value


# -- gradcheck passes on right gradients ------------------------------------------------------------

@checks
@given(shapes=mst.broadcastable_shapes(max_dims=3), data=st.data())
def test_smooth_ops_pass(shapes, data):
    x, y = (data.draw(mst.tensors(shape)) for shape in shapes.input_shapes)
    assert gradcheck(lambda a, b: (a * b).tanh() + a.exp() * mg.sigmoid(b), [x, y])
    assert gradcheck(lambda a, b: (sin(a), cos(a) * b), [x, y])  # tuple outputs


@checks
@given(x=mst.tensors(avoid=(-1.0, 0.0, 1.0)))
def test_kinked_ops_pass_away_from_their_kinks(x):
    for fn in (lambda t: t.relu(), lambda t: t.abs(), lambda t: mg.leaky_relu(t, negative_slope=0.2),
               lambda t: mg.clamp(t, min=-1.0, max=1.0), lambda t: (1 - t).relu()):  # the last: a hinge
        assert gradcheck(fn, x)


@checks
@given(x=mst.positive_arrays().map(leaf))
def test_log_and_sqrt_pass_on_positive_inputs(x):
    assert gradcheck(lambda t: (mg.log(t), mg.sqrt(t)), [x])


def test_inputs_are_converted_and_passed_through():
    x32 = mg.tensor(np.linspace(-1, 1, 6).reshape(2, 3), dtype=np.float32, requires_grad=True)
    fixed = mg.tensor([0.5, -2.0, 1.0])  # does not require grad: passed as it is, not checked
    seen = []

    def fn(x, power, c, unused):
        seen.append((x.dtype, c is fixed))
        return (x ** power * c).tanh()

    assert gradcheck(fn, [x32, 3, fixed, leaf([1.0, 2.0])])
    assert set(seen) == {(np.dtype(np.float64), True)}
    assert x32.dtype == np.float32 and x32.grad is None  # the caller's tensors are left alone


def test_function_that_differentiates_internally():
    def gradient_norm_squared(x, w):  # a gradient penalty: what WGAN-GP steps on
        (g,) = mg.grad(((x * w).tanh() ** 3).sum(), [x], create_graph=True)
        return (g * g).sum()

    rng = np.random.default_rng(1)
    assert gradcheck(gradient_norm_squared, [leaf(rng.normal(size=(2, 3))), leaf(rng.normal(size=3))])


# -- gradcheck fails on wrong gradients --------------------------------------------------------------

@pytest.mark.parametrize("wrong", [sin_scaled_vjp, cos_sign_slip])
def test_wrong_vjp_is_a_gradcheck_error_not_a_kink(wrong):
    error = raised(gradcheck, wrong, leaf(np.linspace(-2, 2, 8).reshape(2, 4)))
    assert type(error) is GradcheckError
    assert not gradcheck(wrong, leaf([0.3, 1.2]), raise_exception=False)


def test_error_names_input_element_and_values():
    b = leaf(np.linspace(0, 2.5, 6).reshape(2, 3))  # only b[1, 2] = 2.5 is above 2
    v = np.random.default_rng(2).normal(size=(2, 3))
    error = raised(gradcheck, lambda a, b: a.tanh() + sin_wrong_above_2(b), [leaf(np.ones((2, 3))), b],
                   grad_outputs=mg.tensor(v))
    analytic, numeric = 1.5 * np.cos(2.5) * v[1, 2], np.cos(2.5) * v[1, 2]
    assert (error.input_index, error.element) == (1, (1, 2))
    np.testing.assert_allclose([error.analytic, error.numeric], [analytic, numeric], rtol=1e-6)
    message = str(error)
    assert "input 1" in message and "element (1, 2)" in message
    assert re.search(rf"analytic {analytic:.6g}, numeric {numeric:.6g}", message)


def test_random_upstream_catches_what_all_ones_misses():
    x = leaf([0.5, -1.0, 2.0])
    assert gradcheck(center, x, grad_outputs=mg.ones(3, dtype=np.float64))  # blind: J^T 1 = 0
    assert not gradcheck(center, x, raise_exception=False)


# -- kinks -----------------------------------------------------------------------------------------

KINKED = [  # a function and a point with one element on its kink
    (lambda t: t.relu(), [[0.7, -0.4], [0.0, 2.0]]),
    (lambda t: mg.leaky_relu(t, negative_slope=0.1), [[0.7, -0.4], [0.0, 2.0]]),
    (abs_plus_one_at_zero, [[0.7, -0.4], [0.0, 2.0]]),
    (lambda t: (1 - t).relu(), [[0.7, -0.4], [1.0, 2.0]]),  # a hinge, kinked at 1
]


@pytest.mark.parametrize("fn, point", KINKED, ids=["relu", "leaky_relu", "abs", "hinge"])
def test_kink_is_reported_as_non_differentiable(fn, point):
    error = raised(gradcheck, fn, leaf(point))
    assert isinstance(error, NonDifferentiableError)
    assert "not differentiable" in str(error) and "input 0, element (1, 0)" in str(error)
    assert error.element == (1, 0) and error.forward != error.backward


def test_jump_in_the_first_derivative_is_reported_by_gradgradcheck():
    error = raised(gradgradcheck, lambda t: t.abs(), leaf([1.0, 0.0, -1.0]))  # abs' = sign jumps at 0
    assert isinstance(error, NonDifferentiableError) and error.element == (1,)
    assert "first derivative is not differentiable" in str(error)


# -- gradgradcheck -----------------------------------------------------------------------------------

@checks
@given(shapes=mst.broadcastable_shapes(max_dims=2, max_side=3), data=st.data())
def test_gradgradcheck_passes_on_smooth_functions(shapes, data):
    x, y = (data.draw(mst.tensors(shape)) for shape in shapes.input_shapes)
    assert gradgradcheck(lambda a, b: a * a * b, [x, y])
    assert gradgradcheck(lambda a, b: (a.tanh() * sin(b), cos(a)), [x, y])


@checks
@given(x=mst.tensors(small))
def test_gradgradcheck_fails_on_a_vjp_cut_from_its_input(x):
    assert gradcheck(square_detached, x)  # first order is right
    error = raised(gradgradcheck, square_detached, x)
    assert type(error) is GradcheckError
    assert "second derivative" in str(error) and "input 0" in str(error)


def test_gradgradcheck_fails_on_a_vjp_cut_from_its_upstream_gradient():
    x = leaf([[0.5, -1.5, 2.0]])
    assert gradcheck(square_detached_upstream, x)
    error = raised(gradgradcheck, square_detached_upstream, x)
    assert "second derivative" in str(error) and "upstream gradient 0" in str(error)


def test_gradgradcheck_with_given_upstream_and_unused_inputs():
    x, unused = leaf([0.3, -0.8]), leaf([1.0])
    assert gradgradcheck(lambda a, u: a.tanh(), [x, unused], grad_outputs=[mg.tensor([2.0, -1.0])])


# -- strategies ------------------------------------------------------------------------------------

@checks
@given(data=st.data(), avoid=st.lists(st.sampled_from([-2.0, -0.5, 0.0, 1.0, 3.0]), unique=True),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_arrays_keep_their_margin_and_bounds(data, avoid, dtype):
    a = data.draw(mst.arrays(dtype=dtype, avoid=avoid, margin=0.05))
    assert a.dtype == dtype and np.isfinite(a).all()
    assert ((a >= -3) & (a <= 3)).all()
    for p in avoid:
        assert (np.abs(a.astype(np.float64) - p) >= 0.05).all()


@checks
@given(a=mst.positive_arrays(shape=(2, 3)), t=mst.tensors(mst.shapes(max_dims=2), requires_grad=False))
def test_positive_arrays_and_tensors(a, t):
    assert a.shape == (2, 3) and (a >= 0.1).all()
    assert isinstance(t, mg.Tensor) and t.dtype == np.float64 and not t.requires_grad
    assert t.ndim <= 2


@checks
@given(shapes=mst.broadcastable_shapes(num_shapes=3))
def test_broadcastable_shapes_broadcast(shapes):
    input_shapes, result = shapes
    assert len(input_shapes) == 3 and np.broadcast_shapes(*input_shapes) == result


def expected_output_size(size, k, s, p, d, q, transposed):
    if transposed:
        return (size - 1) * s - 2 * p + d * (k - 1) + q + 1
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


@checks
@given(g=st.one_of(mst.conv_geometries(), mst.conv_geometries(transposed=True)))
def test_conv_geometries_are_valid(g):
    for axis, size in enumerate((g.height, g.width)):
        k, s, p, d, q = (getattr(g, f)[axis] for f in ("kernel_size", "stride", "padding", "dilation",
                                                        "output_padding"))
        assert 1 <= k <= 4 and 1 <= s <= 3 and 1 <= d <= 2 and 0 <= p <= min(2, (d * (k - 1) + 1) // 2)
        assert 0 <= q < max(s, d) and (g.transposed or q == 0)
        assert g.output_size[axis] == expected_output_size(size, k, s, p, d, q, g.transposed) >= 1
    assert dict(g)["stride"] == g["stride"] == g.stride and g.output_shape == (g.n, g.c_out, *g.output_size)
    if not g.transposed:  # unfold finds as many kernel positions as the formula says
        cols = mg.unfold(mg.zeros(*g.input_shape), g.kernel_size, **g.kwargs)
        assert cols.shape[-1] == g.output_size[0] * g.output_size[1]


def test_conv_geometries_reach_the_awkward_cases():
    def awkward(g):
        (kh, kw), (sh, _) = g.kernel_size, g.stride
        return g.n == 1 and kh != kw and g.height != g.width and sh > kh

    assert awkward(find(mst.conv_geometries(), awkward))
    assert find(mst.conv_geometries(transposed=True), lambda g: max(g.output_padding) > 0).transposed
