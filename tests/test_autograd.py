"""Autograd semantics: accumulation, freed graphs, mg.grad, grad modes, creation functions, dtypes."""

import numpy as np
import pytest

import minigan as mg
from minigan.autograd import primitive


def test_leaf_gradients_accumulate_across_backward_calls():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 7.0])
    assert x.grad.dtype == np.float32 and not x.grad.requires_grad


def test_leaf_gradients_own_their_memory():
    a, b = mg.ones(3, requires_grad=True), mg.ones(3, requires_grad=True)
    (a + b).sum().backward()  # both gradients are the same broadcast of the seed before they reach the leaves
    assert a.grad is not b.grad
    a.grad.array *= 2  # in place, as gradient clipping does
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0, 1.0])


def test_gradients_have_the_dtype_of_their_input():
    w = mg.ones(2, requires_grad=True)
    (w * mg.tensor(np.array([1.0, 2.0]))).sum().backward()  # float64 data, float32 weight
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0])
    x = mg.ones(2, requires_grad=True)
    x.double().sum().backward()
    assert x.grad.dtype == np.float32


def test_shared_subexpression_gets_the_gradient_of_every_consumer():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    b = x * 2
    a = b * 3  # a consumer of b that is itself an input of the same add
    (b + a).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 8.0])
    y = mg.tensor(3.0, requires_grad=True)
    z = y * y
    w = z * z + z  # z^2 + z = y^4 + y^2
    (w + z * y).backward()
    assert y.grad.item() == pytest.approx(4 * 27 + 2 * 3 + 3 * 9)


def test_second_backward_through_a_freed_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"backward through sum.*retain_graph"):
        y.backward()
    z = (x.exp() * 2).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 2 * np.exp([1.0, 2.0]) + 2 * np.exp([1.0, 2.0]), rtol=1e-6)


@pytest.mark.parametrize("options", [{}, {"allow_unused": True}, {"allow_unused": True, "materialize_grads": True}])
def test_grad_through_a_graph_another_grad_freed_raises_instead_of_returning_zeros(options):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    mg.grad((y * 2).sum(), [x])
    with pytest.raises(RuntimeError, match=r"backward through mul a second time.*retain_graph"):
        mg.grad((y * 3).sum(), [x], **options)
    z = x * x
    mg.grad((z * 2).sum(), [x], retain_graph=True)
    (gx,) = mg.grad((z * 3).sum(), [x])
    np.testing.assert_array_equal(gx.numpy(), [6.0, 12.0])


@pytest.mark.parametrize("retain", [False, True])
def test_backward_releases_what_the_graph_held_unless_it_is_retained(retain):
    """As PyTorch frees saved tensors: an intermediate only the graph holds is freed by the backward."""
    import gc
    import weakref

    x = mg.randn(50, 40, requires_grad=True)
    hidden = (x * 2).tanh()
    kept = weakref.ref(hidden)
    loss = (hidden * hidden).sum()  # mul keeps ``hidden`` as its input
    del hidden
    gc.collect()
    assert kept() is not None
    loss.backward(retain_graph=retain)
    gc.collect()
    assert (kept() is not None) == retain and loss.requires_grad  # the loss itself is still alive
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.tanh(2 * x.numpy()) / np.cosh(2 * x.numpy()) ** 2, atol=1e-5)


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = mg.randn(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        (x * 2).backward()
    (x * 2).backward(mg.ones(2, 3))
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 2.0))
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2, 3\)"):
        (x * 2).backward(mg.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.ones(2).sum().backward()


def test_grad_returns_a_tuple_and_honours_grad_outputs():
    x, y = mg.tensor([1.0, 2.0], requires_grad=True), mg.tensor([3.0, 4.0], requires_grad=True)
    out = x * y
    grads = mg.grad(out, [x, y], grad_outputs=mg.tensor([1.0, -1.0]))
    assert isinstance(grads, tuple) and len(grads) == 2
    np.testing.assert_array_equal(grads[0].numpy(), [3.0, -4.0])
    np.testing.assert_array_equal(grads[1].numpy(), [1.0, -2.0])
    assert x.grad is None and y.grad is None  # returned, not accumulated
    (gx,) = mg.grad((x * x).sum(), x)
    np.testing.assert_array_equal(gx.numpy(), [2.0, 4.0])


def test_grad_unused_inputs():
    x, unused = mg.tensor([1.0], requires_grad=True), mg.tensor([1.0], requires_grad=True)
    gx, gu = mg.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None and gx.item() == 2.0
    with pytest.raises(RuntimeError, match=r"input 1.*allow_unused"):
        mg.grad((x * 2).sum(), [x, unused])
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.grad((x * 2).sum(), [mg.tensor([1.0])])


def test_higher_order_derivatives_with_create_graph():
    x = mg.tensor([0.5, -2.0, 3.0], dtype=np.float64, requires_grad=True)
    (d1,) = mg.grad((x * x * x * x).sum(), [x], create_graph=True)
    (d2,) = mg.grad(d1.sum(), [x], create_graph=True)
    (d3,) = mg.grad(d2.sum(), [x])
    np.testing.assert_allclose(d1.numpy(), 4 * x.numpy() ** 3)
    np.testing.assert_allclose(d2.numpy(), 12 * x.numpy() ** 2)
    np.testing.assert_allclose(d3.numpy(), 24 * x.numpy())
    assert d1.requires_grad and not d3.requires_grad


def test_grad_with_respect_to_an_intermediate_tensor():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    (gh,) = mg.grad((h * h).sum(), [h])
    np.testing.assert_array_equal(gh.numpy(), 2 * h.numpy())
    assert x.grad is None
    gh, gx = mg.grad((h * h).sum(), [h, x], retain_graph=True)
    np.testing.assert_array_equal(gx.numpy(), 18 * x.numpy())


def test_grad_stops_at_the_requested_tensors():
    @primitive
    def floor(x):
        return np.floor(x)  # no VJP: backward must not go below the requested tensor

    h = floor(mg.tensor([1.5, 2.5], requires_grad=True)) * 2
    (gh,) = mg.grad((h * h).sum(), [h])
    np.testing.assert_array_equal(gh.numpy(), [4.0, 8.0])


def test_no_grad_and_enable_grad():
    x = mg.tensor([1.0], requires_grad=True)
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        assert not (x * 2).requires_grad
        with mg.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert mg.is_grad_enabled() and (x * 2).requires_grad

    @mg.no_grad()
    def doubled(t):
        return t * 2

    @mg.no_grad
    def tripled(t):
        return t * 3

    assert not doubled(x).requires_grad and not tripled(x).requires_grad
    assert doubled.__name__ == "doubled" and mg.is_grad_enabled()


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError), mg.no_grad():
        1 / 0
    assert mg.is_grad_enabled()


def test_detach_and_requires_grad_():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    np.testing.assert_array_equal(d.numpy(), [2.0, 4.0])
    assert (x * 2).grad_fn is not None and not (x * 2).is_leaf
    with pytest.raises(RuntimeError, match="int64"):
        mg.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="floating"):
        mg.arange(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad_(False)


@pytest.mark.parametrize("make", [
    lambda **kw: mg.tensor([1.5, 2.0], **kw), lambda **kw: mg.zeros(2, 3, **kw), lambda **kw: mg.ones((2,), **kw),
    lambda **kw: mg.full((2, 2), 0.5, **kw), lambda **kw: mg.randn(3, **kw), lambda **kw: mg.rand(3, **kw),
    lambda **kw: mg.arange(0.0, 1.0, 0.25, **kw), lambda **kw: mg.zeros_like(mg.ones(2), **kw),
    lambda **kw: mg.ones_like(mg.ones(2), **kw),
])
def test_creation_defaults_to_float32_and_honours_dtype(make):
    assert make().dtype == np.float32
    assert make(dtype=mg.float64).dtype == np.float64
    assert make(dtype=np.float64, requires_grad=True).requires_grad


def test_creation_values_and_integer_dtypes():
    np.testing.assert_array_equal(mg.full((2,), 7.0).numpy(), [7.0, 7.0])
    assert mg.arange(4).dtype == np.int64 and mg.arange(4).tolist() == [0, 1, 2, 3]
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor(np.zeros(2)).dtype == np.float64  # an ndarray keeps its dtype
    assert 0 <= mg.rand(100).numpy().min() and mg.rand(100).numpy().max() < 1
    assert mg.zeros_like(mg.ones(2, dtype=mg.float64)).dtype == np.float64


def test_same_seed_same_numbers():
    mg.manual_seed(123)
    a, b = mg.randn(5), mg.rand(2, 2)
    mg.manual_seed(123)
    np.testing.assert_array_equal(a.numpy(), mg.randn(5).numpy())
    np.testing.assert_array_equal(b.numpy(), mg.rand(2, 2).numpy())
    assert not np.array_equal(mg.randn(5).numpy(), a.numpy())
    g1, g2 = mg.Generator(7), mg.Generator(7)
    np.testing.assert_array_equal(mg.randn(3, generator=g1).numpy(), mg.randn(3, generator=g2).numpy())


def test_numpy_interop():
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    a = np.asarray(x)
    assert isinstance(a, np.ndarray) and a.dtype == np.float32 and a.shape == (1, 2)
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert x.tolist() == [[1.0, 2.0]] and x[0, 1].item() == 2.0
    y = np.ones(2, np.float32) * x  # an ndarray on the left defers to the tensor
    assert isinstance(y, mg.Tensor) and y.requires_grad


def test_comparisons_are_not_differentiable():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for mask in (x > 1.5, x >= 2, x < 2, x <= 2, x == 2, x != 2, x > mg.tensor([0.0, 5.0, 0.0])):
        assert mask.dtype == np.bool_ and not mask.requires_grad and mask.grad_fn is None
    np.testing.assert_array_equal((x > 1.5).numpy(), [False, True, True])


def test_python_scalars_keep_the_tensor_dtype():
    x = mg.ones(2)
    for y in (x * 2, 2 * x, x + 0.5, 1 - x, x / 3, x ** 2, 2.0 ** x):
        assert y.dtype == np.float32
    assert (mg.ones(2, dtype=mg.float64) * 2).dtype == np.float64
    assert (mg.arange(3) * 2).dtype == np.int64


@primitive
def _bad_square(x):
    return x * x


@_bad_square.vjp
def _(g, y, x):
    return g.sum()  # wrong: a scalar for an input of shape (2,)


def test_a_wrongly_shaped_vjp_is_reported():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"_bad_square.*\(\).*\(2,\)"):
        _bad_square(x).sum().backward()


def test_a_vjp_with_the_wrong_number_of_gradients_is_reported():
    @primitive
    def pair_sum(a, b):
        return a + b

    pair_sum.vjp(lambda g, y, a, b: g)
    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"pair_sum returned 1 gradients for 2 inputs"):
        pair_sum(x, x).sum().backward()


def test_a_primitive_without_vjp_is_not_differentiable():
    @primitive
    def floor(x):
        return np.floor(x)

    with pytest.raises(RuntimeError, match="floor is not differentiable"):
        floor(mg.tensor([1.5], requires_grad=True)).sum().backward()
