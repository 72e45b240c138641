"""PyTorch's older spellings: ``Variable``, ``FloatTensor(...)``, ``from_numpy``, ``cuda.is_available``."""

import numpy as np
import pytest

import minigan as mg
from minigan.autograd import Variable

SIZES_AND_DATA = [(), (3,), (2, 3), ([1.5, 2.0],), (np.arange(4.0),), (np.array([1, 2, 3]),), ([[1, 2], [3, 4]],)]


@pytest.mark.parametrize("name,dtype", [("FloatTensor", np.float32), ("DoubleTensor", np.float64),
                                        ("LongTensor", np.int64)])
@pytest.mark.parametrize("args", SIZES_AND_DATA)
def test_legacy_constructors_take_sizes_or_data_like_pytorch(name, dtype, args):
    t = getattr(mg, name)(*args)
    assert t.dtype == dtype and isinstance(t, getattr(mg, name)) and not t.requires_grad
    if args and not isinstance(args[0], int):
        np.testing.assert_array_equal(t.numpy(), np.asarray(args[0]).astype(dtype))
    else:
        assert not t.numpy().any()  # PyTorch leaves the memory uninitialised; minigan zero-fills it
    torch = pytest.importorskip("torch")
    expected = getattr(torch, name)(*args)
    assert tuple(t.shape) == tuple(expected.shape) and t.dtype == np.dtype(str(expected.dtype).removeprefix("torch."))


def test_isinstance_checks_the_dtype_as_in_pytorch():
    assert isinstance(mg.zeros(2), mg.FloatTensor) and not isinstance(mg.zeros(2), mg.LongTensor)
    assert isinstance(mg.arange(3), mg.LongTensor) and not isinstance(mg.zeros(2), mg.cuda.FloatTensor)
    assert not isinstance(np.zeros(2, np.float32), mg.FloatTensor)


def test_variable_is_a_pass_through_that_can_ask_for_gradients():
    x = mg.randn(3)
    assert Variable(x) is x and not x.requires_grad
    w = Variable(mg.ones(3), requires_grad=True)
    (w * x).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), x.numpy())
    assert Variable(np.ones(2)).dtype == np.float64  # arrays keep their dtype, as torch.tensor(array)


def test_from_numpy_shares_memory_and_dtype():
    a = np.arange(4.0)
    t = mg.from_numpy(a)
    a[0] = 7.0
    assert t.dtype == np.float64 and t.numpy()[0] == 7.0
    with pytest.raises(TypeError, match="numpy.ndarray"):
        mg.from_numpy([1.0, 2.0])


def test_cuda_is_available_says_whether_cupy_can_run():
    try:
        import cupy

        expected = cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001
        expected = False
    assert mg.cuda.is_available() is expected and (mg.cuda.device_count() > 0) is expected


def test_grad_takes_pytorchs_keywords_for_unused_inputs():
    x, unused = mg.randn(3, requires_grad=True), mg.randn(2, requires_grad=True)
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        mg.grad(y, [x, unused], retain_graph=True, only_inputs=True)
    gx, none = mg.grad(y, [x, unused], retain_graph=True, allow_unused=True)
    assert none is None
    gx2, zero = mg.grad(y, [x, unused], grad_outputs=mg.tensor(2.0), materialize_grads=True)
    np.testing.assert_allclose(gx2.numpy(), 2 * gx.numpy())
    assert zero.shape == (2,) and not zero.numpy().any()
    with pytest.raises(ValueError, match="materialize_grads"):
        mg.grad((x * x).sum(), [x], allow_unused=False, materialize_grads=True)
