"""The bundled photo feature network: its shipped weights fit it and say how they were trained, it loads frozen,
its feature maps have the documented shapes and scale, its gradient reaches the images, and its retraining is
deterministic."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan.data import photos
from minigan.metrics import PhotoFeatures, load_photo_features
from minigan.metrics.features import load_weights, save_weights, weights_info
from minigan.metrics.photo_features import FEATURE_CHANNELS, PHOTO_WEIGHTS_FORMAT, PHOTO_WEIGHTS_PATH, TURNS
from minigan.metrics.train_photo_features import pretext_accuracy, quarter_turns, train_photo_features
from minigan.serialization import load
from minigan.testing import gradcheck


def test_shipped_weights_are_small_and_fit_the_network_exactly():
    assert PHOTO_WEIGHTS_PATH.stat().st_size < 400_000
    state = load(PHOTO_WEIGHTS_PATH)
    assert state["format"] == PHOTO_WEIGHTS_FORMAT
    expected = PhotoFeatures().state_dict()
    assert list(state["state_dict"]) == list(expected)
    for name, value in state["state_dict"].items():
        assert tuple(np.shape(value.numpy() if hasattr(value, "numpy") else value)) == expected[name].shape, name
    load_weights(PhotoFeatures(), PHOTO_WEIGHTS_PATH, PHOTO_WEIGHTS_FORMAT)  # strict: every key, every shape


def test_shipped_network_does_what_its_file_says_on_the_held_out_crops():
    info = weights_info(PHOTO_WEIGHTS_PATH)
    measured = pretext_accuracy(load_photo_features(), photos("test", 32))
    assert measured["turn"] == pytest.approx(info["test_turn_accuracy"])
    assert measured["photo"] == pytest.approx(info["test_photo_accuracy"])
    assert measured["turn"] > 0.3 and measured["photo"] > 0.9  # chance: 0.25 and 0.5


def test_loaded_network_is_frozen_in_eval_mode_and_each_call_gives_its_own_copy():
    a, b = load_photo_features(), load_photo_features()
    assert a is not b and not a.training
    assert all(not p.requires_grad for p in a.parameters())
    a.double()
    assert b.feature_scales.dtype == np.float32 and load_photo_features().feature_scales.dtype == np.float32


def test_feature_maps_have_the_documented_shapes_and_are_of_order_one_on_the_train_crops():
    net = load_photo_features()
    train = photos("train", 32).images
    maps = net.features(train)
    n = len(train)
    assert [m.shape for m in maps] == [(n, FEATURE_CHANNELS[0], 16, 16), (n, FEATURE_CHANNELS[1], 8, 8)]
    assert [np.mean(m ** 2) for m in maps] == pytest.approx([1.0, 1.0], rel=1e-4)
    assert all((m >= 0).all() for m in maps)  # taken after the ReLU
    assert net(mg.tensor(train[:5])).shape == (5, 6)
    assert [m.shape for m in net.features(np.zeros((2, 3, 8, 12), np.float32))] == [(2, 32, 4, 6), (2, 64, 2, 3)]


@settings(max_examples=4)
@given(side=st.sampled_from([4, 8]), seed=st.integers(0, 2 ** 16))
def test_the_gradient_of_a_loss_on_the_maps_reaches_the_images_and_not_the_network(side, seed):
    net = load_photo_features().double()
    x = mg.tensor(np.random.default_rng(seed).uniform(-1, 1, (2, 3, side, side)), requires_grad=True)
    w1, w2 = (mg.tensor(np.random.default_rng(seed + i).standard_normal(m.shape))
              for i, m in enumerate(net.feature_maps(x)))

    def loss(images):  # a random linear function of both maps: every value's gradient counts
        phi1, phi2 = net.feature_maps(images)
        return (phi1 * w1).sum() + (phi2 * w2).sum()

    gradcheck(loss, [x])
    net.feature_maps(x)[1].sum().backward()
    assert x.grad is not None and all(p.grad is None for p in net.parameters())


def test_quarter_turns_turn_each_image_by_its_own_count():
    image = np.arange(16.0).reshape(1, 1, 4, 4)
    images = np.repeat(image, TURNS + 1, axis=0)
    turned = quarter_turns(images, np.array([0, 1, 2, 3, 4]))
    for k in range(TURNS + 1):
        np.testing.assert_array_equal(turned[k, 0], np.rot90(image[0, 0], k))
    np.testing.assert_array_equal(turned[4], turned[0])  # four quarter-turns are none


def test_training_is_deterministic_and_saves_round_trip(tmp_path):
    a, b = train_photo_features(epochs=1, seed=5), train_photo_features(epochs=1, seed=5)
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=name)
    path = save_weights(a, tmp_path / "p.safetensors", {"epochs": 1}, format=PHOTO_WEIGHTS_FORMAT)
    c = load_photo_features(path)
    assert weights_info(path) == {"epochs": 1}
    images = photos("test", 32).images[:20]
    for x, y in zip(a.features(images), c.features(images)):
        np.testing.assert_array_equal(x, y)


@pytest.mark.slow
def test_retraining_reproduces_the_shipped_network():
    """Same seed, same epochs: the same accuracies as the shipped file states (bit-identical weights on the machine
    and kernels that wrote it; other BLAS libraries may round differently)."""
    info = weights_info(PHOTO_WEIGHTS_PATH)
    model = train_photo_features(info["epochs"], info["seed"])
    measured = pretext_accuracy(model, photos("test", 32))
    assert measured["turn"] == pytest.approx(info["test_turn_accuracy"], abs=0.03)
    assert measured["photo"] == pytest.approx(info["test_photo_accuracy"], abs=0.03)


def test_other_weights_and_missing_files_are_refused(tmp_path):
    from minigan.metrics.features import WEIGHTS_PATH

    with pytest.raises(ValueError, match="minigan-photo-features"):
        load_photo_features(WEIGHTS_PATH)  # the digits classifier's file
    with pytest.raises(FileNotFoundError, match="python -m minigan.metrics.train_photo_features"):
        load_photo_features(tmp_path / "none.safetensors")
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\) with H and W multiples of 4, got shape \(2, 3, 6, 8\)"):
        load_photo_features().features(np.zeros((2, 3, 6, 8), np.float32))
