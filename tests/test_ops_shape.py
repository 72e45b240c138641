"""Shape primitives: forward equals NumPy, gradients match finite differences, adjoint pairs are adjoint."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigan as mg
from minigan.testing import gradcheck, gradgradcheck

SHAPES = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3)
few = settings(max_examples=25)


def leaf(shape, seed=0):
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def same(t, expected):
    assert t.shape == np.shape(expected)
    np.testing.assert_array_equal(t.numpy(), expected)


# -- reshape, flatten, squeeze, unsqueeze, permute, transpose ------------------------------

@few
@given(shape=SHAPES, data=st.data())
def test_reshape_and_view_with_minus_one(shape, data):
    x = leaf(shape)
    new = list(reversed(shape))
    new[data.draw(st.integers(0, len(new) - 1))] = -1
    same(x.reshape(*new), x.numpy().reshape(new))
    same(x.view(new), x.numpy().reshape(new))
    same(mg.reshape(x, tuple(new)), x.numpy().reshape(new))
    gradcheck(lambda t: t.reshape(*new), [x])


@few
@given(shape=SHAPES, data=st.data())
def test_permute_and_transpose(shape, data):
    x, n = leaf(shape), len(shape)
    perm = data.draw(st.permutations(range(n)))
    d0, d1 = data.draw(st.integers(-n, n - 1)), data.draw(st.integers(-n, n - 1))
    same(x.permute(*perm), x.numpy().transpose(perm))
    same(mg.transpose(x, d0, d1), np.swapaxes(x.numpy(), d0, d1))
    same(x.T, x.numpy().T)
    gradcheck(lambda t: t.permute(*perm), [x])
    gradcheck(lambda t: t.transpose(d0, d1), [x])


@few
@given(shape=SHAPES, data=st.data())
def test_flatten(shape, data):
    x, n = leaf(shape), len(shape)
    start = data.draw(st.integers(0, n - 1))
    end = data.draw(st.integers(start, n - 1))
    expected = x.numpy().reshape(shape[:start] + (-1,) + shape[end + 1:])
    same(x.flatten(start, end - n), expected)  # a negative end_dim counts from the back
    same(mg.flatten(mg.tensor(2.0)), np.array([2.0], np.float32))
    gradcheck(lambda t: mg.flatten(t, start, end), [x])


@few
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=2), data=st.data())
def test_squeeze_and_unsqueeze(shape, data):
    x, n = leaf(shape), len(shape)
    dim = data.draw(st.integers(-n, n - 1))
    new = data.draw(st.integers(-n - 1, n))
    same(x.squeeze(), np.squeeze(x.numpy()))
    same(x.squeeze(dim), np.squeeze(x.numpy(), dim) if shape[dim] == 1 else x.numpy())
    same(x.unsqueeze(new), np.expand_dims(x.numpy(), new))
    gradcheck(lambda t: t.squeeze(), [x])
    gradcheck(lambda t: t.unsqueeze(new), [x])


# -- broadcast_to, expand, sum_to: an adjoint pair --------------------------------------------

@st.composite
def broadcast_pairs(draw):
    """(small, big): ``small`` broadcasts to ``big`` (fewer leading axes, some axes of size 1)."""
    big = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3))
    lead = draw(st.integers(0, len(big)))
    small = tuple(1 if draw(st.booleans()) else s for s in big[lead:])
    return small, big


def naive_sum_to(y, shape):
    lead = y.ndim - len(shape)
    y = y.sum(axis=tuple(range(lead)))
    for axis, s in enumerate(shape):
        if s == 1:
            y = y.sum(axis=axis, keepdims=True)
    return y


@few
@given(pair=broadcast_pairs())
def test_broadcast_to_expand_and_sum_to(pair):
    small, big = pair
    x, y = leaf(small, 1), leaf(big, 2)
    same(mg.broadcast_to(x, shape=big), np.broadcast_to(x.numpy(), big))
    same(x.broadcast_to(big), np.broadcast_to(x.numpy(), big))
    keep = tuple(-1 if i >= len(big) - len(small) and s == small[i - len(big) + len(small)] else s
                 for i, s in enumerate(big))
    same(x.expand(*keep), np.broadcast_to(x.numpy(), big))
    np.testing.assert_allclose(mg.sum_to(y, shape=small).numpy(), naive_sum_to(y.numpy(), small), rtol=1e-12)
    np.testing.assert_allclose(y.sum_to(small).numpy(), naive_sum_to(y.numpy(), small), rtol=1e-12)
    # <broadcast_to(x), y> == <x, sum_to(y)>
    lhs = np.vdot(mg.broadcast_to(x, shape=big).numpy(), y.numpy())
    rhs = np.vdot(x.numpy(), mg.sum_to(y, shape=small).numpy())
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)
    for fn, t in ((lambda t: mg.broadcast_to(t, shape=big), x), (lambda t: mg.sum_to(t, shape=small), y)):
        gradcheck(fn, [t])
        gradgradcheck(fn, [t])
        gradgradcheck(lambda t: fn(t * t), [t])


def test_broadcast_and_sum_to_errors():
    with pytest.raises(ValueError, match=r"broadcast_to.*\(2, 3\).*\(4, 3\)"):
        mg.broadcast_to(mg.zeros(2, 3), shape=(4, 3))
    with pytest.raises(ValueError, match=r"sum_to.*\(2, 3\).*\(2,\)"):
        mg.sum_to(mg.zeros(2, 3), shape=(2,))
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\).*\(4,\)"):
        mg.zeros(2, 3).reshape(4)
    with pytest.raises(ValueError, match="permute"):
        mg.zeros(2, 3).permute(0, 0)
    with pytest.raises(ValueError, match="flatten"):
        mg.zeros(2, 3, 4).flatten(2, 0)
    with pytest.raises(IndexError, match="unsqueeze"):
        mg.zeros(2, 3).unsqueeze(4)


# -- getitem and scatter_add: an adjoint pair ---------------------------------------------------

@st.composite
def indexings(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    kind = draw(st.sampled_from(["basic", "integer", "mask", "mixed"]))
    if kind == "basic":  # ints, slices (negative steps too), None, Ellipsis
        index = draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    elif kind == "integer":  # integer arrays, usually with repeated entries
        index = draw(hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(max_dims=2, max_side=5)))
    elif kind == "mask":
        k = draw(st.integers(1, len(shape)))
        index = draw(hnp.arrays(np.bool_, shape[:k]))
    else:  # a reversed slice then repeated integers, or Ellipsis then repeated integers
        side = shape[1] if len(shape) > 1 else shape[0]
        rows = draw(hnp.arrays(np.int64, draw(st.integers(1, 6)), elements=st.integers(-side, side - 1)))
        index = (slice(None, None, -draw(st.integers(1, 2))), rows) if len(shape) > 1 else (Ellipsis, rows)
    return shape, index if isinstance(index, tuple) else (index,)


@settings(max_examples=60)
@given(case=indexings())
def test_getitem_matches_numpy_and_scatter_add_is_its_adjoint(case):
    shape, index = case
    x = leaf(shape)
    y = x[index]
    same(y, x.numpy()[index])
    gradcheck(lambda t: t[index], [x])
    # <x[i], u> == <x, scatter_add(u, i)>, repeated indices included
    u = leaf(y.shape, 3)
    scattered = mg.scatter_add(u, index=index, shape=shape)
    np.testing.assert_allclose(np.vdot(y.numpy(), u.numpy()), np.vdot(x.numpy(), scattered.numpy()), atol=1e-12)
    gradcheck(lambda t: mg.scatter_add(t, index=index, shape=shape), [u])
    gradgradcheck(lambda t: t[index] * t[index], [x])


def test_getitem_gradient_sums_repeated_indices():
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    (x[[0, 0, 2, 0]] * mg.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    same(x.grad, np.array([7.0, 0.0, 3.0, 0.0], np.float32))
    m = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    m[mg.tensor([1, 1]), ::-1].sum().backward()
    same(m.grad, np.array([[0, 0, 0], [2, 2, 2]], np.float64))


def test_getitem_with_tensor_mask_and_out_of_range():
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    mask = x > 2.5
    same(x[mask], np.array([3.0, 4.0, 5.0]))
    x[mask].sum().backward()
    same(x.grad, (np.arange(6.0).reshape(2, 3) > 2.5).astype(np.float64))
    with pytest.raises(IndexError, match=r"getitem.*\(2, 3\)"):
        x[5]


# -- cat, stack, pad ------------------------------------------------------------------------------

@few
@given(shape=SHAPES, data=st.data())
def test_cat_and_stack(shape, data):
    n = len(shape)
    axis = data.draw(st.integers(-n, n - 1))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    parts = [leaf(shape[:axis % n] + (s,) + shape[axis % n + 1:], i) for i, s in enumerate(sizes)]
    same(mg.cat(parts, dim=axis), np.concatenate([p.numpy() for p in parts], axis=axis))
    gradcheck(lambda *ts: mg.cat(ts, dim=axis), parts)
    new = data.draw(st.integers(-n - 1, n))
    equal = [leaf(shape, i) for i in range(len(sizes))]
    same(mg.stack(equal, dim=new), np.stack([p.numpy() for p in equal], axis=new))
    gradcheck(lambda *ts: mg.stack(ts, dim=new), equal)


def test_cat_gradient_skips_constants_and_checks_shapes():
    a, b = mg.ones(2, requires_grad=True), mg.ones(3)
    (mg.cat([a, b]) * mg.arange(5.0)).sum().backward()
    same(a.grad, np.array([0.0, 1.0], np.float32))
    assert b.grad is None
    with pytest.raises(ValueError, match=r"cat.*\(2, 3\).*\(2, 4\)"):
        mg.cat([mg.zeros(2, 3), mg.zeros(2, 4)], dim=0)
    with pytest.raises(ValueError, match="stack"):
        mg.stack([mg.zeros(2), mg.zeros(3)])


def naive_pad(x, pad, value):
    """``torch.nn.functional.pad``: (left, right) pairs from the last dimension backwards."""
    shape, where = list(x.shape), [slice(None)] * x.ndim
    for j in range(len(pad) // 2):
        d = x.ndim - 1 - j
        shape[d] += pad[2 * j] + pad[2 * j + 1]
        where[d] = slice(pad[2 * j], pad[2 * j] + x.shape[d])
    out = np.full(shape, value, x.dtype)
    out[tuple(where)] = x
    return out


@few
@given(shape=SHAPES, data=st.data())
def test_pad_constant(shape, data):
    k = data.draw(st.integers(1, len(shape)))
    widths = tuple(data.draw(st.lists(st.integers(0, 2), min_size=2 * k, max_size=2 * k)))
    value = data.draw(st.sampled_from([0.0, -1.5]))
    x = leaf(shape)
    same(mg.pad(x, widths, value=value), naive_pad(x.numpy(), widths, value))
    gradcheck(lambda t: mg.pad(t, widths, value=value), [x])
    gradgradcheck(lambda t: mg.pad(t * t, widths, value=value), [x])


def test_pad_errors():
    with pytest.raises(ValueError, match="pad"):
        mg.pad(mg.zeros(2), (1, 1, 1, 1))
    with pytest.raises(ValueError, match="pad"):
        mg.pad(mg.zeros(2), (-1, 1))
    with pytest.raises(NotImplementedError, match="reflect"):
        mg.pad(mg.zeros(2), (1, 1), mode="reflect")
