"""PReLU: its value, gradients in the input and the slopes (first and second order) over drawn shapes, PyTorch's
values and defaults, and refused inputs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_nn_module import module_gradchecks

import minigan as mg
import minigan.nn.functional as F
from minigan import nn
from minigan.testing import gradcheck, gradgradcheck


def away_from_zero(shape, seed):
    """Values at least 0.1 from the kink at 0, of both signs: PReLU is smooth at every one of them."""
    rng = np.random.default_rng(seed)
    magnitude = rng.uniform(0.1, 2.0, shape)
    return mg.tensor(np.where(rng.random(shape) < 0.5, -magnitude, magnitude), requires_grad=True)


@st.composite
def prelu_cases(draw):
    """(input shape, slopes): one slope for all, or one per channel of an input of 2 to 4 dimensions."""
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=4)))
    per_channel = len(shape) >= 2 and draw(st.booleans())
    return shape, shape[1] if per_channel else 1


def test_value_is_x_above_zero_and_the_slope_times_x_below():
    x = mg.tensor([[-2.0, -0.5, 0.0, 0.5, 3.0]])
    np.testing.assert_allclose(nn.PReLU()(x).numpy(), [[-0.5, -0.125, 0.0, 0.5, 3.0]], rtol=1e-6)
    layer = nn.PReLU(2, init=0.1)
    layer.weight.numpy()[:] = [0.1, -1.0]
    y = layer(mg.tensor([[[-1.0, 2.0], [-1.0, 2.0]]]))  # (1, 2, 2): channel 0, then channel 1
    np.testing.assert_allclose(y.numpy(), [[[-0.1, 2.0], [1.0, 2.0]]], rtol=1e-6)


@settings(max_examples=20)
@given(case=prelu_cases(), seed=st.integers(0, 2 ** 16))
def test_gradients_in_the_input_and_the_slopes_first_and_second_order(case, seed):
    shape, count = case
    x = away_from_zero(shape, seed)
    slopes = mg.tensor(np.random.default_rng(seed + 1).uniform(-0.5, 0.8, count), requires_grad=True)
    gradcheck(F.prelu, [x, slopes])
    gradgradcheck(F.prelu, [x, slopes])


@settings(max_examples=10)
@given(case=prelu_cases(), seed=st.integers(0, 2 ** 16))
def test_module_gradchecks_over_every_parameter(case, seed):
    shape, count = case
    layer = nn.PReLU(count, init=0.3)
    module_gradchecks(layer, away_from_zero(shape, seed))


def test_slope_gradient_is_the_sum_of_the_negative_parts_per_channel(rng):
    x = rng.standard_normal((3, 2, 4))
    g = rng.standard_normal((3, 2, 4))
    layer = nn.PReLU(2).double()
    xt = mg.tensor(x, requires_grad=True)
    layer(xt).backward(mg.tensor(g))
    np.testing.assert_allclose(layer.weight.grad.numpy(), (g * np.minimum(x, 0)).sum(axis=(0, 2)))
    np.testing.assert_allclose(xt.grad.numpy(), g * np.where(x > 0, 1.0, 0.25))


@pytest.mark.parametrize("shape, count", [((5,), 1), ((2, 3), 3), ((2, 3, 4, 4), 3), ((2, 3, 4, 4), 1),
                                          ((2, 3, 5), 3)])
def test_matches_torch(shape, count):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, g = rng.standard_normal(shape), rng.standard_normal(shape)
    slopes = rng.uniform(-0.5, 0.5, count)
    theirs = torch.nn.PReLU(count).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(slopes))
    ours = nn.PReLU(count).double()
    ours.weight.numpy()[:] = slopes
    tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    ty, my = theirs(tx), ours(mx)
    np.testing.assert_allclose(my.numpy(), ty.detach().numpy(), rtol=1e-12)
    ty.backward(torch.tensor(g))
    my.backward(mg.tensor(g))
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-10)


def test_defaults_signature_and_repr_are_torchs():
    torch = pytest.importorskip("torch")
    import inspect

    ours = inspect.signature(nn.PReLU.__init__).parameters
    theirs = inspect.signature(torch.nn.PReLU.__init__).parameters
    assert list(ours) == list(theirs)
    assert [p.default for p in ours.values()] == [p.default for p in theirs.values()]
    assert repr(nn.PReLU(3)) == repr(torch.nn.PReLU(3))
    layer = nn.PReLU()
    assert layer.weight.shape == (1,) and layer.weight.numpy()[0] == np.float32(0.25)
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


def test_refused_inputs_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"prelu: 3 slopes need an input with 3 channels on dimension 1, "
                                         r"got shape \(2, 4, 5\)"):
        nn.PReLU(3)(mg.randn(2, 4, 5))
    with pytest.raises(ValueError, match="prelu: 3 slopes need"):
        nn.PReLU(3)(mg.randn(3))
    with pytest.raises(ValueError, match=r"prelu: weight must be 1-D"):
        F.prelu(mg.randn(2, 3), mg.randn(1, 3))
    with pytest.raises(TypeError, match="prelu: input has dtype float64 but weight has dtype float32"):
        nn.PReLU()(mg.randn(2, 3).double())
    with pytest.raises(ValueError, match="num_parameters must be a positive integer"):
        nn.PReLU(0)
