"""F.interpolate and the Upsample layers: values and gradients against PyTorch, finite differences, errors."""

import inspect
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
import minigan.nn.functional as F
from minigan import nn
from minigan.testing import gradcheck, gradgradcheck
from minigan.testing import strategies as mst

TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}
# an input gradient sums up to ~100 upstream terms of size ~1, in PyTorch's order or ours: float32 cancellation
GRAD_TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-4}, np.float64: TOL[np.float64]}


# -- strategies -------------------------------------------------------------------------------------------------

def _factor(n):
    """A scale factor giving at least one output pixel from ``n``: round ones (integers too) or any float."""
    nice = st.sampled_from([f for f in (0.5, 1, 1.5, 2, 2.5, 3) if n * f >= 1])
    return nice | st.floats(1 / n + 1e-6, 3.5, allow_nan=False, allow_infinity=False)


@st.composite
def resize_cases(draw, max_side=5, max_out=12):
    """(input shape, interpolate keyword arguments): every mode, size or scale factor (one or per axis)."""
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w)
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "bilinear"]))
    kwargs = {"mode": mode}
    if mode == "bilinear":
        kwargs["align_corners"] = draw(st.sampled_from([None, False, True]))
    how = draw(st.sampled_from(["size", "size-int", "factor", "factors"]))
    if how == "size":
        kwargs["size"] = (draw(st.integers(1, max_out)), draw(st.integers(1, max_out)))
    elif how == "size-int":
        kwargs["size"] = draw(st.integers(1, max_out))
    else:
        if how == "factor":
            kwargs["scale_factor"] = draw(_factor(min(h, w)))
        else:
            kwargs["scale_factor"] = (draw(_factor(h)), draw(_factor(w)))
        kwargs["recompute_scale_factor"] = draw(st.sampled_from([None, False, True]))
    return shape, kwargs


def _torch_resize(torch, x, kwargs):
    tx = torch.tensor(x, requires_grad=True)
    return tx, torch.nn.functional.interpolate(tx, **kwargs)


# -- against PyTorch --------------------------------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(case=resize_cases(max_side=9, max_out=20), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_interpolate_matches_torch(case, dtype, seed):
    """Same output size, values and input gradient (for a random upstream gradient) as PyTorch."""
    torch = pytest.importorskip("torch")
    shape, kwargs = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    tx, ty = _torch_resize(torch, x, kwargs)
    mx = mg.tensor(x, requires_grad=True)
    my = F.interpolate(mx, **kwargs)
    assert my.shape == tuple(ty.shape) and my.dtype == x.dtype
    np.testing.assert_allclose(my.numpy(), ty.detach().numpy(), **TOL[dtype])
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    ty.backward(torch.tensor(g))
    my.backward(mg.tensor(g))
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), **GRAD_TOL[dtype])


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear"])
@pytest.mark.parametrize("n", [3, 5, 7])
def test_scale_factor_sets_the_source_index_as_torch(mode, n):
    """A factor whose output size rounds (7 * 1.3 -> 9) reads with ratio 1/1.3, not 7/9; recomputing reads 7/9.

    The factors also hit PyTorch's special cases: an unchanged size (1.1) copies, a doubled one (2.1) halves.
    """
    torch = pytest.importorskip("torch")
    x = np.arange(n * n, dtype=np.float64).reshape(1, 1, n, n)
    for factor in (1.1, 1.3, 2.1, 0.7, 2.9999, 1 / 3):
        for recompute in (None, True):
            kwargs = {"scale_factor": factor, "mode": mode, "recompute_scale_factor": recompute}
            _, ty = _torch_resize(torch, x, kwargs)
            np.testing.assert_allclose(F.interpolate(mg.tensor(x), **kwargs).numpy(), ty.detach().numpy(),
                                       err_msg=str(kwargs), **TOL[np.float64])


@settings(max_examples=40, deadline=None)
@given(case=resize_cases(max_side=6, max_out=14), seed=st.integers(0, 2**16))
def test_upsample_modules_match_torch(case, seed):
    torch = pytest.importorskip("torch")
    shape, kwargs = case
    x = np.random.default_rng(seed).standard_normal(shape)
    for ours, theirs in [(nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs))] + (
            [] if kwargs.get("recompute_scale_factor") or kwargs.get("align_corners") is not None else
            [(nn.UpsamplingNearest2d(kwargs.get("size"), kwargs.get("scale_factor")),
              torch.nn.UpsamplingNearest2d(kwargs.get("size"), kwargs.get("scale_factor"))),
             (nn.UpsamplingBilinear2d(kwargs.get("size"), kwargs.get("scale_factor")),
              torch.nn.UpsamplingBilinear2d(kwargs.get("size"), kwargs.get("scale_factor")))]):
        assert repr(ours) == repr(theirs)
        tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
        ty, my = theirs(tx), ours(mx)
        np.testing.assert_allclose(my.numpy(), ty.detach().numpy(), **TOL[np.float64])
        g = np.random.default_rng(seed + 1).standard_normal(tuple(ty.shape))
        ty.backward(torch.tensor(g))
        my.backward(mg.tensor(g))
        np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), **TOL[np.float64])


def test_signatures_match_torch():
    torch = pytest.importorskip("torch")
    pairs = [(F.interpolate, torch.nn.functional.interpolate), (nn.Upsample.__init__, torch.nn.Upsample.__init__),
             (nn.UpsamplingNearest2d.__init__, torch.nn.UpsamplingNearest2d.__init__),
             (nn.UpsamplingBilinear2d.__init__, torch.nn.UpsamplingBilinear2d.__init__)]
    for ours, theirs in pairs:
        a, b = inspect.signature(ours).parameters, inspect.signature(theirs).parameters
        assert list(a) == list(b), ours.__qualname__
        assert [p.default for p in a.values()] == [p.default for p in b.values()], ours.__qualname__


# -- gradients by finite differences ----------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(data=st.data(), case=resize_cases(max_side=4, max_out=7))
def test_interpolate_gradcheck(data, case):
    shape, kwargs = case
    x = data.draw(mst.tensors(shape))
    gradcheck(lambda t: F.interpolate(t, **kwargs), [x])


@settings(max_examples=15, deadline=None)
@given(data=st.data(), case=resize_cases(max_side=4, max_out=6))
def test_bilinear_gradgradcheck(data, case):
    shape, kwargs = case
    kwargs = {k: v for k, v in kwargs.items() if k != "mode"}
    kwargs.setdefault("align_corners", data.draw(st.booleans()))
    x = data.draw(mst.tensors(shape))
    gradgradcheck(lambda t: F.interpolate(t, mode="bilinear", **kwargs), [x])


# -- known answers, no PyTorch needed ---------------------------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(x=mst.arrays((2, 3, 3, 4)), kh=st.integers(1, 3), kw=st.integers(1, 3),
       mode=st.sampled_from(["nearest", "nearest-exact"]), by_size=st.booleans())
def test_integer_nearest_upscale_repeats_each_pixel(x, kh, kw, mode, by_size):
    """An integer factor copies each pixel into a kh x kw block; the gradient sums each block."""
    kwargs = {"size": (3 * kh, 4 * kw)} if by_size else {"scale_factor": (kh, kw)}
    t = mg.tensor(x, requires_grad=True)
    y = F.interpolate(t, mode=mode, **kwargs)
    np.testing.assert_array_equal(y.numpy(), np.repeat(np.repeat(x, kh, axis=2), kw, axis=3))
    g = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(mg.tensor(g))
    np.testing.assert_allclose(t.grad.numpy(), g.reshape(2, 3, 3, kh, 4, kw).sum(axis=(3, 5)))


@settings(max_examples=20, deadline=None)
@given(h=st.integers(2, 5), w=st.integers(2, 5), oh=st.integers(2, 9), ow=st.integers(2, 9),
       a=st.floats(-2, 2), b=st.floats(-2, 2))
def test_bilinear_align_corners_keeps_corners_and_planes(h, w, oh, ow, a, b):
    """With aligned corners a plane a*i/(h-1) + b*j/(w-1) resizes to the same plane on the new grid."""
    plane = lambda n, m: a * np.linspace(0, 1, n)[:, None] + b * np.linspace(0, 1, m)  # noqa: E731
    y = F.interpolate(mg.tensor(plane(h, w)[None, None]), size=(oh, ow), mode="bilinear", align_corners=True)
    np.testing.assert_allclose(y.numpy()[0, 0], plane(oh, ow), atol=1e-12)


def test_bilinear_clamps_the_source_at_the_edge():
    """align_corners=False: the first output's source coordinate -1/4 is clamped to 0, so it copies x[0]."""
    y = F.interpolate(mg.tensor(np.array([[[[1.0, 3.0]]]])), size=(1, 4), mode="bilinear")
    np.testing.assert_allclose(y.numpy()[0, 0, 0], [1.0, 1.5, 2.5, 3.0])


def test_float32_stays_float32():
    for mode in ("nearest", "nearest-exact", "bilinear"):
        assert F.interpolate(mg.randn(1, 2, 3, 3), scale_factor=1.7, mode=mode).dtype == np.float32


# -- what is refused, and how ----------------------------------------------------------------------------------

BAD = [
    ({"scale_factor": 2, "mode": "bicubic"},
     "interpolate: mode must be one of 'nearest', 'nearest-exact', 'bilinear', got 'bicubic'"),
    ({"size": 4, "scale_factor": 2}, "interpolate: expected exactly one of size and scale_factor, got both"),
    ({}, "interpolate: expected exactly one of size and scale_factor, got neither"),
    ({"scale_factor": 2, "align_corners": False},
     "interpolate: align_corners applies only to mode='bilinear'; expected align_corners=None with mode='nearest', "
     "got align_corners=False"),
    ({"scale_factor": 2, "mode": "nearest-exact", "align_corners": True}, "align_corners applies only"),
    ({"scale_factor": 0.5, "mode": "bilinear", "antialias": True},
     "interpolate: antialias=True is not supported (no anti-aliasing filter is implemented); "
     "expected antialias=False"),
    ({"size": 4, "recompute_scale_factor": True}, "interpolate: recompute_scale_factor=True needs scale_factor"),
    ({"size": (4, 4, 4)}, "interpolate: size must be a positive int or a pair (H_out, W_out) of them, got (4, 4, 4)"),
    ({"size": (4, 0)}, "interpolate: size must be a positive int"),
    ({"size": 2.5}, "interpolate: size must be a positive int"),
    ({"scale_factor": (2,)}, "interpolate: scale_factor must be a positive number or a pair (s_h, s_w)"),
    ({"scale_factor": -1.0}, "interpolate: scale_factor must be a positive number"),
    ({"scale_factor": float("nan")}, "interpolate: scale_factor must be a positive number"),
    ({"scale_factor": 0.1}, "interpolate: scale_factor 0.1 takes an input of size (4, 5) to (0, 0); "
                            "expected at least 1 pixel on each side"),
]


@pytest.mark.parametrize("kwargs, message", BAD)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        F.interpolate(mg.randn(1, 2, 4, 5), **kwargs)


def test_torch_refuses_the_same_arguments():
    """Where PyTorch has the option at all (it has bicubic and antialias), it refuses these calls too."""
    torch = pytest.importorskip("torch")
    x = torch.zeros(1, 2, 4, 5)
    for kwargs, _ in BAD:
        if kwargs.get("mode") == "bicubic" or kwargs.get("antialias") or kwargs.get("size") == 2.5:
            continue
        with pytest.raises((ValueError, RuntimeError, TypeError)):
            torch.nn.functional.interpolate(x, **kwargs)


def test_input_must_be_an_image_batch():
    with pytest.raises(ValueError, match=re.escape("interpolate: expected a 4-D input (N, C, H, W), got a 3-D input "
                                                   "of shape (2, 4, 4); for a single image add the batch dimension")):
        F.interpolate(mg.randn(2, 4, 4), scale_factor=2)
    with pytest.raises(ValueError, match=r"interpolate: expected a 4-D input .* got a 5-D input"):
        nn.Upsample(scale_factor=2)(mg.randn(1, 1, 2, 2, 2))


def test_layers_check_their_options_when_built():
    with pytest.raises(ValueError, match="Upsample: mode must be one of"):
        nn.Upsample(scale_factor=2, mode="trilinear")
    with pytest.raises(ValueError, match="Upsample: expected exactly one of size and scale_factor, got neither"):
        nn.Upsample()
    with pytest.raises(ValueError, match="UpsamplingNearest2d: expected exactly one of size and scale_factor"):
        nn.UpsamplingNearest2d(size=4, scale_factor=2)
    with pytest.raises(ValueError, match="Upsample: align_corners applies only to mode='bilinear'"):
        nn.Upsample(scale_factor=2, align_corners=True)
