"""Known answers for the conditional metrics: label accuracy, per-class Fréchet distance, normalised MI."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from minigan.metrics import (class_frechet_distance, code_mutual_information, frechet_distance, label_accuracy,
                             normalized_mutual_information)

labellings = st.integers(2, 60).flatmap(lambda n: st.tuples(arrays(np.int64, n, elements=st.integers(0, 4)),
                                                            arrays(np.int64, n, elements=st.integers(0, 6))))


@given(labellings)
def test_nmi_is_scikit_learns_arithmetic_normalisation(pair):
    from sklearn.metrics import normalized_mutual_info_score

    u, v = pair
    assert normalized_mutual_information(u, v) == pytest.approx(normalized_mutual_info_score(u, v), abs=1e-10)


def test_nmi_is_one_for_a_renaming_and_near_zero_for_independent_labels():
    rng = np.random.default_rng(0)
    u = rng.integers(0, 10, 5000)
    assert normalized_mutual_information(u, (u * 7 + 3) % 10) == pytest.approx(1.0)
    assert normalized_mutual_information(u, rng.integers(0, 10, 5000)) < 0.01


def test_label_accuracy_counts_agreement_per_class():
    requested = np.array([0, 0, 1, 1, 2, 2])
    probabilities = np.eye(3)[[0, 1, 1, 1, 0, 2]]
    result = label_accuracy(requested, probabilities)
    assert result["accuracy"] == pytest.approx(4 / 6)
    assert result["per_class"] == {0: 0.5, 1: 1.0, 2: 0.5}
    with pytest.raises(ValueError, match="one integer label per sample"):
        label_accuracy(requested.astype(float), probabilities)


def test_code_mutual_information_reads_the_classifiers_choice():
    codes = np.repeat(np.arange(4), 25)
    assert code_mutual_information(codes, np.eye(4)[(codes + 1) % 4])["nmi"] == pytest.approx(1.0)


def test_class_frechet_distance_is_the_mean_of_the_distances_within_classes():
    rng = np.random.default_rng(1)
    real, fake = rng.standard_normal((300, 3)), rng.standard_normal((200, 3)) + 0.5
    real_y, fake_y = rng.integers(0, 3, 300), rng.integers(0, 3, 200)
    result = class_frechet_distance(real, real_y, fake, fake_y)
    expected = [frechet_distance(real[real_y == c], fake[fake_y == c]) for c in range(3)]
    assert result["per_class"] == pytest.approx(dict(enumerate(expected)))
    assert result["mean"] == pytest.approx(np.mean(expected))
    assert result["n_real"] == 300 and result["n_generated"] == 200
    with pytest.raises(ValueError, match="no class"):
        class_frechet_distance(real, real_y, fake[:1], fake_y[:1])
