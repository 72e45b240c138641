"""PSNR: hand-computed values, per-image averaging, identical images, the 20 log10 2 law, and refused inputs."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from minigan.metrics import psnr


def test_hand_computed_values():
    target = np.zeros((1, 1, 2, 2))
    output = np.array([[[[0.2, -0.2], [0.2, -0.2]]]])  # MSE 0.04, range 2: 10 log10(4 / 0.04) = 20 dB
    result = psnr(target, output)
    assert result["mse"] == pytest.approx(0.04) and result["psnr"] == pytest.approx(20.0) and result["n"] == 1
    assert psnr(target, output, data_range=1.0)["psnr"] == pytest.approx(10 * math.log10(1 / 0.04))


def test_the_psnr_is_averaged_per_image_not_computed_from_the_pooled_mse():
    target = np.zeros((2, 3, 4, 4))
    output = np.stack([np.full((3, 4, 4), 0.02), np.full((3, 4, 4), 0.2)])  # MSEs 4e-4 and 4e-2: 40 and 20 dB
    result = psnr(target, output)
    assert result["per_image"] == pytest.approx([40.0, 20.0]) and result["psnr"] == pytest.approx(30.0)
    assert result["mse"] == pytest.approx((4e-4 + 4e-2) / 2)
    assert result["psnr"] > 10 * math.log10(4 / result["mse"])  # the pooled PSNR, about 23 dB, is lower


images = arrays(np.float64, (3, 2, 4, 4), elements=st.floats(-1, 1, allow_nan=False))
eight_bit = arrays(np.float64, (3, 2, 4, 4), elements=st.integers(0, 255).map(lambda v: v / 127.5 - 1))


@settings(max_examples=40, deadline=None)
@given(images)
def test_identical_images_give_an_infinite_psnr(x):
    result = psnr(x, x.copy())
    assert result["psnr"] == math.inf and result["mse"] == 0.0 and all(p == math.inf for p in result["per_image"])


@settings(max_examples=40, deadline=None)
@given(images, arrays(np.float64, (3, 2, 4, 4), elements=st.floats(-0.5, 0.5, allow_nan=False)))
def test_doubling_the_error_lowers_the_psnr_by_20_log10_2(x, error):
    error[:, 0, 0, 0] = np.where(np.abs(error[:, 0, 0, 0]) < 1e-3, 0.25, error[:, 0, 0, 0])  # each image has an error
    once, twice = psnr(x, x + error), psnr(x, x + 2 * error)
    assert once["psnr"] - twice["psnr"] == pytest.approx(20 * math.log10(2), abs=1e-6)
    assert twice["mse"] == pytest.approx(4 * once["mse"], rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(eight_bit, eight_bit)  # 8-bit values: no error so small that its square underflows to 0
def test_psnr_is_symmetric_and_finite_for_different_images(x, y):
    if np.any((x == y).reshape(3, -1).all(axis=1)):
        return
    a, b = psnr(x, y), psnr(y, x)
    assert math.isfinite(a["psnr"]) and a["psnr"] == pytest.approx(b["psnr"])
    assert a["psnr"] >= 10 * math.log10(4 / 4) - 1e-9  # errors are at most the range, so the MSE is at most 4


@pytest.mark.parametrize("target,output,kwargs,message", [
    (np.zeros((2, 3)), np.zeros((2, 4)), {}, r"target \(2, 3\) and output \(2, 4\) differ"),
    (np.zeros((0, 3)), np.zeros((0, 3)), {}, "at least one non-empty image"),
    (np.zeros(()), np.zeros(()), {}, "at least one non-empty image"),
    (np.zeros((1, 2)), np.array([[0.0, np.nan]]), {}, "must be finite"),
    (np.array([[np.inf, 0.0]]), np.zeros((1, 2)), {}, "must be finite"),
    (np.zeros((1, 2)), np.ones((1, 2)), {"data_range": 0}, "data_range must be a positive number"),
])
def test_bad_inputs_are_refused_with_a_clear_message(target, output, kwargs, message):
    with pytest.raises(ValueError, match=message):
        psnr(target, output, **kwargs)
