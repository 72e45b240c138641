"""Layers and their functional forms: gradients to second order, shapes, batch-norm statistics, small layers, losses."""

import dataclasses
import functools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_nn_module import module_gradchecks

import minigan as mg
import minigan.nn.functional as F
from minigan import nn
from minigan.ops import convolution
from minigan.testing import gradcheck, gradgradcheck, strategies


def leaf(*shape, seed=0, requires_grad=True):
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=requires_grad)


GEOMETRY = {"max_size": 5, "max_kernel": 3}


def conv_output(size, k, s, p, d):
    """PyTorch's output size of Conv2d along one axis."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def conv_transpose_output(size, k, s, p, d, op):
    """PyTorch's output size of ConvTranspose2d along one axis."""
    return (size - 1) * s - 2 * p + d * (k - 1) + op + 1


# -- gradients: inputs and every parameter, first and second order ---------------------------------

@settings(max_examples=10)
@given(batch=st.sampled_from([(), (1,), (3,), (2, 2)]), bias=st.booleans())
def test_linear_gradients(batch, bias):
    module_gradchecks(nn.Linear(3, 2, bias=bias), leaf(*batch, 3))


def test_linear_rejects_a_bias_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"linear: bias of shape \(3,\)"):
        F.linear(mg.randn(4, 5), mg.randn(2, 5), mg.randn(3))


@settings(max_examples=25)
@given(g=strategies.conv_geometries(**GEOMETRY), bias=st.booleans())
def test_conv2d_shape_and_gradients(g, bias):
    conv = nn.Conv2d(g.c_in, g.c_out, g.kernel_size, bias=bias, **g.kwargs)
    x = leaf(*g.input_shape)
    axes = zip((g.height, g.width), g.kernel_size, g.stride, g.padding, g.dilation)
    assert conv.double()(x).shape == (g.n, g.c_out, *(conv_output(*a) for a in axes))
    module_gradchecks(conv, x)


@settings(max_examples=25)
@given(g=strategies.conv_geometries(**GEOMETRY))
def test_conv2d_weight_gradients_in_the_input_and_the_output_cotangent(g):
    r"""conv2d's weight gradient :math:`y X^\top` as a primitive of its own: its VJPs (a transposed convolution in
    :math:`x`, a convolution in :math:`y`) and their own, which a gradient penalty through a convolution runs."""
    x = leaf(*g.input_shape, seed=1)
    y = leaf(g.n, g.c_out, *g.output_size, seed=2)
    weight_grad = functools.partial(convolution.conv2d_weight, kernel_size=g.kernel_size, stride=g.stride,
                                    padding=g.padding, dilation=g.dilation)
    assert weight_grad(x, y).shape == (g.c_out, g.c_in, *g.kernel_size)
    gradcheck(weight_grad, [x, y])
    gradgradcheck(lambda a, b: weight_grad(a * a, b), [x, y])


@settings(max_examples=25)
@given(g=strategies.conv_geometries(transposed=True, **GEOMETRY), bias=st.booleans())
def test_conv_transpose2d_shape_and_gradients(g, bias):
    conv = nn.ConvTranspose2d(g.c_in, g.c_out, g.kernel_size, bias=bias, **g.kwargs)
    assert conv.weight.shape == (g.c_in, g.c_out, *g.kernel_size)
    x = leaf(*g.input_shape)
    axes = zip((g.height, g.width), g.kernel_size, g.stride, g.padding, g.dilation, g.output_padding)
    assert conv.double()(x).shape == (g.n, g.c_out, *(conv_transpose_output(*a) for a in axes))
    module_gradchecks(conv, x)


@settings(max_examples=15)
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple), seed=st.integers(0, 99),
       eps=st.sampled_from([1e-5, 0.1, 0.8]))
def test_batch_norm_in_training_is_one_primitive_with_checked_gradients(shape, seed, eps):
    """The fused forward, its fused first-order VJP and its minigan-ops VJP (second order)."""
    shape = (max(shape[0], 2),) + shape[1:]
    x, w, b = leaf(*shape, seed=seed), leaf(shape[1], seed=seed + 1), leaf(shape[1], seed=seed + 2)

    def bn(x, w, b):
        return F.batch_norm(x, None, None, w, b, training=True, eps=eps)

    assert bn(x, w, b).grad_fn.primitive.name == "batch_norm"
    axes = (0,) + tuple(range(2, len(shape)))
    a = x.numpy()
    xhat = (a - a.mean(axes, keepdims=True)) / np.sqrt(a.var(axes, keepdims=True) + eps)
    channel = (1, -1) + (1,) * (len(shape) - 2)
    np.testing.assert_allclose(bn(x, w, b).numpy(), xhat * w.numpy().reshape(channel) + b.numpy().reshape(channel),
                               rtol=1e-10, atol=1e-10)
    assert gradcheck(bn, [x, w, b])
    assert gradgradcheck(bn, [x, w, b])


@settings(max_examples=25)
@given(n=st.integers(1, 3), c_in=st.integers(1, 3), c_out=st.integers(1, 3), h=st.integers(1, 4),
       w=st.integers(1, 4), stride=st.integers(1, 3), bias=st.booleans())
def test_a_kernel_covering_the_image_is_a_dense_layer_with_the_general_paths_values(n, c_in, c_out, h, w,
                                                                                     stride, bias):
    """conv2d with a kernel as large as the image, and conv_transpose2d from a 1x1 input, skip im2col and col2im;
    both agree with the general path (reached through padding that adds only zeros) and gradcheck."""
    x, weight = leaf(n, c_in, h, w, seed=1), leaf(c_out, c_in, h, w, seed=2)
    b = leaf(c_out, seed=3) if bias else None
    dense = F.conv2d(x, weight, b, stride=stride)
    general = F.conv2d(x, F.pad(weight, (1, 1, 1, 1)), b, stride=stride, padding=1)  # a zero ring, then padding
    np.testing.assert_allclose(dense.numpy(), general.numpy(), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *t: F.conv2d(t[0], t[1], *t[2:], stride=stride), [x, weight] + ([b] if bias else []))

    z, weight_t = leaf(n, c_in, 1, 1, seed=4), leaf(c_in, c_out, h, w, seed=5)
    dense = F.conv_transpose2d(z, weight_t, b, stride=stride)
    general = F.conv_transpose2d(F.pad(z, (0, 1, 0, 1)), weight_t, b, stride=stride)[:, :, :h, :w]  # a zero pixel
    np.testing.assert_allclose(dense.numpy(), general.numpy(), rtol=1e-12, atol=1e-12)
    assert gradgradcheck(lambda *t: F.conv_transpose2d(t[0], t[1], *t[2:], stride=stride),
                         [z, weight_t] + ([b] if bias else []))


@settings(max_examples=25)
@given(g=strategies.conv_geometries(max_size=7))
def test_conv_transpose_is_the_adjoint_of_conv(g):
    r""":math:`\langle \mathrm{conv2d}(x, W), y\rangle = \langle x, \mathrm{conv\_transpose2d}(y, W)\rangle`."""
    x, w = leaf(*g.input_shape, seed=1), leaf(*g.weight_shape, seed=2)
    y = leaf(*g.output_shape, seed=3)
    geometry = {"stride": g.stride, "padding": g.padding, "dilation": g.dilation}
    # the output_padding that gives back the input size: the rows the strided conv skipped
    output_padding = tuple((size + 2 * p - d * (k - 1) - 1) % s for size, k, s, p, d in
                           zip((g.height, g.width), g.kernel_size, g.stride, g.padding, g.dilation))
    back = F.conv_transpose2d(y, w, output_padding=output_padding, **geometry)
    assert back.shape == x.shape
    lhs = float((F.conv2d(x, w, **geometry) * y).sum().item())
    rhs = float((x * back).sum().item())
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-10)


def _graph_sizes(y):
    """The element counts of every tensor the graph behind ``y`` keeps for backward (y's node's inputs and below)."""
    sizes, stack, seen = [], [y], set()
    while stack:
        t = stack.pop()
        if t._node is None or id(t) in seen:
            continue
        seen.add(id(t))
        sizes += [x.numel() for x in t._node.inputs]
        stack += list(t._node.inputs)
    return sizes


@settings(max_examples=25)
@given(data=st.data(), transposed=st.booleans(), frozen=st.booleans(), bias=st.booleans())
def test_convolutions_keep_inputs_not_columns_and_a_frozen_weight_gets_no_gradient(data, transposed, frozen, bias):
    """A convolution's graph holds its input, parameters and output, never a column matrix (``C*kh*kw`` rows
    per position), and the input's gradient is the same whether the weight needs
    one or not."""
    g = data.draw(strategies.conv_geometries(max_size=7, max_kernel=4, transposed=transposed))
    if transposed and any(q >= s for q, s in zip(g.output_padding, g.stride)):
        g = dataclasses.replace(g, output_padding=(0, 0))  # padding past the stride takes a composed path
        assume(min(g.output_size) >= 1)  # without its output padding the output may be empty
    conv = F.conv_transpose2d if transposed else F.conv2d
    x, w = leaf(*g.input_shape, seed=1), leaf(*g.weight_shape, seed=2, requires_grad=not frozen)
    b = leaf(g.c_out, seed=3) if bias else None
    y = conv(x, w, b, **g.kwargs)
    assert max(_graph_sizes(y)) <= max(x.numel(), w.numel(), y.numel())
    (y * y).sum().backward()
    assert (w.grad is None) == frozen
    x_only = leaf(*g.input_shape, seed=1)
    (conv(x_only, w.detach(), None if b is None else b.detach(), **g.kwargs) ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x_only.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_conv_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"conv2d.*\(2, 3, 5, 5\).*\(4, 2, 3, 3\)"):
        nn.Conv2d(2, 4, 3)(mg.zeros(2, 3, 5, 5))
    with pytest.raises(ValueError, match="smaller than the dilated kernel"):
        nn.Conv2d(1, 1, 3, dilation=2)(mg.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(1, 1, 3, stride=2, output_padding=2)(mg.zeros(1, 1, 4, 4))
    with pytest.raises(NotImplementedError, match="groups"):
        nn.Conv2d(2, 2, 3, groups=2)


@pytest.mark.parametrize("cls, shape", [(nn.BatchNorm1d, (4, 3)), (nn.BatchNorm1d, (3, 2, 4)),
                                        (nn.BatchNorm2d, (2, 3, 2, 3)), (nn.BatchNorm2d, (1, 2, 3, 2))])
@pytest.mark.parametrize("affine, bias", [(True, True), (True, False), (False, False)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradients(cls, shape, affine, bias, training):
    bn = cls(shape[1], affine=affine, bias=bias)
    assert len(list(bn.parameters())) == affine + bias
    for p, mean in zip(bn.parameters(), (1.0, 0.0)):
        nn.init.normal_(p, mean, 0.3)
    bn.running_mean.data = np.random.default_rng(1).standard_normal(shape[1]).astype(np.float32)
    bn.running_var.data = np.random.default_rng(2).uniform(0.5, 2, shape[1]).astype(np.float32)
    module_gradchecks(bn.train(training), leaf(*shape))


def test_batch_norm_input_gradient_is_not_trivially_zero():
    """With an all-ones upstream gradient the input gradient vanishes; the checks use random ones."""
    x = leaf(4, 3)
    y = F.batch_norm(x, None, None, training=True)
    (gx,) = mg.grad(y, [x], mg.ones(4, 3, dtype=mg.float64))
    np.testing.assert_allclose(gx.numpy(), 0, atol=1e-12)
    (gx,) = mg.grad(F.batch_norm(x, None, None, training=True), [x], leaf(4, 3, seed=5, requires_grad=False))
    assert np.abs(gx.numpy()).max() > 0.1


@pytest.mark.parametrize("shape, normalized", [((3, 4), 4), ((2, 3, 2, 2), (2, 2)), ((2, 3, 2), (3, 2))])
def test_layer_norm_forward_and_gradients(shape, normalized):
    ln = nn.LayerNorm(normalized)
    nn.init.normal_(ln.weight, 1.0, 0.3)
    nn.init.normal_(ln.bias)
    x = leaf(*shape)
    axes = tuple(range(x.ndim - len(ln.normalized_shape), x.ndim))
    a = x.numpy()
    xhat = (a - a.mean(axes, keepdims=True)) / np.sqrt(a.var(axes, keepdims=True) + 1e-5)
    np.testing.assert_allclose(ln.double()(x).numpy(), xhat * ln.weight.numpy() + ln.bias.numpy(), rtol=1e-10)
    module_gradchecks(ln, x)
    module_gradchecks(nn.LayerNorm(normalized, elementwise_affine=False), x)
    module_gradchecks(nn.LayerNorm(normalized, bias=False), x)
    with pytest.raises(ValueError, match="normalized_shape"):
        ln(leaf(*shape[:-1], shape[-1] + 1))


def test_embedding_forward_gradients_and_errors():
    emb = nn.Embedding(5, 3)
    idx = mg.tensor([[0, 2, 2], [4, 0, 1]])  # repeated rows receive the sum of their gradients
    np.testing.assert_array_equal(emb(idx).numpy(), emb.weight.numpy()[idx.numpy()])
    module_gradchecks(emb, idx)
    emb.float()
    emb(idx).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[:, 0], [2, 1, 2, 0, 1])
    with pytest.raises(ValueError, match=r"embedding: indices must lie in \[0, 5\)"):
        emb(mg.tensor([1, 5]))
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        F.embedding([-1, 2], emb.weight)
    with pytest.raises(ValueError, match="integers"):
        emb(mg.tensor([0.0, 1.0]))


# -- batch norm's running statistics -----------------------------------------------------------------

def numpy_running_stats(batches, momentum, axes):
    mean, var = np.zeros(batches[0].shape[1]), np.ones(batches[0].shape[1])
    for t, x in enumerate(batches, 1):
        m = 1 / t if momentum is None else momentum
        n = x.size // x.shape[1]
        mean = (1 - m) * mean + m * x.mean(axes)
        var = (1 - m) * var + m * x.var(axes) * n / (n - 1)
    return mean, var


@pytest.mark.parametrize("cls, shape", [(nn.BatchNorm1d, (6, 3)), (nn.BatchNorm1d, (4, 3, 5)),
                                        (nn.BatchNorm2d, (3, 3, 4, 2))])
@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_batch_norm_running_statistics_match_numpy(cls, shape, momentum):
    bn = cls(3, momentum=momentum).double()
    axes = (0,) + tuple(range(2, len(shape)))
    batches = [np.random.default_rng(k).normal(k, 1 + k, shape) for k in range(4)]
    for x in batches:
        y = bn(mg.tensor(x)).numpy()  # training: the batch's own statistics
        np.testing.assert_allclose(y, (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5),
                                   rtol=1e-9, atol=1e-12)
    mean, var = numpy_running_stats(batches, momentum, axes)
    np.testing.assert_allclose(bn.running_mean.numpy(), mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), var, rtol=1e-12)
    assert int(bn.num_batches_tracked.item()) == 4

    x = batches[0]
    view = (1, 3) + (1,) * (len(shape) - 2)
    expected = (x - mean.reshape(view)) / np.sqrt(var.reshape(view) + 1e-5)
    np.testing.assert_allclose(bn.eval()(mg.tensor(x)).numpy(), expected, rtol=1e-10)
    assert int(bn.num_batches_tracked.item()) == 4  # evaluation changes nothing
    np.testing.assert_allclose(bn.running_mean.numpy(), mean, rtol=1e-12)
    bn.reset_running_stats()
    assert np.all(bn.running_mean.numpy() == 0) and np.all(bn.running_var.numpy() == 1)
    assert int(bn.num_batches_tracked.item()) == 0


def test_batch_norm_without_running_statistics_uses_batch_statistics_in_eval():
    bn = nn.BatchNorm2d(2, track_running_stats=False)
    assert bn.running_mean is None and list(bn.state_dict()) == ["weight", "bias"]
    x = mg.randn(3, 2, 2, 2) * 3 + 1
    np.testing.assert_allclose(bn.eval()(x).numpy(), bn.train()(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(bn.eval()(x).numpy().mean((0, 2, 3)), 0, atol=1e-6)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\).*4-d.*\(N, 3, \.\.\.\).*\(2, 3, 4\)"):
        nn.BatchNorm2d(3)(mg.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\).*2-d or 3-d.*\(2, 4\)"):
        nn.BatchNorm1d(3)(mg.zeros(2, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(mg.zeros(1, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm2d(3)(mg.zeros(1, 3, 1, 1))
    nn.BatchNorm1d(3).eval()(mg.zeros(1, 3))  # evaluation of one sample is fine


# -- small layers ---------------------------------------------------------------------------------------

def test_interpolate_nearest_and_upsample():
    x = leaf(2, 1, 2, 3)
    a = x.numpy()
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=2).numpy(), a.repeat(2, 2).repeat(2, 3))
    np.testing.assert_array_equal(nn.Upsample(scale_factor=(2, 3))(x).numpy(), a.repeat(2, 2).repeat(3, 3))
    np.testing.assert_array_equal(nn.Upsample(size=(6, 3))(x).numpy(), a.repeat(3, 2))
    gradcheck(lambda t: F.interpolate(t, scale_factor=2.0), [x])
    gradgradcheck(lambda t: F.interpolate(t, scale_factor=2.0), [x])
    for bad in [{"scale_factor": 2, "mode": "bicubic"}, {"size": (5, 6), "scale_factor": 2}, {}]:
        with pytest.raises(ValueError, match="interpolate"):
            F.interpolate(x, **bad)


def test_dropout_scaling_modes_and_seed():
    x = mg.ones(200, 100)
    drop = nn.Dropout(0.3)
    y = drop(x).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert (y == 0).mean() == pytest.approx(0.3, abs=0.02)
    assert y.mean() == pytest.approx(1.0, abs=0.03)  # inverted dropout keeps the expectation
    assert drop.eval()(x) is x and F.dropout(x, 0.3, training=False) is x
    mg.manual_seed(5)
    first = F.dropout(x, 0.5).numpy()
    mg.manual_seed(5)
    assert np.array_equal(first, F.dropout(x, 0.5).numpy())
    assert not np.array_equal(first, F.dropout(x, 0.5).numpy())
    g = mg.Generator(1)
    assert np.array_equal(F.dropout(x, 0.5, generator=g).numpy(), F.dropout(x, 0.5, generator=mg.Generator(1)).numpy())
    assert F.dropout(x, 0.0) is x and np.all(F.dropout(x, 1.0).numpy() == 0)
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout(1.5)

    x = leaf(4, 5)
    mg.manual_seed(2)
    y = F.dropout(x, 0.25)
    y.backward(mg.ones(4, 5, dtype=mg.float64))
    np.testing.assert_allclose(x.grad.numpy(), (y.numpy() != 0) / 0.75)


def test_flatten_and_unflatten():
    x = leaf(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60) and nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(2)(x).shape == (2, 3, 20)
    y = nn.Unflatten(1, (3, 4, 5))(nn.Flatten()(x))
    assert y.shape == x.shape and np.array_equal(y.numpy(), x.numpy())
    assert nn.Unflatten(-1, (5, 1))(x).shape == (2, 3, 4, 5, 1)
    gradcheck(lambda t: nn.Unflatten(1, (2, 30))(nn.Flatten()(t)), [x])


def test_activation_modules():
    x = mg.tensor([-2.0, -0.5, 0.5, 3.0])
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), [0, 0, 0.5, 3])
    np.testing.assert_allclose(nn.LeakyReLU()(x).numpy(), [-0.02, -0.005, 0.5, 3], rtol=1e-6)
    np.testing.assert_allclose(nn.LeakyReLU(0.2)(x).numpy(), [-0.4, -0.1, 0.5, 3], rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(x.numpy()), rtol=1e-6)
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-x.numpy())), rtol=1e-6)
    np.testing.assert_allclose(nn.Softplus(2.0)(x).numpy(), np.log1p(np.exp(2 * x.numpy())) / 2, rtol=1e-6)
    assert nn.Identity(3, foo=1)(x) is x


# -- losses ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses(reduction):
    x, t = leaf(3, 4), leaf(3, 4, seed=1, requires_grad=False)
    d = x.numpy() - t.numpy()
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
    np.testing.assert_allclose(F.mse_loss(x, t, reduction).numpy(), reduce(d**2), rtol=1e-12)
    np.testing.assert_allclose(F.l1_loss(x, t.numpy(), reduction).numpy(), reduce(np.abs(d)), rtol=1e-12)
    gradcheck(lambda a, b: F.mse_loss(a, b, reduction), [x, leaf(3, 4, seed=1)])
    gradgradcheck(lambda a, b: F.mse_loss(a, b, reduction), [x, leaf(3, 4, seed=1)])
    gradcheck(lambda a: F.l1_loss(a, t, reduction), [x])


def test_loss_errors():
    x = leaf(3, 4)
    with pytest.raises(ValueError, match=r"mse_loss: target shape \(4, 3\) != input shape \(3, 4\)"):
        F.mse_loss(x, mg.zeros(4, 3))
    with pytest.raises(ValueError, match="l1_loss: reduction"):
        F.l1_loss(x, x.detach(), "avg")


def test_binary_cross_entropy():
    rng = np.random.default_rng(0)
    p = mg.tensor(rng.uniform(0.05, 0.95, (3, 4)), requires_grad=True)
    t = rng.uniform(0, 1, (3, 4))
    w = rng.uniform(0.5, 2, (3, 4))
    ell = -(t * np.log(p.numpy()) + (1 - t) * np.log(1 - p.numpy()))
    np.testing.assert_allclose(F.binary_cross_entropy(p, t).numpy(), ell.mean(), rtol=1e-12)
    np.testing.assert_allclose(F.binary_cross_entropy(p, t, w, "sum").numpy(), (w * ell).sum(), rtol=1e-12)
    gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction="none"), [p, mg.tensor(t, requires_grad=True)])
    gradgradcheck(lambda a: F.binary_cross_entropy(a, t), [p])
    assert F.binary_cross_entropy(p.float(), t, w).dtype == np.float32  # NumPy target and weight take its dtype
    logits = leaf(3, 4)
    np.testing.assert_allclose(F.binary_cross_entropy(F.sigmoid(logits), t).numpy(),
                               F.binary_cross_entropy_with_logits(logits, t).numpy(), rtol=1e-10)
    # log is clamped at -100, as torch: saturated probabilities give a finite loss and gradient
    q = mg.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    loss = F.binary_cross_entropy(q, mg.tensor([1.0, 0.0, 0.0, 1.0]), reduction="sum")
    assert float(loss.item()) == pytest.approx(200.0)
    loss.backward()
    assert np.all(np.isfinite(q.grad.numpy()))
