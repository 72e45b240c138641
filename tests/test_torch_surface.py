"""The rest of the PyTorch surface GAN scripts use: positional static arguments, devices, dtype names,
in-place arithmetic, ``new_*``, ``t``/``mm``/``bmm``, ``randperm``, ``ModuleDict``, ``cuda`` and ``backends``.

Each is checked against PyTorch where it is installed (those tests skip without it).
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan import nn
from minigan.testing import gradcheck, strategies

floats = strategies.arrays(strategies.shapes(min_dims=1, max_dims=3, max_side=4), np.float32)


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.clamp(x, -0.5, 0.5), lambda lib, x: x.clamp(-0.5, 0.5), lambda lib, x: x.clamp(0.1),
    lambda lib, x: lib.pow(x, 2), lambda lib, x: x.pow(3),
    lambda lib, x: lib.nn.functional.leaky_relu(x, 0.2), lambda lib, x: lib.nn.functional.softplus(x, 2.0),
])
@given(values=floats)
def test_static_arguments_may_be_positional_as_in_pytorch(call, values):
    ours = call(mg, mg.tensor(values))
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(ours.numpy(), call(torch, torch.from_numpy(values)).numpy(), rtol=1e-6, atol=1e-6)


def test_a_static_argument_given_twice_or_one_too_many_is_refused():
    x = mg.randn(3)
    with pytest.raises(TypeError, match="multiple values for argument 'min'"):
        x.clamp(0, min=1)
    with pytest.raises(TypeError, match=r"clamp\(\) takes 1 input"):
        mg.clamp(x, 0, 1, 2)


@pytest.mark.parametrize("spec", ["cpu", "cuda", "cuda:0", "cuda:1"])
def test_device_reads_as_torch_device(spec, torch):
    ours, theirs = mg.device(spec), torch.device(spec)
    assert (ours.type, ours.index, repr(ours), str(ours)) == (theirs.type, theirs.index, repr(theirs), str(theirs))
    assert repr(mg.device("cuda", 1)) == repr(torch.device("cuda", 1))
    assert mg.randn(2).device == "cpu" and mg.randn(2).device.type == "cpu"


def test_an_unknown_device_is_refused():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        mg.device("tpu")


@pytest.mark.parametrize("name", ["float", "double", "half", "long", "int", "short", "bool", "uint8", "int8",
                                  "int16", "int32", "int64", "float16", "float32", "float64"])
def test_dtype_names_are_torchs(name, torch):
    assert np.dtype(getattr(mg, name)).name == str(getattr(torch, name)).removeprefix("torch.")
    assert mg.zeros(2, dtype=getattr(mg, name)).dtype == np.dtype(getattr(mg, name))


def test_dtype_names_do_not_shadow_builtins_on_star_import():
    namespace = {}
    exec("from minigan import *", namespace)
    assert not {"float", "int", "bool", "long"} & namespace.keys()


@pytest.mark.parametrize("method", ["add_", "sub_", "mul_", "div_"])
@given(values=floats, other=st.sampled_from([2.0, -0.5, "row", "same"]))
def test_in_place_arithmetic_writes_into_the_tensor_as_in_pytorch(method, values, other):
    if other == "row":
        other = np.linspace(1, 2, values.shape[-1], dtype=np.float32)
    elif other == "same":
        other = values + 3.5  # never 0: values lie in [-3, 3]
    x = mg.tensor(values)
    alias = x.data  # shares the storage
    ours = getattr(x, method)(mg.tensor(other) if isinstance(other, np.ndarray) else other)
    assert ours is x
    np.testing.assert_array_equal(alias.numpy(), x.numpy())
    torch = pytest.importorskip("torch")
    expected = getattr(torch.from_numpy(values.copy()), method)(
        torch.from_numpy(other) if isinstance(other, np.ndarray) else other)
    np.testing.assert_allclose(x.numpy(), expected.numpy(), rtol=1e-6)


def test_in_place_arithmetic_refuses_what_pytorch_refuses():
    x = mg.zeros(3)
    with pytest.raises(RuntimeError, match="shape"):
        x.add_(mg.ones(2, 3))
    with pytest.raises(RuntimeError, match="cannot be written into int64"):
        mg.arange(3).div_(2)
    with pytest.raises(RuntimeError, match="in-place change of a leaf"):
        mg.zeros(3, requires_grad=True).mul_(2)


def test_augmented_assignment_is_in_place_off_the_tape_and_out_of_place_on_it(torch):
    x = mg.ones(3)
    alias = x
    x *= 2
    assert x is alias and x.numpy().tolist() == [2.0, 2.0, 2.0]

    def penalised(lib, w0):
        w = lib.tensor(w0, requires_grad=True)
        loss = (w * w).sum()
        loss += 3 * w.sum()  # the idiom: a penalty added to a loss in a graph
        loss /= 2
        loss.backward()
        return loss.item(), w.grad.numpy()

    w0 = np.array([0.5, -1.0, 2.0], np.float32)
    (ours_loss, ours_grad), (theirs_loss, theirs_grad) = penalised(mg, w0), penalised(torch, w0)
    assert ours_loss == pytest.approx(theirs_loss)
    np.testing.assert_allclose(ours_grad, theirs_grad)


@pytest.mark.parametrize("method,args", [("new_zeros", (2, 3)), ("new_ones", ((2,),)), ("new_full", ((2, 2), 7.0)),
                                         ("new_tensor", ([1, 2],)), ("new_empty", (4,))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_new_methods_take_the_tensors_dtype_as_in_pytorch(method, args, dtype, torch):
    ours = getattr(mg.zeros(1, dtype=dtype), method)(*args)
    theirs = getattr(torch.zeros(1, dtype=getattr(torch, dtype)), method)(*args)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == np.dtype(dtype) and not ours.requires_grad
    if method != "new_empty":
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert mg.zeros(1).new_ones(2, dtype=mg.long).dtype == np.int64
    assert mg.zeros(1).new_zeros(2, requires_grad=True).requires_grad


@given(n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(1, 4), b=st.integers(1, 3))
def test_t_mm_and_bmm_are_matmul_of_their_shapes(n, k, m, b):
    rng = np.random.default_rng(n * 100 + k * 10 + m)
    a, c = rng.standard_normal((n, k)), rng.standard_normal((k, m))
    ab, cb = rng.standard_normal((b, n, k)), rng.standard_normal((b, k, m))
    np.testing.assert_allclose(mg.mm(mg.tensor(a), mg.tensor(c)).numpy(), a @ c)
    np.testing.assert_allclose(mg.bmm(mg.tensor(ab), mg.tensor(cb)).numpy(), ab @ cb)
    np.testing.assert_array_equal(mg.tensor(a).t().numpy(), a.T)
    assert gradcheck(mg.mm, (mg.tensor(a, requires_grad=True), mg.tensor(c, requires_grad=True)))
    assert gradcheck(mg.bmm, (mg.tensor(ab, requires_grad=True), mg.tensor(cb, requires_grad=True)))
    assert gradcheck(lambda x: x.t(), (mg.tensor(a, requires_grad=True),))


def test_mm_bmm_and_t_refuse_other_shapes_as_pytorch_does():
    with pytest.raises(ValueError, match="mm: both operands must be 2-D"):
        mg.mm(mg.ones(2, 2, 2), mg.ones(2, 2))
    with pytest.raises(ValueError, match="bmm: batch sizes differ"):
        mg.bmm(mg.ones(2, 2, 2), mg.ones(3, 2, 2))
    with pytest.raises(ValueError, match="at most 2 dimensions"):
        mg.ones(2, 2, 2).t()
    assert mg.ones(3).t().shape == (3,)


def test_randperm_is_a_seeded_permutation():
    mg.manual_seed(3)
    first = mg.randperm(10)
    mg.manual_seed(3)
    assert first.dtype == np.int64 and sorted(first.tolist()) == list(range(10))
    assert mg.randperm(10).tolist() == first.tolist()


def test_module_level_helpers_match_pytorch(torch):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert mg.is_tensor(mg.tensor(a)) and not mg.is_tensor(a) and mg.numel(mg.tensor(a)) == torch.numel(
        torch.from_numpy(a))
    for ours, theirs in [(mg.chunk(mg.tensor(a), 2, 1), torch.chunk(torch.from_numpy(a), 2, 1)),
                         (mg.split(mg.tensor(a), 1, 0), torch.split(torch.from_numpy(a), 1, 0))]:
        assert [o.numpy().tolist() for o in ours] == [t.numpy().tolist() for t in theirs]


def test_module_dict_registers_its_modules_as_pytorch_does(torch):
    ours = nn.ModuleDict({"G": nn.Linear(2, 3), "D": nn.Linear(3, 1)})
    theirs = torch.nn.ModuleDict({"G": torch.nn.Linear(2, 3), "D": torch.nn.Linear(3, 1)})
    assert list(ours.state_dict()) == list(theirs.state_dict()) and list(ours) == list(theirs)
    assert "G" in ours and len(ours) == 2 and repr(ours) == repr(theirs)
    ours["E"] = nn.Linear(1, 1)
    del ours["G"]
    assert list(ours.keys()) == ["D", "E"] and len(list(ours.parameters())) == 4


def test_cuda_seeds_and_backend_flags_are_accepted():
    mg.manual_seed(5)
    expected = mg.randn(3).numpy()
    mg.cuda.manual_seed_all(5)
    np.testing.assert_array_equal(mg.randn(3).numpy(), expected)  # one generator serves both devices
    mg.backends.cudnn.benchmark = True
    assert not mg.backends.cudnn.is_available() and not mg.backends.mps.is_available()


def test_no_grad_decorates_with_or_without_parentheses():
    w = mg.ones(2, requires_grad=True)

    @mg.no_grad()
    def sample():
        return w * 2

    assert not sample().requires_grad and (w * 2).requires_grad
