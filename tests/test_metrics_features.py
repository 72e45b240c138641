"""The bundled digits classifier: it loads, it is accurate, and its retraining is deterministic."""

import numpy as np
import pytest

from minigan.data import digits
from minigan.metrics import DigitsClassifier, load_digits_classifier
from minigan.metrics.features import FEATURE_DIM, WEIGHTS_PATH, load_weights, save_weights, weights_info
from minigan.metrics.train_classifier import accuracy, random_shifts, train_digits_classifier


def test_shipped_weights_are_small():
    assert WEIGHTS_PATH.stat().st_size < 300_000


def test_bundled_classifier_reaches_97_percent_on_the_test_split():
    measured = accuracy(load_digits_classifier(), digits("test"))
    assert measured >= 0.97
    assert measured == pytest.approx(weights_info()["test_accuracy"])  # what the file says of itself


def test_features_and_probabilities_have_the_documented_shapes():
    net = load_digits_classifier()
    images = digits("test").images[:50]
    features, probabilities = net.features(images), net.probabilities(images)
    assert features.shape == (50, FEATURE_DIM) and probabilities.shape == (50, 10)
    np.testing.assert_allclose(probabilities.sum(1), 1, rtol=1e-6)
    assert (features >= 0).all()  # ReLU activations


def test_features_are_of_order_one_on_real_digits():
    features = load_digits_classifier().features(digits("train").images)
    assert np.mean(features ** 2) == pytest.approx(1, rel=1e-4)


def test_wrong_image_shape_is_rejected_with_the_shapes():
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\).*\(4, 1, 28, 28\)"):
        load_digits_classifier().features(np.zeros((4, 1, 28, 28), np.float32))


def test_random_shifts_move_by_at_most_one_pixel(rng):
    image = -np.ones((1, 1, 8, 8), np.float32)
    image[0, 0, 4, 4] = 1
    shifted = random_shifts(np.repeat(image, 200, 0), rng)
    rows, cols = np.nonzero(shifted[:, 0] == 1)[1:]
    assert set(rows) == {3, 4, 5} and set(cols) == {3, 4, 5}
    assert (shifted.sum(axis=(1, 2, 3)) == image.sum()).all()  # nothing else changed


def test_training_is_deterministic_and_saves_round_trip(tmp_path):
    a, b = train_digits_classifier(epochs=1, seed=5), train_digits_classifier(epochs=1, seed=5)
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=name)
    path = save_weights(a, tmp_path / "c.safetensors", {"epochs": 1})
    c = load_weights(DigitsClassifier(), path)
    assert weights_info(path) == {"epochs": 1}
    images = digits("test").images[:20]
    np.testing.assert_array_equal(a.features(images), c.features(images))


@pytest.mark.slow
def test_retraining_reproduces_an_accurate_classifier():
    assert accuracy(train_digits_classifier(), digits("test")) >= 0.97


def test_a_file_of_other_weights_is_refused(tmp_path):
    from minigan.serialization import save

    save({"format": "minigan-checkpoint"}, tmp_path / "other.safetensors")
    with pytest.raises(ValueError, match="minigan-digits-classifier"):
        load_weights(DigitsClassifier(), tmp_path / "other.safetensors")
