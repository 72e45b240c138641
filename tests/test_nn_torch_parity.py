"""The layers against PyTorch's, weights copied across: outputs, input and parameter gradients, running statistics."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_nn_module import dcgan

import minigan as mg
import minigan.nn.functional as F
from minigan import nn
from minigan.nn.utils import spectral_norm
from minigan.testing import strategies

torch = pytest.importorskip("torch")
TOL = {"rtol": 1e-10, "atol": 1e-10}


def numpy_state(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def assert_same_state(ours, theirs, **tol):
    theirs = numpy_state(theirs)
    assert list(ours.state_dict()) == list(theirs)
    for k, v in ours.state_dict().items():
        np.testing.assert_allclose(v.numpy(), theirs[k], err_msg=k, **(tol or TOL))


def compare(ours, theirs, *inputs, seed=0, load=True, **tol):
    """Forward both on the same float64 inputs, backward the same random upstream gradient, compare everything."""
    tol = tol or TOL
    if load:
        ours.load_state_dict(numpy_state(theirs))
    xs = [torch.tensor(a, requires_grad=True) for a in inputs]
    ms = [mg.tensor(a, requires_grad=True) for a in inputs]
    y, my = theirs(*xs), ours(*ms)
    np.testing.assert_allclose(my.numpy(), y.detach().numpy(), **tol)
    g = np.random.default_rng(seed).standard_normal(y.shape)
    y.backward(torch.tensor(g))
    my.backward(mg.tensor(g))
    for x, mx in zip(xs, ms):
        np.testing.assert_allclose(mx.grad.numpy(), x.grad.numpy(), **tol)
    grads = {k: p.grad for k, p in theirs.named_parameters()}
    for k, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[k].numpy(), err_msg=k, **tol)
    assert_same_state(ours, theirs, **tol)


def array(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("batch", [(), (3,), (2, 3)])
def test_linear(batch):
    compare(nn.Linear(4, 3).double(), torch.nn.Linear(4, 3).double(), array(*batch, 4))
    compare(nn.Linear(4, 3, bias=False).double(), torch.nn.Linear(4, 3, bias=False).double(), array(5, 4))


@settings(max_examples=30)
@given(g=strategies.conv_geometries(), bias=st.booleans())
def test_conv2d(g, bias):
    args = (g.c_in, g.c_out, g.kernel_size)
    compare(nn.Conv2d(*args, bias=bias, **g.kwargs).double(),
            torch.nn.Conv2d(*args, bias=bias, **g.kwargs).double(), array(*g.input_shape))


@settings(max_examples=30)
@given(g=strategies.conv_geometries(transposed=True), bias=st.booleans())
def test_conv_transpose2d(g, bias):
    args = (g.c_in, g.c_out, g.kernel_size)
    compare(nn.ConvTranspose2d(*args, bias=bias, **g.kwargs).double(),
            torch.nn.ConvTranspose2d(*args, bias=bias, **g.kwargs).double(), array(*g.input_shape))


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("ours, theirs, shape", [(nn.BatchNorm2d, torch.nn.BatchNorm2d, (3, 2, 4, 3)),
                                                 (nn.BatchNorm1d, torch.nn.BatchNorm1d, (5, 3)),
                                                 (nn.BatchNorm1d, torch.nn.BatchNorm1d, (2, 3, 4))])
def test_batch_norm_training_steps_then_eval(ours, theirs, shape, momentum):
    m, t = ours(shape[1], momentum=momentum).double(), theirs(shape[1], momentum=momentum).double()
    with torch.no_grad():
        t.weight.normal_(1, 0.3)
        t.bias.normal_()
    m.load_state_dict(numpy_state(t))
    for step in range(3):
        m.zero_grad()
        t.zero_grad()
        compare(m, t, array(*shape, seed=step) * (1 + step) + step, seed=step, load=False)
    compare(m.eval(), t.eval(), array(*shape, seed=9), load=False)
    # without running statistics: batch statistics, also in eval
    m, t = ours(shape[1], track_running_stats=False).double(), theirs(shape[1], track_running_stats=False).double()
    compare(m.eval(), t.eval(), array(*shape, seed=4))


@pytest.mark.parametrize("shape, normalized", [((3, 5), 5), ((2, 3, 2, 2), (3, 2, 2))])
def test_layer_norm(shape, normalized):
    t = torch.nn.LayerNorm(normalized).double()
    with torch.no_grad():
        t.weight.normal_(1, 0.3)
        t.bias.normal_()
    compare(nn.LayerNorm(normalized).double(), t, array(*shape))


def test_embedding():
    t = torch.nn.Embedding(6, 3).double()
    m = nn.Embedding(6, 3).double()
    m.load_state_dict(numpy_state(t))
    idx = np.array([[0, 5, 5], [2, 0, 1]])
    y, my = t(torch.tensor(idx)), m(mg.tensor(idx))
    g = array(2, 3, 3)
    y.backward(torch.tensor(g))
    my.backward(mg.tensor(g))
    np.testing.assert_allclose(my.numpy(), y.detach().numpy(), **TOL)
    np.testing.assert_allclose(m.weight.grad.numpy(), t.weight.grad.numpy(), **TOL)


@pytest.mark.parametrize("make, shape", [(lambda nn: nn.Linear(5, 4), (3, 5)),
                                         (lambda nn: nn.Conv2d(2, 3, 3, padding=1), (2, 2, 4, 4)),
                                         (lambda nn: nn.ConvTranspose2d(3, 2, 4, 2, 1), (2, 3, 3, 3))])
def test_spectral_norm_power_iteration_and_gradients(make, shape):
    t = torch.nn.utils.spectral_norm(make(torch.nn).double())
    m = spectral_norm(make(nn).double())
    m.load_state_dict(numpy_state(t))
    for step in range(3):  # training: one power iteration per forward, on both sides
        m.zero_grad()
        t.zero_grad()
        compare(m, t, array(*shape, seed=step), seed=step, load=False)
    compare(m.eval(), t.eval(), array(*shape, seed=5), load=False)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_losses(name, reduction):
    x, target = array(3, 4), np.random.default_rng(2).uniform(0, 1, (3, 4))

    class Ours(nn.Module):
        def forward(self, a):
            return getattr(F, name)(a, target, reduction=reduction)

    class Theirs(torch.nn.Module):
        def forward(self, a):
            return getattr(torch.nn.functional, name)(a, torch.tensor(target), reduction=reduction)

    compare(Ours(), Theirs(), 1 / (1 + np.exp(-x)) if name == "binary_cross_entropy" else x)


def test_interpolate_nearest():
    x = array(2, 3, 2, 3)
    for kwargs in [{"scale_factor": 2}, {"scale_factor": (3, 2)}, {"size": (4, 9)}]:
        compare(nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs), x)


@pytest.mark.parametrize("make", [lambda nn: nn.Linear(3, 2, bias=False), lambda nn: nn.Conv2d(1, 2, 3),
                                  lambda nn: nn.Conv2d(1, 2, (3, 1), 2, 1, dilation=2, bias=False),
                                  lambda nn: nn.ConvTranspose2d(4, 2, 4, 2, 1, output_padding=1),
                                  lambda nn: nn.Embedding(4, 2), lambda nn: nn.Flatten(),
                                  lambda nn: nn.Sequential(nn.Linear(2, 2), nn.Tanh())])
def test_repr(make):
    assert repr(make(nn)) == repr(make(torch.nn))


@pytest.mark.parametrize("size", [28, 32])
def test_dcgan_generator_and_discriminator(size):
    (G, D), (tG, tD) = dcgan(nn, size), dcgan(torch.nn, size)
    ours, theirs = nn.Sequential(G, D).double(), torch.nn.Sequential(tG, tD).double()
    theirs.apply(lambda m: torch.nn.init.normal_(m.weight, 1, 0.3) if isinstance(m, torch.nn.BatchNorm2d) else None)
    z, images = array(4, 8, 1, 1), np.tanh(array(4, 1, size, size, seed=2))
    compare(G, tG, z)
    compare(D, tD, images)
    for mode in ("train", "eval"):  # D on G's samples, end to end; then with the running statistics
        ours.zero_grad()
        theirs.zero_grad()
        compare(ours.train(mode == "train"), theirs.train(mode == "train"), z, load=False)


def test_dcgan_float32():
    (G, D), (tG, tD) = dcgan(nn, 32), dcgan(torch.nn, 32)
    compare(nn.Sequential(G, D), torch.nn.Sequential(tG, tD), array(4, 8, 1, 1).astype(np.float32),
            rtol=1e-4, atol=1e-5)
