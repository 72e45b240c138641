"""Precision/recall and density/coverage on toy cases with known answers."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minigan.data import ring8
from minigan.metrics import density_coverage, manifold, precision_recall
from minigan.metrics.manifold import kth_neighbour_radii

N = 1000


@pytest.fixture
def real():
    return ring8().sample(N, np.random.default_rng(1))


def one_mode(n, seed=2):
    toy = ring8()
    return toy.centres[0] + toy.std * np.random.default_rng(seed).standard_normal((n, 2))


def uniform_box(n, seed=3):
    return np.random.default_rng(seed).uniform(-2.5, 2.5, (n, 2))


def test_identical_sets_score_one(real):
    pr, dc = precision_recall(real, real), density_coverage(real, real)
    assert pr["precision"] == 1 and pr["recall"] == 1
    assert dc["coverage"] == 1 and dc["density"] >= 1  # each point lies in its own ball and k more


def test_a_generator_copying_one_mode_has_high_precision_and_low_recall(real):
    pr = precision_recall(real, one_mode(N))
    assert pr["precision"] > 0.9
    assert pr["recall"] < 0.2  # about 1/8 of the real samples lie on that mode
    dc = density_coverage(real, one_mode(N))
    assert dc["coverage"] < 0.2


def test_a_generator_uniform_over_the_box_has_low_precision(real):
    pr = precision_recall(real, uniform_box(N))
    assert pr["precision"] < 0.05
    assert density_coverage(real, uniform_box(N))["density"] < 0.05


def test_a_second_sample_of_the_real_distribution_scores_well(real):
    other = ring8().sample(N, np.random.default_rng(4))
    pr, dc = precision_recall(real, other), density_coverage(real, other)
    assert pr["precision"] > 0.9 and pr["recall"] > 0.9
    assert 0.8 < dc["density"] < 1.2 and dc["coverage"] > 0.9
    assert (pr["k"], dc["k"], pr["n_real"], pr["n_generated"]) == (3, 5, N, N)


def test_kth_neighbour_radii_on_a_line():
    points = np.array([[0.0], [1.0], [3.0], [7.0]])
    np.testing.assert_allclose(kth_neighbour_radii(points, 1), [1, 1, 2, 4])
    np.testing.assert_allclose(kth_neighbour_radii(points, 2), [3, 2, 3, 6])
    with pytest.raises(ValueError, match="k must be"):
        kth_neighbour_radii(points, 4)


@pytest.mark.parametrize("block_elements", [1, 7, 1 << 22])
@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])  # the same patch each draw
@given(n=st.integers(8, 60), dim=st.integers(1, 5), k=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_a_set_against_itself_keeps_every_tie_on_the_balls_edges(monkeypatch, block_elements, n, dim, k, seed):
    """Each point's k-th neighbour lies exactly on the edge of its closed ball: no tie may be lost to rounding."""
    monkeypatch.setattr(manifold, "_BLOCK_ELEMENTS", block_elements)
    x = np.random.default_rng(seed).standard_normal((n, dim)) * 10.0 ** np.random.default_rng(seed).integers(-3, 4)
    dc = density_coverage(x, x, k=k)
    assert dc["density"] == (k + 1) / k and dc["coverage"] == 1.0
    pr = precision_recall(x, x, k=k)
    assert pr["precision"] == 1.0 and pr["recall"] == 1.0


def test_a_fake_exactly_on_a_balls_edge_is_inside_and_just_beyond_it_is_not():
    real = np.array([[0.0, 0.0], [0.3, 0.4], [3.0, 3.0], [3.3, 3.4]])   # NND_1 = 0.5 for every point
    on_edge, beyond = np.array([[-0.3, -0.4]]), np.array([[-0.3, -0.4 - 1e-12]])
    assert density_coverage(real, on_edge, k=1)["density"] == 1.0
    assert density_coverage(real, beyond, k=1)["density"] == 0.0
