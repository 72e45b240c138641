"""The bundled photographs: crop shapes and range, a column split with no test pixel in training, errors, a
short colour DCGAN run on them, and the paired colourisation and super-resolution tasks with their baselines."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigan import data
from minigan.data.photos import (LUMA_WEIGHTS, _photographs, bilinear_halve, luminance, photo_boundary,
                                 photo_corners, photo_pairs, plain_baseline)
from minigan.metrics import psnr
from minigan.registry import ConfigError
from minigan.runner import run_training
from minigan.train import config as cfg
from minigan.train.setup import build_data


@pytest.mark.parametrize("split,count", [("train", 2 * 25 * 29), ("test", 2 * 25 * 9)])
def test_crops_are_rgb_in_unit_range_labelled_by_photograph(split, count):
    ds = data.photos(split)
    assert ds.images.shape == (count, 3, 32, 32) and ds.images.dtype == np.float32
    assert ds.images.min() >= -1 and ds.images.max() <= 1 and ds.images.std() > 0.1
    assert ds.labels.dtype == np.int64 and np.bincount(ds.labels).tolist() == [count // 2, count // 2]
    assert ds.name == f"photos-{split}" and ds.shape == (3, 32, 32)


@pytest.mark.parametrize("size,stride,held_out", [(32, None, 0.25), (16, 5, 0.4), (8, 8, 0.1), (28, 3, 0.5)])
def test_each_crop_is_the_photograph_at_its_corner_and_train_and_test_columns_are_disjoint(size, stride, held_out):
    height, width = _photographs()[0].shape[:2]
    boundary = photo_boundary(width, held_out)
    train = photo_corners(height, width, "train", size, stride, held_out)
    test = photo_corners(height, width, "test", size, stride, held_out)
    step = stride or size // 2
    assert train[:, 1].min() == 0 and train[:, 1].max() + size <= boundary < train[:, 1].max() + size + step
    assert test[:, 1].min() == boundary and test[:, 1].max() + size <= width
    assert np.all(np.diff(np.unique(train[:, 0])) == step) and train[:, 0].max() + size <= height
    train_columns = {c for left in train[:, 1] for c in range(left, left + size)}
    test_columns = {c for left in test[:, 1] for c in range(left, left + size)}
    assert not train_columns & test_columns and max(train_columns) < boundary <= min(test_columns)
    for split, corners in (("train", train), ("test", test)):
        ds = data.photos(split, size, stride, held_out)
        assert len(ds) == 2 * len(corners)
        for label, photo in enumerate(_photographs()):
            for i in (0, len(corners) // 3, len(corners) - 1):
                top, left = corners[i]
                expected = photo[top:top + size, left:left + size].transpose(2, 0, 1) / 127.5 - 1
                np.testing.assert_allclose(ds.images[label * len(corners) + i], expected, atol=1e-6)
                assert ds.labels[label * len(corners) + i] == label


def test_no_test_crop_appears_among_the_training_crops():
    train, test = data.photos("train", 16, 4), data.photos("test", 16, 4)
    seen = {crop.tobytes() for crop in train.images}
    assert not any(crop.tobytes() in seen for crop in test.images)


def test_the_crops_are_the_same_on_every_call():
    a, b = data.photos("test", 16), data.photos("test", 16)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)
    a.images[:] = 0  # a caller's copy: the cached photographs are untouched
    np.testing.assert_array_equal(data.photos("test", 16).images, b.images)


@pytest.mark.parametrize("kwargs,message", [
    ({"split": "all"}, "split must be 'train' or 'test'"),
    ({"size": 0}, "size must be a positive integer"),
    ({"size": 8.0}, "size must be a positive integer"),
    ({"size": True}, "size must be a positive integer"),
    ({"stride": 0}, "stride must be a positive integer"),
    ({"held_out": 0}, "held_out must be a fraction strictly between 0 and 1"),
    ({"held_out": 1.0}, "held_out must be a fraction"),
    ({"held_out": "a quarter"}, "held_out must be a fraction"),
    ({"split": "test", "size": 200}, r"does not fit in the test region \(columns \[480, 640\)"),
    ({"split": "train", "size": 300, "held_out": 0.6}, "a smaller held_out"),
    ({"size": 500, "held_out": 0.1}, "taller than the 427 rows"),
])
def test_bad_arguments_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.photos(**kwargs)


TINY = ["data.name=photos", "model.name=dcgan", "model.g_width=2", "model.d_width=2", "model.latent_dim=4",
        "data.batch_size=8", "train.n_samples=4", "train.log_every=1", "train.sample_every=2",
        "train.checkpoint_every=2", "train.steps=2"]


def test_the_configuration_trains_on_the_photos_whatever_data_channels_says():
    config = cfg.apply_overrides(cfg.load_recipe("dcgan-digits"), [*TINY, "data.channels=1"])
    source = build_data(config)
    assert source.kind == "image" and source.shape == (3, 32, 32) and source.num_classes == 2
    np.testing.assert_array_equal(source.samples, data.photos("train").images)
    assert build_data(cfg.apply_overrides(config, ["data.image_size=16"])).shape == (3, 16, 16)
    with pytest.raises(ConfigError, match="data.image_size = 1000"):
        build_data(cfg.apply_overrides(config, ["data.image_size=1000"]))


def test_a_short_colour_dcgan_run_on_the_photos_writes_its_samples(tmp_path):
    config = cfg.apply_overrides(cfg.load_recipe("dcgan-digits"), TINY)
    paths = run_training(config, tmp_path, progress=False)
    from PIL import Image

    assert paths["samples"] == tmp_path / "samples.png"
    with Image.open(paths["samples"]) as picture:
        assert picture.mode == "RGB"
        pixels = np.asarray(picture)
    assert pixels.ndim == 3 and pixels.shape[2] == 3


# -- paired tasks: colourisation and 2x super-resolution on the same crops -----------------------------------------


def _bilinear_2x_reference(low):
    """Naive 2x bilinear upsampling with half-pixel centres and edge clamping (align_corners=False)."""
    n_in = low.shape[-1]
    src = np.maximum((np.arange(2 * n_in) + 0.5) / 2 - 0.5, 0.0)
    i0 = np.floor(src).astype(int)
    i1, w = np.minimum(i0 + 1, n_in - 1), src - i0
    rows = low[..., i0, :] * (1 - w)[:, None] + low[..., i1, :] * w[:, None]
    return rows[..., i0] * (1 - w) + rows[..., i1] * w


@pytest.mark.parametrize("task,channels", [("colour", 1), ("superres", 3)])
@pytest.mark.parametrize("split,size,stride", [("train", 32, None), ("test", 16, 8)])
def test_pairs_have_the_crops_of_photos_as_targets_and_inputs_in_unit_range(task, channels, split, size, stride):
    inputs, targets = photo_pairs(task, split, size, stride)
    np.testing.assert_array_equal(targets, data.photos(split, size, stride).images)
    assert inputs.shape == (len(targets), channels, size, size) and inputs.dtype == np.float32
    assert inputs.min() >= -1 and inputs.max() <= 1 and np.isfinite(inputs).all()
    baseline = plain_baseline(task, inputs)
    assert baseline.shape == targets.shape and baseline.dtype == np.float32


def test_the_colour_input_is_the_bt601_luminance_of_the_crop():
    inputs, targets = photo_pairs("colour", "test", 16, 8)
    r, g, b = (targets[:, k].astype(np.float64) for k in range(3))
    np.testing.assert_allclose(inputs[:, 0], 0.299 * r + 0.587 * g + 0.114 * b, atol=1e-6)
    assert LUMA_WEIGHTS == (0.299, 0.587, 0.114)
    photo = _photographs()[1]  # on 8-bit values, then scaled: the same
    luma_255 = photo[:16, 480:496].astype(np.float64) @ np.array(LUMA_WEIGHTS)
    flower = len(inputs) // 2
    np.testing.assert_allclose(inputs[flower, 0], luma_255 / 127.5 - 1, atol=1e-5)


def triangle_halving_matrix(n: int) -> np.ndarray:
    """(n / 2, n): row i holds the weights max(0, 1 - |d| / 2) of the input pixels at distance d from output pixel
    i's centre, in input pixels (input pixel j is centred at j + 1/2, output pixel i at 2i + 1), normalised."""
    d = (np.arange(n) + 0.5)[None, :] - (2 * np.arange(n // 2) + 1.0)[:, None]
    w = np.maximum(0, 1 - np.abs(d) / 2)
    return w / w.sum(axis=1, keepdims=True)


@given(h=st.integers(1, 6), w=st.integers(1, 6), seed=st.integers(0, 2 ** 16))
@settings(max_examples=25, deadline=None)
def test_bilinear_halving_is_the_triangle_filter_stretched_to_the_output_spacing(h, w, seed):
    x = np.random.default_rng(seed).normal(size=(2, 3, 2 * h, 2 * w))
    expected = np.einsum("ih,nchw,jw->ncij", triangle_halving_matrix(2 * h), x, triangle_halving_matrix(2 * w))
    np.testing.assert_allclose(bilinear_halve(x), expected, rtol=1e-12, atol=1e-12)


def test_bilinear_halving_matches_pytorchs_antialiased_bilinear_resize():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).normal(size=(2, 3, 8, 12))
    theirs = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=0.5, mode="bilinear", antialias=True,
                                             align_corners=False).numpy()
    np.testing.assert_allclose(bilinear_halve(x), theirs, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="even H and W"):
        bilinear_halve(x[:, :, :7])


def test_the_superres_input_is_the_bilinear_upsampling_of_the_bilinear_halving():
    inputs, targets = photo_pairs("superres", "test", 16, 8)
    low = bilinear_halve(targets)
    np.testing.assert_allclose(inputs, _bilinear_2x_reference(low), atol=1e-5)
    # the mean colour is kept
    np.testing.assert_allclose(inputs.mean(axis=(2, 3)), targets.mean(axis=(2, 3)), atol=0.05)


def test_the_baseline_of_a_perfect_input_is_the_target():
    rng = np.random.default_rng(0)
    grey = np.repeat(rng.uniform(-1, 1, (4, 1, 8, 8)).astype(np.float32), 3, axis=1)  # R = G = B
    np.testing.assert_allclose(plain_baseline("colour", luminance(grey)), grey, atol=1e-6)
    flat = np.broadcast_to(rng.uniform(-1, 1, (4, 3, 1, 1)), (4, 3, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(_bilinear_2x_reference(flat[:, :, ::2, ::2]), flat, atol=1e-6)
    np.testing.assert_array_equal(plain_baseline("superres", flat), flat)
    assert psnr(grey, plain_baseline("colour", luminance(grey)))["psnr"] > 100


def test_the_baselines_psnr_on_the_test_split_is_finite_and_superres_is_easier_than_colour():
    scores = {}
    for task in ("colour", "superres"):
        inputs, targets = photo_pairs(task, "test")
        result = psnr(targets, plain_baseline(task, inputs))
        assert math.isfinite(result["psnr"]) and 0 < result["mse"] < 4
        scores[task] = result["psnr"]
    assert scores["superres"] > scores["colour"] + 5  # measured: about 42.0 dB against 26.3 dB at 32x32


@pytest.mark.parametrize("call,message", [
    (lambda: photo_pairs("deblur"), "task must be one of 'colour', 'superres'"),
    (lambda: photo_pairs("superres", size=15), "size must be even"),
    (lambda: photo_pairs("colour", split="all"), "split must be 'train' or 'test'"),
    (lambda: plain_baseline("colour", np.zeros((2, 3, 8, 8))), r"must be \(N, 1, H, W\)"),
    (lambda: plain_baseline("superres", np.zeros((2, 1, 8, 8))), r"must be \(N, 3, H, W\)"),
    (lambda: luminance(np.zeros((2, 1, 8, 8))), r"expected RGB images \(N, 3, H, W\)"),
])
def test_bad_paired_arguments_are_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()
