"""KID and Gaussian MMD: unbiasedness, known answers, sensitivity."""

import numpy as np
import pytest

from minigan.metrics import gaussian_mmd2, kid, median_heuristic, mmd2_unbiased, polynomial_kernel
from minigan.metrics.kernel import squared_distances


def _biased_mmd2(kxx, kyy, kxy):
    return kxx.mean() + kyy.mean() - 2 * kxy.mean()


def test_kid_is_unbiased_for_one_distribution(rng):
    # fresh samples each time, so the estimates are independent and their mean has a plain standard error
    estimates, biased = [], []
    for i in range(300):
        x, y = rng.standard_normal((50, 8)), rng.standard_normal((50, 8))
        kernels = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
        estimates.append(kid(x, y, n_subsets=1, subset_size=50, seed=i)["kid"])
        biased.append(_biased_mmd2(*kernels))
    standard_error = np.std(estimates) / np.sqrt(len(estimates))
    assert abs(np.mean(estimates)) < 3 * standard_error
    assert np.mean(biased) > 10 * standard_error  # the V-statistic is visibly biased: the test has power


def test_kid_mean_over_subsets_is_near_zero_for_one_distribution(rng):
    x, y = rng.standard_normal((1000, 16)), rng.standard_normal((1000, 16))
    same = kid(x, y, n_subsets=20, subset_size=300)
    shifted = kid(x, y + 0.5, n_subsets=20, subset_size=300)
    assert abs(same["kid"]) < 0.1 * shifted["kid"]
    assert shifted["kid"] > 10 * shifted["kid_std"]
    assert (same["n_real"], same["n_generated"], same["subset_size"], same["n_subsets"]) == (1000, 1000, 300, 20)


def test_subset_size_is_cut_to_the_smaller_set(rng):
    result = kid(rng.standard_normal((30, 4)), rng.standard_normal((200, 4)), n_subsets=3)
    assert result["subset_size"] == 30


def test_polynomial_kernel_formula(rng):
    x, y = rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    expected = np.array([[(xi @ yj / 5 + 1) ** 3 for yj in y] for xi in x])
    np.testing.assert_allclose(polynomial_kernel(x, y), expected)


def test_mmd2_unbiased_drops_the_diagonal():
    kxx = np.array([[5.0, 1.0], [1.0, 5.0]])
    kyy = np.array([[7.0, 2.0], [2.0, 7.0]])
    kxy = np.full((2, 2), 0.5)
    assert mmd2_unbiased(kxx, kyy, kxy) == pytest.approx(1 + 2 - 2 * 0.5)


def test_squared_distances_match_direct_computation(rng):
    a, b = rng.standard_normal((6, 3)), rng.standard_normal((5, 3))
    np.testing.assert_allclose(squared_distances(a, b), ((a[:, None] - b[None]) ** 2).sum(-1), atol=1e-12)


def test_gaussian_mmd_matches_the_dense_formula(rng):
    x, y = rng.standard_normal((300, 2)), 0.3 + rng.standard_normal((200, 2))
    sigma = 0.7
    k = lambda a, b: np.exp(-squared_distances(a, b) / (2 * sigma ** 2))  # noqa: E731
    expected = mmd2_unbiased(k(x, x), k(y, y), k(x, y))
    assert gaussian_mmd2(x, y, bandwidth=sigma, block_size=64)["mmd2"] == pytest.approx(expected, rel=1e-10)


def test_gaussian_mmd_separates_distributions(rng):
    x, y, z = (rng.standard_normal((1000, 2)) for _ in range(3))
    same, different = gaussian_mmd2(x, y), gaussian_mmd2(x, 1.5 * z)
    assert abs(same["mmd2"]) < 0.01 < different["mmd2"]
    assert same["bandwidth"] == pytest.approx(median_heuristic(x, y))
    assert (same["n_real"], same["n_generated"]) == (1000, 1000)


def test_median_heuristic_of_two_points():
    assert median_heuristic(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])) == pytest.approx(5.0)
