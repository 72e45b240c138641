"""Padding, pixel shuffle, pooling and instance norm: gradients by finite differences, values and gradients against PyTorch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_nn_module import module_gradchecks

import minigan as mg
import minigan.nn.functional as F
from minigan import nn
from minigan.testing import gradcheck

TOL = {"rtol": 1e-6, "atol": 1e-8}


def leaf(*shape, seed=0):
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def distinct(*shape, seed=0):
    """Values at least 0.05 apart, shuffled: no ties, so max pooling is differentiable at every draw."""
    rng = np.random.default_rng(seed)
    values = (rng.permutation(int(np.prod(shape))) - np.prod(shape) / 2) * 0.05
    return mg.tensor(values.reshape(shape), requires_grad=True)


# -- strategies -------------------------------------------------------------------------------------------------

@st.composite
def pool_cases(draw, dilation=False):
    """(input shape, kernel, stride, padding, dilation) with padding <= kernel / 2 and a non-empty output.

    With dilation the input is at least one dilated window wide, so no window lies wholly in the padding
    (a max over nothing but padding is -inf, in PyTorch as here).
    """
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = draw(st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    p = tuple(draw(st.integers(0, ki // 2)) for ki in k)
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    span = tuple(di * (ki - 1) + 1 for ki, di in zip(k, d))
    low = span if dilation else tuple(max(1, sp - 2 * pi) for sp, pi in zip(span, p))
    hw = tuple(draw(st.integers(lo, lo + 3)) for lo in low)
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + hw
    return shape, k, s, p, d


@st.composite
def pad_cases(draw):
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    h, w = draw(st.integers(2, 4)), draw(st.integers(2, 4))
    limit = {"reflect": (h - 1, w - 1), "circular": (h, w)}.get(mode, (h + 2, w + 2))
    pad = (draw(st.integers(0, limit[1])), draw(st.integers(0, limit[1])),
           draw(st.integers(0, limit[0])), draw(st.integers(0, limit[0])))
    return mode, (draw(st.integers(1, 2)), 2, h, w), pad


# -- gradients by finite differences ----------------------------------------------------------------------------

@settings(max_examples=10)
@given(case=pad_cases(), value=st.floats(-2, 2))
def test_pad_gradcheck(case, value):
    mode, shape, pad = case
    gradcheck(lambda x: F.pad(x, pad, mode=mode, value=value), [leaf(*shape)])


@settings(max_examples=10)
@given(r=st.integers(1, 3), c=st.integers(1, 2), h=st.integers(1, 3), w=st.integers(1, 3))
def test_pixel_shuffle_gradcheck(r, c, h, w):
    module_gradchecks(nn.PixelShuffle(r), leaf(2, c * r * r, h, w))
    module_gradchecks(nn.PixelUnshuffle(r), leaf(2, c, h * r, w * r))


@settings(max_examples=10)
@given(case=pool_cases(), count_include_pad=st.booleans())
def test_avg_pool_gradcheck(case, count_include_pad):
    shape, k, s, p, _ = case
    module_gradchecks(nn.AvgPool2d(k, s, p, count_include_pad=count_include_pad), leaf(*shape))


@settings(max_examples=10)
@given(case=pool_cases(dilation=True), seed=st.integers(0, 2**16))
def test_max_pool_gradcheck(case, seed):
    shape, k, s, p, d = case
    module_gradchecks(nn.MaxPool2d(k, s, p, d), distinct(*shape, seed=seed))


@settings(max_examples=10)
@given(h=st.integers(1, 6), w=st.integers(1, 6), oh=st.integers(1, 4), ow=st.integers(1, 4))
def test_adaptive_avg_pool_gradcheck(h, w, oh, ow):
    module_gradchecks(nn.AdaptiveAvgPool2d((oh, ow)), leaf(2, 2, h, w))


@settings(max_examples=10)
@given(c=st.integers(1, 3), h=st.integers(1, 3), w=st.integers(2, 3), affine=st.booleans(),
       seed=st.integers(0, 2**16))
def test_instance_norm_gradcheck(c, h, w, affine, seed):
    norm = nn.InstanceNorm2d(c, affine=affine)
    if affine:  # away from the initial ones and zeros, so a swapped gamma/beta would show
        norm.weight.data = np.random.default_rng(seed).uniform(0.5, 2.0, c).astype(np.float32)
        norm.bias.data = np.random.default_rng(seed + 1).standard_normal(c).astype(np.float32)
    module_gradchecks(norm, leaf(2, c, h, w, seed=seed))


# -- against PyTorch --------------------------------------------------------------------------------------------

def compare(ours, theirs, x: np.ndarray, seed=0):
    """Same float64 input and random upstream gradient: outputs, input gradients and parameter gradients agree."""
    torch = pytest.importorskip("torch")
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    ty, my = theirs(tx), ours(mx)
    np.testing.assert_allclose(my.numpy(), ty.detach().numpy(), **TOL)
    g = np.random.default_rng(seed).standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    my.backward(mg.tensor(g))
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), **TOL)
    grads = {k: p.grad for k, p in theirs.named_parameters()}
    assert [k for k, _ in ours.named_parameters()] == list(grads)
    for k, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[k].numpy(), err_msg=k, **TOL)


@settings(max_examples=10)
@given(case=pad_cases(), unbatched=st.booleans())
def test_pad_modules_match_torch(case, unbatched):
    torch = pytest.importorskip("torch")
    mode, shape, pad = case
    x = np.random.default_rng(1).standard_normal(shape[1:] if unbatched else shape)
    pairs = {"constant": (nn.ZeroPad2d, torch.nn.ZeroPad2d), "reflect": (nn.ReflectionPad2d, torch.nn.ReflectionPad2d),
             "replicate": (nn.ReplicationPad2d, torch.nn.ReplicationPad2d)}
    if mode in pairs:
        ours, theirs = pairs[mode]
        compare(ours(pad), theirs(pad), x)
        assert repr(ours(pad)) == repr(theirs(pad))
    tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    ty = torch.nn.functional.pad(tx, pad, mode=mode, **({"value": 0.5} if mode == "constant" else {}))
    my = F.pad(mx, pad, mode=mode, value=0.5)
    np.testing.assert_allclose(my.numpy(), ty.detach().numpy(), **TOL)
    g = np.random.default_rng(2).standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    my.backward(mg.tensor(g))
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), **TOL)


def test_constant_pad_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5))
    compare(nn.ConstantPad2d((1, 0, 2, 3), 1.5), torch.nn.ConstantPad2d((1, 0, 2, 3), 1.5), x)
    compare(nn.ZeroPad2d(2), torch.nn.ZeroPad2d(2), x)
    assert repr(nn.ConstantPad2d(1, 1.5)) == repr(torch.nn.ConstantPad2d(1, 1.5))


@settings(max_examples=10)
@given(r=st.integers(1, 3), c=st.integers(1, 2), h=st.integers(1, 3), w=st.integers(1, 3))
def test_pixel_shuffle_matches_torch(r, c, h, w):
    torch = pytest.importorskip("torch")
    compare(nn.PixelShuffle(r), torch.nn.PixelShuffle(r), np.random.default_rng(4).standard_normal((2, c * r * r, h, w)))
    compare(nn.PixelUnshuffle(r), torch.nn.PixelUnshuffle(r),
            np.random.default_rng(5).standard_normal((2, c, h * r, w * r)))
    assert repr(nn.PixelShuffle(r)) == repr(torch.nn.PixelShuffle(r))


@settings(max_examples=10)
@given(case=pool_cases(), count_include_pad=st.booleans(), divisor=st.none() | st.integers(1, 5))
def test_avg_pool_matches_torch(case, count_include_pad, divisor):
    torch = pytest.importorskip("torch")
    shape, k, s, p, _ = case
    kwargs = {"count_include_pad": count_include_pad, "divisor_override": divisor}
    compare(nn.AvgPool2d(k, s, p, **kwargs), torch.nn.AvgPool2d(k, s, p, **kwargs),
            np.random.default_rng(6).standard_normal(shape))
    compare(nn.AvgPool2d(k, s, p, **kwargs), torch.nn.AvgPool2d(k, s, p, **kwargs),
            np.random.default_rng(7).standard_normal(shape[1:]))  # unbatched (C, H, W)
    assert repr(nn.AvgPool2d(k, s, p)) == repr(torch.nn.AvgPool2d(k, s, p))


@settings(max_examples=10)
@given(case=pool_cases(dilation=True), seed=st.integers(0, 2**16))
def test_max_pool_matches_torch(case, seed):
    torch = pytest.importorskip("torch")
    shape, k, s, p, d = case
    compare(nn.MaxPool2d(k, s, p, d), torch.nn.MaxPool2d(k, s, p, d), distinct(*shape, seed=seed).numpy())
    compare(nn.MaxPool2d(k, s, p, d), torch.nn.MaxPool2d(k, s, p, d), distinct(*shape[1:], seed=seed).numpy())
    assert repr(nn.MaxPool2d(k, s, p, d)) == repr(torch.nn.MaxPool2d(k, s, p, d))


@settings(max_examples=10)
@given(h=st.integers(1, 7), w=st.integers(1, 7), oh=st.integers(1, 4) | st.none(), ow=st.integers(1, 4))
def test_adaptive_avg_pool_matches_torch(h, w, oh, ow):
    """Every output size, dividing the input or not (PyTorch's overlapping bins), ``None`` keeping a side."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(7).standard_normal((2, 3, h, w))
    compare(nn.AdaptiveAvgPool2d((oh, ow)), torch.nn.AdaptiveAvgPool2d((oh, ow)), x)
    compare(nn.AdaptiveAvgPool2d(ow), torch.nn.AdaptiveAvgPool2d(ow), x)
    compare(nn.AdaptiveAvgPool2d(1), torch.nn.AdaptiveAvgPool2d(1), x[0])  # unbatched (C, H, W)
    assert repr(nn.AdaptiveAvgPool2d((oh, ow))) == repr(torch.nn.AdaptiveAvgPool2d((oh, ow)))


@settings(max_examples=10)
@given(c=st.integers(1, 3), h=st.integers(1, 4), w=st.integers(2, 4), affine=st.booleans(), bias=st.booleans(),
       unbatched=st.booleans(), seed=st.integers(0, 2**16))
def test_instance_norm_matches_torch(c, h, w, affine, bias, unbatched, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    theirs = torch.nn.InstanceNorm2d(c, affine=affine, bias=bias).double()
    if affine:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 2.0)
            if bias:
                theirs.bias.normal_()
    ours = nn.InstanceNorm2d(c, affine=affine, bias=bias).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    x = 3 * rng.standard_normal((c, h, w) if unbatched else (2, c, h, w)) + 1
    compare(ours, theirs, x, seed=seed)


@settings(max_examples=10)
@given(c=st.integers(1, 3), h=st.integers(1, 3), w=st.integers(2, 3), affine=st.booleans(),
       momentum=st.sampled_from([0.1, 0.5, None]), seed=st.integers(0, 2**16))
def test_instance_norm_running_stats_match_torch(c, h, w, affine, momentum, seed):
    """track_running_stats: two training batches update the buffers as PyTorch's; evaluation then uses them."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    theirs = torch.nn.InstanceNorm2d(c, affine=affine, momentum=momentum, track_running_stats=True).double()
    ours = nn.InstanceNorm2d(c, affine=affine, momentum=momentum, track_running_stats=True).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    for step in range(2):
        compare(ours, theirs, 2 * rng.standard_normal((3, c, h, w)) + step, seed=seed + step)
        for k, v in theirs.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), err_msg=k, **TOL)
    ours.eval(), theirs.eval()
    compare(ours, theirs, rng.standard_normal((2, c, h, w)), seed=seed + 2)
    compare(ours, theirs, rng.standard_normal((c, h, w)), seed=seed + 3)  # unbatched


def test_functional_defaults_match_torch():
    """Signatures as PyTorch's: defaults of the functional forms and the modules."""
    torch = pytest.importorskip("torch")
    import inspect

    for name in ("avg_pool2d", "max_pool2d", "adaptive_avg_pool2d", "pixel_shuffle", "pixel_unshuffle",
                 "instance_norm", "pad"):
        ours = inspect.signature(getattr(F, name)).parameters
        try:
            theirs = inspect.signature(getattr(torch.nn.functional, name)).parameters
        except (TypeError, ValueError):  # builtins without a Python signature
            continue
        if any(q.kind is inspect.Parameter.VAR_POSITIONAL for q in theirs.values()):
            continue
        # the tensor argument may be named x (ops.pad) where PyTorch says input; the rest must agree
        assert list(ours)[1:len(theirs)] == list(theirs)[1:len(ours)], name
        for key in set(ours) & set(theirs):
            if theirs[key].default is not inspect.Parameter.empty and key not in ("value",):
                assert ours[key].default == theirs[key].default, (name, key)
    for ours, theirs in ((nn.AvgPool2d, torch.nn.AvgPool2d), (nn.MaxPool2d, torch.nn.MaxPool2d),
                         (nn.InstanceNorm2d, torch.nn.InstanceNorm2d), (nn.AdaptiveAvgPool2d, torch.nn.AdaptiveAvgPool2d),
                         (nn.ReflectionPad2d, torch.nn.ReflectionPad2d), (nn.ZeroPad2d, torch.nn.ZeroPad2d),
                         (nn.PixelShuffle, torch.nn.PixelShuffle)):
        a = inspect.signature(ours.__init__).parameters
        b = inspect.signature(theirs.__init__).parameters
        assert list(a) == list(b), ours.__name__
        assert [p.default for p in a.values()] == [p.default for p in b.values()], ours.__name__


# -- what is refused, and how ----------------------------------------------------------------------------------

def test_unsupported_options_raise():
    x = leaf(1, 2, 4, 4)
    with pytest.raises(NotImplementedError, match="ceil_mode"):
        nn.MaxPool2d(2, ceil_mode=True)
    with pytest.raises(NotImplementedError, match="ceil_mode"):
        F.avg_pool2d(x, 2, ceil_mode=True)
    with pytest.raises(NotImplementedError, match="return_indices"):
        F.max_pool2d(x, 2, return_indices=True)


def test_bad_input_is_named():
    x = leaf(1, 2, 4, 4)
    with pytest.raises(ValueError, match=r"pad: mode='reflect' needs padding < the size"):
        nn.ReflectionPad2d((4, 0, 0, 0))(x)
    with pytest.raises(ValueError, match="mode must be"):
        F.pad(x, (1, 1), mode="mirror")
    with pytest.raises(ValueError, match="padding .* at most half"):
        nn.MaxPool2d(2, padding=2)(x)
    with pytest.raises(ValueError, match="too small"):
        nn.AvgPool2d(5)(x)
    with pytest.raises(ValueError, match="4-D input"):
        nn.MaxPool2d(2)(leaf(4, 4))
    with pytest.raises(ValueError, match="x.unsqueeze"):
        nn.PixelShuffle(2)(leaf(4, 4, 4))
    with pytest.raises(ValueError, match="divisible by upscale_factor"):
        nn.PixelShuffle(2)(leaf(1, 3, 2, 2))
    with pytest.raises(ValueError, match=r"InstanceNorm2d\(3\)"):
        nn.InstanceNorm2d(3, affine=True)(x)
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        nn.InstanceNorm2d(2)(leaf(1, 2, 1, 1))
    with pytest.warns(UserWarning, match=r"InstanceNorm2d\(3\)"):
        nn.InstanceNorm2d(3)(x)


def test_max_pool_ties_share_the_gradient():
    """A documented deviation: PyTorch gives a tied window's gradient to one entry, minigan splits it equally."""
    x = mg.tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    nn.MaxPool2d(2)(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((1, 1, 2, 2), 0.25))
