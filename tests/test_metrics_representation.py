"""The encoder metrics: nearest-neighbour accuracy, reconstruction error and latent recovery, on cases whose
answer is known."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigan.metrics import latent_recovery, nearest_neighbour_accuracy, reconstruction_error


@given(classes=st.integers(2, 6), per_class=st.integers(2, 8), dim=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_nearest_neighbour_accuracy_is_one_on_separated_clusters_and_matches_brute_force(classes, per_class, dim,
                                                                                          seed):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(classes), per_class)
    centres = 100.0 * np.arange(classes)[:, None] * np.ones(dim)  # 100 apart per axis; the noise is N(0, 1)
    train = centres[labels] + rng.standard_normal((len(labels), dim))
    test = centres[labels] + rng.standard_normal((len(labels), dim))
    assert nearest_neighbour_accuracy(train, labels, test, labels)["accuracy"] == 1.0
    noise = rng.standard_normal((len(labels), dim))  # no clusters: compare with a direct search
    nearest = np.array([labels[np.argmin(((train - t) ** 2).sum(1))] for t in noise])
    result = nearest_neighbour_accuracy(train, labels, noise, labels)
    assert result["accuracy"] == pytest.approx((nearest == labels).mean())
    assert (result["n_train"], result["n_test"]) == (len(labels), len(labels))


def test_reconstruction_error_is_the_mean_squared_error_per_value():
    x = np.arange(12.0).reshape(3, 1, 2, 2)
    assert reconstruction_error(x, x)["mse"] == 0
    assert reconstruction_error(x, x + 2)["mse"] == pytest.approx(4.0)


def test_latent_recovery_is_one_for_an_inverse_and_near_zero_for_an_unrelated_encoder():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5000, 4))
    assert latent_recovery(z, 3 * z + 1)["correlation"] == pytest.approx(1.0)
    assert latent_recovery(z, -z)["correlation"] == pytest.approx(-1.0)
    assert abs(latent_recovery(z, rng.standard_normal((5000, 4)))["correlation"]) < 0.05


def test_the_encoder_metrics_refuse_mismatched_inputs():
    with pytest.raises(ValueError, match="codes must be"):
        nearest_neighbour_accuracy(np.zeros((3, 2)), [0, 1, 2], np.zeros((2, 3)), [0, 1])
    with pytest.raises(ValueError, match="labels"):
        nearest_neighbour_accuracy(np.zeros((3, 2)), [0, 1], np.zeros((2, 2)), [0, 1])
    with pytest.raises(ValueError, match="differ"):
        reconstruction_error(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="latent_recovery"):
        latent_recovery(np.zeros((4, 2)), np.zeros((4, 3)))
