"""PSNR: hand-computed values, per-image averaging, identical images, the 20 log10 2 law, and refused inputs.
Sharpness: known answers (flat, ramp, checkerboard, a blurred edge), its invariances, and refused inputs."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from minigan.metrics import psnr, sharpness


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


# -- sharpness ------------------------------------------------------------------------------------------------

def test_sharpness_known_answers():
    flat = np.full((2, 3, 5, 4), 0.7)
    assert sharpness(flat)["sharpness"] == 0.0 and sharpness(flat)["n"] == 2
    ramp = np.broadcast_to(0.1 * np.arange(6.0), (1, 2, 4, 6))  # rises 0.1 per column: |a| = 0.1
    assert sharpness(ramp)["sharpness"] == pytest.approx(0.1)
    checkerboard = np.where(np.add.outer(np.arange(4), np.arange(4)) % 2, 1.0, -1.0)[None, None]
    assert sharpness(checkerboard)["sharpness"] == pytest.approx(math.sqrt(8))  # jumps of 2 both ways


def test_a_blurred_edge_is_less_sharp_though_its_total_variation_is_the_same():
    sharp = np.where(np.arange(8) < 4, -1.0, 1.0)
    blurred = np.array([-1, -1, -1, -0.5, 0.5, 1, 1, 1.0])  # the same rise of 2, over three steps
    images = [np.broadcast_to(row, (1, 1, 8, 8)) for row in (sharp, blurred)]
    assert np.abs(np.diff(sharp)).sum() == np.abs(np.diff(blurred)).sum() == 2
    s_sharp, s_blurred = (sharpness(x)["sharpness"] for x in images)
    assert s_sharp == pytest.approx(math.sqrt(4 / 7)) and s_blurred == pytest.approx(math.sqrt(1.5 / 7))


@settings(max_examples=40, deadline=None)
@given(images, st.floats(-3, 3), st.floats(-1, 1))
def test_sharpness_scales_with_the_contrast_and_ignores_a_shift(x, k, c):
    base = sharpness(x)
    scaled = sharpness(k * x + c)
    assert scaled["sharpness"] == pytest.approx(abs(k) * base["sharpness"], rel=1e-9, abs=1e-12)
    assert scaled["per_image"] == pytest.approx([abs(k) * v for v in base["per_image"]], rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(images)
def test_sharpness_is_the_mean_of_per_image_values_each_the_rms_gradient(x):
    result = sharpness(x)
    for image, value in zip(x, result["per_image"]):
        gx, gy = image[:, :-1, 1:] - image[:, :-1, :-1], image[:, 1:, :-1] - image[:, :-1, :-1]
        assert value == pytest.approx(math.sqrt(np.mean(gx ** 2 + gy ** 2)), rel=1e-12, abs=1e-15)
    assert result["sharpness"] == pytest.approx(np.mean(result["per_image"]))


def test_bilinear_super_resolution_inputs_are_blurrier_than_their_targets():
    from minigan.data import photo_pairs

    inputs, targets = photo_pairs("superres", "test")
    assert sharpness(inputs)["sharpness"] < 0.5 * sharpness(targets)["sharpness"]


@pytest.mark.parametrize("images, message", [
    (np.zeros((2, 3, 4)), r"\(N, C, H, W\) with N, C >= 1 and H, W >= 2, got shape \(2, 3, 4\)"),
    (np.zeros((0, 3, 4, 4)), "got shape"), (np.zeros((1, 3, 1, 4)), "got shape"),
    (np.full((1, 1, 2, 2), np.nan), "must be finite"),
])
def test_sharpness_refuses_bad_inputs(images, message):
    with pytest.raises(ValueError, match=message):
        sharpness(images)
