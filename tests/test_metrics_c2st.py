"""Classifier two-sample test: chance on one distribution, near-perfect on clearly different ones."""

import numpy as np
import pytest
from scipy.stats import binomtest

import minigan as mg
from minigan.data import ring8
from minigan.metrics import classifier_two_sample_test


def test_two_samples_of_one_distribution_are_at_chance():
    toy = ring8()
    result = classifier_two_sample_test(toy.sample(2000, 1), toy.sample(2000, 2), steps=300)
    assert abs(result["accuracy"] - 0.5) < 0.05  # 4 standard deviations of the 2,000 held-out answers
    assert result["p_value"] > 0.001
    assert (result["n_test"], result["n_train"], result["n_real"], result["n_generated"]) == (2000, 2000, 2000, 2000)


def test_clearly_different_distributions_are_told_apart():
    real, fake = ring8().sample(1000, 1), ring8(radius=2.5).sample(1000, 2)  # separable by the radius
    result = classifier_two_sample_test(real, fake, steps=300)
    assert result["accuracy"] > 0.95
    assert result["p_value"] < 1e-100


def test_p_value_is_the_one_sided_binomial_tail():
    toy = ring8()
    result = classifier_two_sample_test(toy.sample(400, 1), 1.05 * toy.sample(400, 2), steps=200)
    correct = round(result["accuracy"] * result["n_test"])
    expected = binomtest(correct, result["n_test"], 0.5, alternative="greater").pvalue
    assert result["p_value"] == pytest.approx(expected)


def test_uses_equal_class_sizes_and_leaves_the_global_random_state_alone():
    before = mg.default_generator.get_state()
    result = classifier_two_sample_test(np.zeros((300, 2)), np.ones((100, 2)), steps=50)
    assert result["n_test"] + result["n_train"] == 200
    assert mg.default_generator.get_state() == before


def test_same_seed_same_answer():
    toy = ring8()
    real, fake = toy.sample(500, 1), 1.1 * toy.sample(500, 2)
    runs = [classifier_two_sample_test(real, fake, steps=100, seed=3) for _ in range(2)]
    assert runs[0] == runs[1]
