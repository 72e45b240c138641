"""Inception-style score: its two extremes and the split convention."""

import numpy as np
import pytest

from minigan.metrics import inception_score


def test_confident_predictions_spread_over_all_classes_score_the_number_of_classes():
    probabilities = np.eye(10)[np.arange(1000) % 10]
    assert inception_score(probabilities)["score"] == pytest.approx(10)


def test_predictions_equal_to_the_marginal_score_one(rng):
    probabilities = np.tile(rng.dirichlet(np.ones(10)), (500, 1))
    result = inception_score(probabilities, splits=5)
    assert result["score"] == pytest.approx(1) and result["std"] == pytest.approx(0, abs=1e-12)


def test_confident_predictions_of_one_class_score_one():
    assert inception_score(np.eye(10)[np.zeros(100, int)])["score"] == pytest.approx(1)


def test_two_equally_used_classes_score_two():
    result = inception_score(np.eye(10)[np.arange(600) % 2], splits=3)
    assert result["score"] == pytest.approx(2)
    assert (result["splits"], result["n_generated"]) == (3, 600)


def test_bad_probabilities_are_rejected():
    with pytest.raises(ValueError, match="rows summing to 1"):
        inception_score(np.ones((10, 3)))
    with pytest.raises(ValueError, match="splits"):
        inception_score(np.eye(3), splits=5)
