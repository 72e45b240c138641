"""Tensor methods that GAN scripts written for PyTorch use, checked against PyTorch and by gradcheck."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan.testing import gradcheck

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def _double(shape, seed=0):
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


@given(shape=shapes, data=st.data())
def test_repeat_tiles_like_numpy_and_its_gradient_sums_the_copies(shape, data):
    extra = data.draw(st.integers(0, 1))
    sizes = tuple(data.draw(st.integers(1, 3)) for _ in range(len(shape) + extra))
    x = _double(shape)
    np.testing.assert_array_equal(x.repeat(*sizes).numpy(), np.tile(x.numpy(), sizes))
    gradcheck(lambda x: x.repeat(*sizes), [x])


@given(shape=shapes, data=st.data())
def test_split_and_chunk_cover_the_dimension_in_order_and_gradcheck(shape, data):
    dim = data.draw(st.integers(0, len(shape) - 1))
    size = data.draw(st.integers(1, shape[dim] + 1))
    x = _double(shape)
    for pieces in (x.split(size, dim), x.chunk(size, dim)):
        np.testing.assert_array_equal(np.concatenate([p.numpy() for p in pieces], axis=dim), x.numpy())
    gradcheck(lambda x: mg.cat([p * (i + 1) for i, p in enumerate(x.split(size, dim))], dim), [x])


@given(shape=shapes)
def test_masked_fill_clone_and_view_as_gradcheck(shape):
    x = _double(shape)
    mask = mg.tensor(np.random.default_rng(1).random(shape) > 0.5)
    gradcheck(lambda x: x.masked_fill(mask, 3.0), [x])
    gradcheck(lambda x: x.clone() * 2, [x])
    gradcheck(lambda x: x.view_as(mg.zeros(int(np.prod(shape)))), [x])


def test_in_place_methods_write_into_the_tensor_and_refuse_a_graph():
    w = mg.zeros(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w.fill_(1.0)
    with mg.no_grad():
        assert w.fill_(2.0) is w and (w.numpy() == 2).all()
        w.clamp_(-1, 1).normal_(0.0, 0.02)
    assert w.requires_grad and abs(float(w.numpy().std()) - 0.02) < 0.02
    y = w * 2
    with pytest.raises(RuntimeError, match="computed in a graph"), mg.no_grad():
        y.zero_()
    t = mg.ones(3)
    t.copy_(np.arange(3)).uniform_(-1, 1)
    assert t.dtype == np.float32 and (np.abs(t.numpy()) <= 1).all()


def test_numpy_array_copies_and_asarray_shares_as_for_torch():
    t = mg.zeros(3)
    copied, converted, shared = np.array(t), np.array(t, dtype=np.float64), np.asarray(t)
    copied[0], converted[1], shared[2] = 1.0, 2.0, 3.0
    np.testing.assert_array_equal(t.numpy(), [0.0, 0.0, 3.0])
    assert converted.dtype == np.float64


def test_clone_is_a_copy():
    x = mg.ones(3)
    y = x.clone()
    y.zero_()
    assert x.numpy().sum() == 3


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("method,args", [
    ("argmax", ()), ("argmax", (1,)), ("argmax", (1, True)), ("argmin", (0,)), ("argmin", ()),
    ("repeat", (2, 1, 3)), ("long", ()), ("int", ()), ("double", ()), ("clone", ()), ("contiguous", ()),
    ("masked_fill", ("mask", -1.0)), ("max", ()), ("max", (1,)), ("max", (0, True)), ("min", (1,)),
    ("max", ("other",)), ("min", ("other",)), ("chunk", (2, 1)), ("split", (2, 1)), ("split", ([1, 3], 1)),
    ("all", ()), ("any", (1,)), ("all", (0, True)),
])
def test_methods_match_pytorch(method, args, torch):
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    given = {"mask": a > 0, "other": np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)}
    ours = getattr(mg.tensor(a), method)(*[mg.tensor(given[v]) if isinstance(v, str) else v for v in args])
    theirs = getattr(torch.from_numpy(a), method)(*[torch.from_numpy(given[v]) if isinstance(v, str) else v for v in args])
    ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert o.dtype == np.dtype(str(t.dtype).removeprefix("torch.")) and o.shape == tuple(t.shape)
        np.testing.assert_array_equal(o.numpy(), t.numpy())


def test_in_place_methods_and_type_match_pytorch(torch):
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    for name, args in [("fill_", (1.5,)), ("zero_", ()), ("clamp_", (-0.5, 0.5)), ("copy_", (np.ones(4),))]:
        ours, theirs = mg.tensor(a), torch.from_numpy(a.copy())
        getattr(ours, name)(*args)
        getattr(theirs, name)(*[torch.from_numpy(v) if isinstance(v, np.ndarray) else v for v in args])
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert mg.zeros(2).type() == "minigan.FloatTensor" and torch.zeros(2).type() == "torch.FloatTensor"
    assert mg.zeros(2).type(mg.LongTensor).dtype == np.int64 and mg.zeros(2).type(mg.DoubleTensor).dtype == np.float64
    assert mg.zeros(2).is_cuda is torch.zeros(2).is_cuda is False


@pytest.mark.parametrize("classes,num_classes", [([0, 2, 1], -1), ([[1], [3]], 5), ([], 3)])
def test_one_hot_matches_pytorch(classes, num_classes, torch):
    ours = mg.nn.functional.one_hot(mg.tensor(np.array(classes, dtype=np.int64)), num_classes)
    theirs = torch.nn.functional.one_hot(torch.tensor(classes, dtype=torch.long), num_classes)
    assert ours.dtype == np.int64 and ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_one_hot_refuses_classes_out_of_range():
    with pytest.raises(ValueError, match=r"must lie in \[0, 2\)"):
        mg.nn.functional.one_hot(mg.tensor([0, 2]), 2)


@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_matches_pytorch(dim, torch):
    rng = np.random.default_rng(0)
    index = rng.integers(0, 3, size=(2, 3))
    src = rng.standard_normal((3, 4)).astype(np.float32)
    for value in (src, 1.0):
        ours = mg.zeros(3, 4).scatter_(dim, mg.tensor(index), mg.tensor(value) if isinstance(value, np.ndarray)
                                       else value)
        theirs = torch.zeros(3, 4).scatter_(dim, torch.from_numpy(index),
                                            torch.from_numpy(value) if isinstance(value, np.ndarray) else value)
        if isinstance(value, np.ndarray) and dim == 0:  # duplicate targets: PyTorch does not say which write wins
            continue
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_scatter_makes_one_hot_labels():
    labels = mg.tensor([2, 0, 1])
    onehot = mg.zeros(3, 4).scatter_(1, labels.view(-1, 1), 1)
    np.testing.assert_array_equal(onehot.numpy(), np.eye(4, dtype=np.float32)[[2, 0, 1]])


def test_the_max_and_min_functions_follow_torch(torch):
    a = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    b = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32)
    for name in ("max", "min"):
        ours, theirs = getattr(mg, name), getattr(torch, name)
        assert float(ours(mg.tensor(a))) == float(theirs(torch.from_numpy(a)))
        values, indices = ours(mg.tensor(a), 1, keepdim=True)
        expected = theirs(torch.from_numpy(a), 1, keepdim=True)
        np.testing.assert_array_equal(values.numpy(), expected.values.numpy())
        np.testing.assert_array_equal(indices.numpy(), expected.indices.numpy())
        np.testing.assert_array_equal(ours(mg.tensor(a), mg.tensor(b)).numpy(),
                                      theirs(torch.from_numpy(a), torch.from_numpy(b)).numpy())
        np.testing.assert_array_equal(getattr(mg, f"arg{name}")(mg.tensor(a), 0).numpy(),
                                      getattr(torch, f"arg{name}")(torch.from_numpy(a), 0).numpy())
