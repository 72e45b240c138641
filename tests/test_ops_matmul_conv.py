"""matmul, unfold and fold: forward against NumPy, naive loops and torch; first and second derivatives."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigan as mg
from minigan.testing import gradcheck, gradgradcheck, strategies


def leaf(shape, seed=0):
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


# -- matmul -------------------------------------------------------------------------------

MATMUL_SHAPES = hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=3, max_side=3)


@settings(max_examples=40)
@given(shapes=MATMUL_SHAPES)
def test_matmul_broadcast_batches_and_vectors(shapes):
    (sa, sb), sc = shapes
    a, b = leaf(sa, 1), leaf(sb, 2)
    c = a @ b
    assert c.shape == sc
    np.testing.assert_allclose(c.numpy(), np.matmul(a.numpy(), b.numpy()), rtol=1e-12, atol=1e-12)
    gradcheck(mg.matmul, [a, b])
    gradgradcheck(mg.matmul, [a, b])


@settings(max_examples=40)
@given(m=st.integers(1, 6), k=st.integers(1, 4), n=st.integers(1, 9), transposed=st.booleans())
def test_matmul_of_every_layout_and_inner_size_matches_numpy(m, k, n, transposed):
    """The forward's two shortcuts: an outer product (k = 1) as a broadcast multiply, and a row-major matrix times
    a transposed one, wider than tall, computed as the transpose of the reversed product. Same values, same
    derivatives."""
    a = leaf((m, k), 1)
    w = leaf((n, k), 2) if transposed else leaf((k, n), 2)
    b = w.T if transposed else w  # w.T: column-major, as Linear's weight.T
    np.testing.assert_allclose((a @ b).numpy(), a.numpy() @ b.numpy(), rtol=1e-12, atol=1e-12)
    gradcheck(lambda a, w: a @ (w.T if transposed else w), [a, w])
    gradgradcheck(lambda a, w: a @ (w.T if transposed else w), [a, w])


@pytest.mark.parametrize("sa, sb", [((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,)), ((4, 2, 3), (3,)),
                                    ((3,), (5, 3, 2)), ((1, 2, 3), (4, 3, 2))])
def test_matmul_one_dimensional_operands(sa, sb):
    a, b = leaf(sa, 1), leaf(sb, 2)
    np.testing.assert_allclose((a @ b).numpy(), a.numpy() @ b.numpy(), rtol=1e-12)
    gradcheck(lambda a, b: a @ b, [a, b])
    gradgradcheck(lambda a, b: a @ b, [a, b])


def test_matmul_float32_and_constant_operand():
    a, w = mg.randn(4, 3, requires_grad=True), mg.randn(3, 2)
    y = a @ w
    assert y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.broadcast_to(w.numpy().sum(1), (4, 3)), rtol=1e-6)
    assert w.grad is None
    np.testing.assert_allclose((a.numpy() @ w).numpy(), a.numpy() @ w.numpy(), rtol=1e-6)  # ndarray @ Tensor


@pytest.mark.parametrize("sa, sb", [((2, 3), (4, 5)), ((3,), (4, 5)), ((2, 3), (4,)), ((3,), (4,)),
                                    ((2, 2, 3), (2, 4, 1))])
def test_matmul_mismatched_inner_dimension(sa, sb):
    with pytest.raises(ValueError, match="matmul") as info:
        mg.zeros(*sa) @ mg.zeros(*sb)
    assert str(sa) in str(info.value) and str(sb) in str(info.value)


def test_matmul_errors_for_scalars_and_batches():
    with pytest.raises(ValueError, match=r"matmul.*\(\)"):
        mg.matmul(mg.tensor(1.0), mg.zeros(2))
    with pytest.raises(ValueError, match=r"matmul.*\(2, 2, 3\).*\(3, 3, 2\)"):
        mg.zeros(2, 2, 3) @ mg.zeros(3, 3, 2)


# -- affine (a linear layer's fused x W^T + b) ------------------------------------------------

@settings(max_examples=30)
@given(lead=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3), n_in=st.integers(1, 4), n_out=st.integers(1, 4),
       needs=st.tuples(st.booleans(), st.booleans(), st.booleans()).filter(any))
def test_affine_equals_matmul_plus_bias_with_both_derivatives(lead, n_in, n_out, needs):
    x, w, b = leaf(lead + (n_in,), 1), leaf((n_out, n_in), 2), leaf((n_out,), 3)
    for t, need in zip((x, w, b), needs):
        t.requires_grad = need
    y = mg.ops.affine(x, w, b)
    np.testing.assert_allclose(y.numpy(), x.numpy() @ w.numpy().T + b.numpy(), rtol=1e-12, atol=1e-12)
    gradcheck(mg.ops.affine, [x, w, b])
    gradgradcheck(mg.ops.affine, [x, w, b])


def test_affine_gradients_only_for_inputs_that_need_them():
    x, w, b = mg.randn(5, 3), mg.randn(2, 3, requires_grad=True), mg.randn(2)
    mg.ops.affine(x, w, b).sum().backward()
    assert x.grad is None and b.grad is None
    np.testing.assert_allclose(w.grad.numpy(), np.broadcast_to(x.numpy().sum(0), (2, 3)), rtol=1e-5)


@pytest.mark.parametrize("sx, sw, sb", [((4, 3), (2, 5), (2,)), ((4, 3), (2, 3), (3,)), ((), (2, 3), (2,))])
def test_affine_names_the_shapes_that_do_not_agree(sx, sw, sb):
    with pytest.raises(ValueError, match=r"affine: x .* do not agree"):
        mg.ops.affine(mg.zeros(*sx), mg.zeros(*sw), mg.zeros(*sb))


# -- unfold and fold ------------------------------------------------------------------------

def out_size(size, k, d, p, s):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


@st.composite
def geometries(draw, max_batch=2, max_channels=2):
    """Geometries with at least one output position; strides may exceed the kernel, padding half of it."""
    g = dict(kernel_size=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
             dilation=(draw(st.integers(1, 2)), draw(st.integers(1, 2))),
             padding=(draw(st.integers(0, 2)), draw(st.integers(0, 2))),
             stride=(draw(st.integers(1, 4)), draw(st.integers(1, 4))))
    low = [max(1, d * (k - 1) + 1 - 2 * p) for k, d, p in zip(g["kernel_size"], g["dilation"], g["padding"])]
    size = (draw(st.integers(low[0], low[0] + 4)), draw(st.integers(low[1], low[1] + 4)))
    n, c = draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels))
    return (n, c) + size, g


def naive_unfold(x, kernel_size, dilation, padding, stride):
    """One loop iteration per entry of the result: the definition of im2col, read off torch's docs."""
    n, c, h, w = x.shape
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel_size, dilation, padding, stride
    oh, ow = out_size(h, kh, dh, ph, sh), out_size(w, kw, dw, pw, sw)
    cols = np.zeros((n, c * kh * kw, oh * ow), x.dtype)
    for b in range(n):
        for ch in range(c):
            for i in range(kh):
                for j in range(kw):
                    for a in range(oh):
                        for e in range(ow):
                            r, q = a * sh - ph + i * dh, e * sw - pw + j * dw
                            if 0 <= r < h and 0 <= q < w:
                                cols[b, (ch * kh + i) * kw + j, a * ow + e] = x[b, ch, r, q]
    return cols


def naive_fold(cols, output_size, kernel_size, dilation, padding, stride):
    (h, w), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = output_size, kernel_size, dilation, padding, stride
    n, ckk, _ = cols.shape
    oh, ow = out_size(h, kh, dh, ph, sh), out_size(w, kw, dw, pw, sw)
    x = np.zeros((n, ckk // (kh * kw), h, w), cols.dtype)
    for b in range(n):
        for ch in range(x.shape[1]):
            for i in range(kh):
                for j in range(kw):
                    for a in range(oh):
                        for e in range(ow):
                            r, q = a * sh - ph + i * dh, e * sw - pw + j * dw
                            if 0 <= r < h and 0 <= q < w:
                                x[b, ch, r, q] += cols[b, (ch * kh + i) * kw + j, a * ow + e]
    return x


def cols_shape(shape, g):
    n, c, h, w = shape
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = g["kernel_size"], g["dilation"], g["padding"], g["stride"]
    return n, c * kh * kw, out_size(h, kh, dh, ph, sh) * out_size(w, kw, dw, pw, sw)


@settings(max_examples=40)
@given(case=geometries())
@example(case=((1, 2, 7, 5), dict(kernel_size=(2, 3), dilation=(2, 1), padding=(1, 0), stride=(3, 4))))
@example(case=((2, 1, 3, 4), dict(kernel_size=(3, 1), dilation=(1, 2), padding=(2, 1), stride=(1, 2))))
def test_unfold_fold_match_naive_loops_and_are_adjoint(case):
    shape, g = case
    x, y = leaf(shape, 1), leaf(cols_shape(shape, g), 2)
    cols, image = mg.unfold(x, **g), mg.fold(y, shape[2:], **g)
    np.testing.assert_array_equal(cols.numpy(), naive_unfold(x.numpy(), **g))
    np.testing.assert_allclose(image.numpy(), naive_fold(y.numpy(), shape[2:], **g), rtol=1e-12, atol=1e-12)
    # <unfold(x), y> == <x, fold(y)>
    np.testing.assert_allclose(np.vdot(cols.numpy(), y.numpy()), np.vdot(x.numpy(), image.numpy()), rtol=1e-10)


@settings(max_examples=20)
@given(case=geometries(max_batch=1, max_channels=2))
def test_unfold_fold_gradients(case):
    shape, g = case
    x, y = leaf(shape, 1), leaf(cols_shape(shape, g), 2)
    gradcheck(lambda t: mg.unfold(t, **g), [x])
    gradcheck(lambda t: mg.fold(t, shape[2:], **g), [y])
    gradgradcheck(lambda t: mg.unfold(t * t, **g), [x])
    gradgradcheck(lambda t: mg.fold(t * t, shape[2:], **g), [y])


def test_unfold_fold_float32_and_int_arguments():
    x = mg.randn(2, 3, 5, 4)
    cols = mg.unfold(x, 3, padding=1, stride=2)
    assert cols.dtype == np.float32 and cols.shape == (2, 27, 3 * 2)
    img = mg.fold(cols, (5, 4), 3, padding=1, stride=2)
    assert img.dtype == np.float32 and img.shape == (2, 3, 5, 4)


@settings(max_examples=25)
@given(geometry=strategies.conv_geometries(max_size=6))
def test_unfold_fold_match_torch(geometry):
    torch = pytest.importorskip("torch")
    shape = geometry.input_shape
    g = {k: geometry[k] for k in ("kernel_size", "dilation", "padding", "stride")}
    x, y = leaf(shape, 1), leaf(cols_shape(shape, g), 2)
    expected = torch.nn.functional.unfold(torch.from_numpy(x.numpy()), **g).numpy()
    np.testing.assert_array_equal(mg.unfold(x, **g).numpy(), expected)
    expected = torch.nn.functional.fold(torch.from_numpy(y.numpy()), shape[2:], **g).numpy()
    np.testing.assert_allclose(mg.fold(y, shape[2:], **g).numpy(), expected, rtol=1e-12, atol=1e-12)


def test_unfold_fold_errors():
    with pytest.raises(ValueError, match=r"unfold.*\(1, 1, 2, 2\).*too small"):
        mg.unfold(mg.zeros(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match=r"unfold.*too small"):
        mg.unfold(mg.zeros(1, 1, 5, 5), 3, dilation=3)
    with pytest.raises(ValueError, match=r"unfold.*\(N, C, H, W\).*\(2, 5, 5\)"):
        mg.unfold(mg.zeros(2, 5, 5), 3)
    with pytest.raises(ValueError, match="stride"):
        mg.unfold(mg.zeros(1, 1, 5, 5), 3, stride=0)
    with pytest.raises(ValueError, match=r"fold.*\(1, 9, 8\)"):
        mg.fold(mg.zeros(1, 9, 8), (4, 4), 3)  # 4x4 with a 3x3 kernel has 2*2 = 4 positions, not 8
    with pytest.raises(ValueError, match="fold"):
        mg.fold(mg.zeros(1, 9, 1), (2, 2), 3)  # the image is smaller than the kernel


# -- the double backward that WGAN-GP needs --------------------------------------------------

def conv2d(x, weight, bias, stride=1, padding=0):
    """Convolution as matmul with the unfolded input: (N, C, H, W) -> (N, C_out, H_out, W_out)."""
    n, _, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    cols = mg.unfold(x, (kh, kw), padding=padding, stride=stride)  # (N, C*kh*kw, L)
    out = weight.reshape(c_out, -1) @ cols + bias.reshape(1, c_out, 1)  # (N, C_out, L)
    return out.reshape(n, c_out, out_size(h, kh, 1, padding, stride), out_size(w, kw, 1, padding, stride))


def critic(x, w1, b1, w2, b2):
    hidden = mg.leaky_relu(conv2d(x, w1, b1, stride=2, padding=1), negative_slope=0.2)
    return conv2d(hidden, w2, b2).reshape(x.shape[0], -1).sum(1)


def gradient_norm_squared(x, *params):
    (g,) = mg.grad(critic(x, *params).sum(), [x], create_graph=True)
    return (g * g).sum()


def test_gradient_penalty_double_backward_through_conv():
    x = leaf((2, 2, 5, 5), 1)
    params = [leaf((3, 2, 3, 3), 2), leaf((3,), 3), leaf((1, 3, 2, 2), 4), leaf((1,), 5)]
    gradcheck(gradient_norm_squared, [x, *params])  # what the optimiser steps on: d penalty / d weights
    gradgradcheck(gradient_norm_squared, [x, *[p.detach() for p in params]])
