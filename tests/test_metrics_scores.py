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


def test_splits_have_the_reference_boundaries_floor_i_n_over_s():
    """N = 12 in 5 parts: Salimans et al.'s code cuts at 0, 2, 4, 7, 9, 12 (array_split would at 0, 3, 6, 8, 10)."""
    p = np.full((12, 2), 0.5)
    p[[2, 3]] = [[1.0, 0.0], [0.0, 1.0]]   # only the second part (samples 2 and 3) is confident and spread
    scores = [1.0, 2.0, 1.0, 1.0, 1.0]
    result = inception_score(p, splits=5)
    assert result["score"] == pytest.approx(np.mean(scores)) and result["std"] == pytest.approx(np.std(scores))
