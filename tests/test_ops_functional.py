"""log_softmax, softmax, cross_entropy and BCE-with-logits: naive formulas, gradients, extreme logits, torch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigan as mg
from minigan.testing import gradcheck, gradgradcheck

few = settings(max_examples=25)
REDUCTIONS = ["mean", "sum", "none"]


def leaf(shape, seed=0, scale=1.0):
    return mg.tensor(scale * np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def naive_log_softmax(x, axis):
    return np.log(np.exp(x) / np.exp(x).sum(axis=axis, keepdims=True))


def naive_bce(x, t, weight=1.0, pos_weight=1.0):
    """The definition, :math:`-w[p\\,t \\log\\sigma(x) + (1 - t)\\log(1 - \\sigma(x))]`, fine for moderate logits."""
    s = 1 / (1 + np.exp(-x))
    return -weight * (pos_weight * t * np.log(s) + (1 - t) * np.log(1 - s))


def reduce(loss, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](loss)


# -- log_softmax, softmax ------------------------------------------------------------------------

@few
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_log_softmax_and_softmax(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = leaf(shape, scale=3.0)
    expected = naive_log_softmax(x.numpy(), dim)
    np.testing.assert_allclose(mg.log_softmax(x, dim).numpy(), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.softmax(dim).numpy(), np.exp(expected), rtol=1e-10, atol=1e-12)
    for fn in (lambda t: mg.log_softmax(t, dim), lambda t: mg.softmax(t, dim)):
        gradcheck(fn, [x])
        gradgradcheck(fn, [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_softmax_extreme_logits(dtype):
    x = mg.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=dtype, requires_grad=True)
    y = mg.log_softmax(x, dim=1)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.numpy(), [[0, -2e4, -1e4], [-np.log(3)] * 3], rtol=1e-6)
    u = np.array([[1.0, 2.0, 3.0], [1.0, -1.0, 0.5]], dtype)
    y.backward(mg.tensor(u, dtype=dtype))
    p = np.array([[1, 0, 0], [1 / 3] * 3])
    np.testing.assert_allclose(x.grad.numpy(), u - p * u.sum(1, keepdims=True), rtol=1e-5, atol=1e-6)
    assert np.isfinite(mg.softmax(x, 0).numpy()).all()


# -- cross_entropy ---------------------------------------------------------------------------------

@st.composite
def classification(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    extra = draw(st.sampled_from([(), (2,), (1, 3)]))
    target = draw(hnp.arrays(np.int64, (n,) + extra, elements=st.integers(0, c - 1)))
    return (n, c) + extra, target


@few
@given(case=classification(), reduction=st.sampled_from(REDUCTIONS))
def test_cross_entropy(case, reduction):
    shape, target = case
    x = leaf(shape, scale=2.0)
    picked = np.take_along_axis(naive_log_softmax(x.numpy(), 1), target[:, None], axis=1)[:, 0]
    loss = mg.cross_entropy(x, target, reduction=reduction)
    np.testing.assert_allclose(loss.numpy(), reduce(-picked, reduction), rtol=1e-10)
    assert loss.shape == (target.shape if reduction == "none" else ())
    fn = lambda t: mg.cross_entropy(t, mg.tensor(target), reduction=reduction)  # noqa: E731
    gradcheck(fn, [x])
    gradgradcheck(fn, [x])


def test_cross_entropy_extreme_logits_and_errors():
    for dtype in (np.float32, np.float64):
        x = mg.tensor([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0]], dtype=dtype, requires_grad=True)
        loss = mg.cross_entropy(x, [0, 1])
        assert loss.dtype == dtype and np.isfinite(loss.item())
        np.testing.assert_allclose(loss.item(), 1e4, rtol=1e-6)
        loss.backward()
        np.testing.assert_allclose(x.grad.numpy(), [[0, 0, 0], [0.5, -0.5, 0]], atol=1e-6)
    with pytest.raises(ValueError, match="reduction"):
        mg.cross_entropy(mg.zeros(2, 3), [0, 1], reduction="max")
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3,\)"):
        mg.cross_entropy(mg.zeros(2, 3), [0, 1, 2])
    with pytest.raises(IndexError, match=r"\[0, 3\)"):
        mg.cross_entropy(mg.zeros(2, 3), [0, 3])
    with pytest.raises(TypeError, match="integer"):
        mg.cross_entropy(mg.zeros(2, 3), [0.0, 1.0])


# -- binary_cross_entropy_with_logits ------------------------------------------------------------

@st.composite
def bce_cases(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    weight = draw(st.sampled_from([None, shape, shape[-1:]]))
    pos_weight = draw(st.sampled_from([None, shape[-1:]]))
    return shape, weight, pos_weight


@few
@given(case=bce_cases(), reduction=st.sampled_from(REDUCTIONS))
def test_bce_with_logits(case, reduction):
    shape, weight_shape, pos_shape = case
    rng = np.random.default_rng(1)
    x, t = leaf(shape, scale=3.0), mg.tensor(rng.uniform(0, 1, shape), requires_grad=True)
    w = None if weight_shape is None else mg.tensor(rng.uniform(0.1, 2, weight_shape), requires_grad=True)
    p = None if pos_shape is None else mg.tensor(rng.uniform(0.1, 3, pos_shape))
    expected = naive_bce(x.numpy(), t.numpy(), 1.0 if w is None else w.numpy(), 1.0 if p is None else p.numpy())
    loss = mg.binary_cross_entropy_with_logits(x, t, weight=w, reduction=reduction, pos_weight=p)
    np.testing.assert_allclose(loss.numpy(), reduce(expected, reduction), rtol=1e-10)
    inputs = [x, t] if w is None else [x, t, w]

    def fn(x, t, w=None):
        return mg.binary_cross_entropy_with_logits(x, t, weight=w, reduction=reduction, pos_weight=p)

    gradcheck(fn, inputs)
    gradgradcheck(fn, inputs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pos_weight", [None, 2.0])
def test_bce_with_logits_extreme_logits(dtype, pos_weight):
    x = mg.tensor([1e4, -1e4, 1e4, -1e4, 0.0], dtype=dtype, requires_grad=True)
    t = mg.tensor([0.0, 1.0, 1.0, 0.0, 0.5], dtype=dtype)
    p = 1.0 if pos_weight is None else pos_weight
    loss = mg.binary_cross_entropy_with_logits(x, t, reduction="none", pos_weight=pos_weight)
    assert loss.dtype == dtype
    np.testing.assert_allclose(loss.numpy(), [1e4, p * 1e4, 0, 0, (1 + p) / 2 * np.log(2)], rtol=1e-6, atol=1e-6)
    loss.sum().backward()
    # d/dx [(1 - t) x + (1 + (p - 1) t) softplus(-x)] = (1 - t) - (1 + (p - 1) t) sigmoid(-x)
    sig_neg = np.array([0, 1, 0, 1, 0.5])
    grad = (1 - t.numpy()) - (1 + (p - 1) * t.numpy()) * sig_neg
    assert x.grad.dtype == dtype and np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(x.grad.numpy(), grad, atol=1e-6)


def test_bce_with_logits_errors():
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits.*\(3,\).*\(2,\)"):
        mg.binary_cross_entropy_with_logits(mg.zeros(2), mg.zeros(3))
    with pytest.raises(ValueError, match="reduction"):
        mg.binary_cross_entropy_with_logits(mg.zeros(2), [0.0, 1.0], reduction="avg")


# -- parity with torch ----------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_matches_torch(reduction):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((4, 3, 2)) * 3, rng.integers(0, 3, (4, 2))
    np.testing.assert_allclose(mg.cross_entropy(mg.tensor(x), t, reduction=reduction).numpy(),
                               F.cross_entropy(torch.tensor(x), torch.tensor(t), reduction=reduction).numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(mg.log_softmax(mg.tensor(x), 1).numpy(),
                               F.log_softmax(torch.tensor(x), 1).numpy(), rtol=1e-10)
    y, w, p = rng.uniform(0, 1, (4, 3)), rng.uniform(0, 2, (4, 3)), rng.uniform(0, 3, 3)
    xs = x[:, :, 0]
    ours = mg.binary_cross_entropy_with_logits(mg.tensor(xs), mg.tensor(y), weight=mg.tensor(w),
                                               reduction=reduction, pos_weight=mg.tensor(p))
    theirs = F.binary_cross_entropy_with_logits(torch.tensor(xs), torch.tensor(y), weight=torch.tensor(w),
                                                reduction=reduction, pos_weight=torch.tensor(p))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)
