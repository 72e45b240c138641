"""Fréchet distance: known answers for Gaussians, symmetry, and monotone response to degraded digits."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.ndimage import gaussian_filter

from minigan.data import digits
from minigan.metrics import (frechet_distance, frechet_distance_from_statistics, frechet_distance_infinity,
                             load_digits_classifier, sqrtm_psd)


def random_spd(rng, d, rank=None):
    a = rng.standard_normal((d, rank or d))
    return a @ a.T / d + (0 if rank else 0.1 * np.eye(d))


def test_identical_feature_sets_are_at_distance_zero(rng):
    x = rng.standard_normal((500, 16)) @ rng.standard_normal((16, 16))
    assert frechet_distance(x, x) == pytest.approx(0, abs=1e-8)


def test_diagonal_covariances_have_the_closed_form(rng):
    # commuting covariances: Tr(S1 + S2 - 2 (S1 S2)^1/2) = sum_i (s1_i - s2_i)^2 with standard deviations s
    mu1, mu2 = rng.standard_normal(5), rng.standard_normal(5)
    s1, s2 = rng.uniform(0.1, 2, 5), rng.uniform(0.1, 2, 5)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((s1 - s2) ** 2)
    assert frechet_distance_from_statistics(mu1, np.diag(s1 ** 2), mu2, np.diag(s2 ** 2)) == pytest.approx(expected)


def test_one_dimensional_gaussians():
    # W2^2 between N(m1, s1^2) and N(m2, s2^2) is (m1 - m2)^2 + (s1 - s2)^2
    assert frechet_distance_from_statistics([1.0], [[4.0]], [-2.0], [[9.0]]) == pytest.approx(9 + 1)


@pytest.mark.parametrize("d", [2, 7, 32])
def test_general_covariances_match_scipy_sqrtm(rng, d):
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    s1, s2 = random_spd(rng, d), random_spd(rng, d)
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real)
    assert frechet_distance_from_statistics(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)


def test_singular_covariances_give_a_finite_nonnegative_distance(rng):
    s1, s2 = random_spd(rng, 10, rank=3), random_spd(rng, 10, rank=4)
    value = frechet_distance_from_statistics(np.zeros(10), s1, np.zeros(10), s2)
    assert np.isfinite(value) and value >= 0
    assert frechet_distance_from_statistics(np.zeros(10), s1, np.zeros(10), s1) == pytest.approx(0, abs=1e-7)


def test_sqrtm_psd_squares_back(rng):
    a = random_spd(rng, 6)
    root = sqrtm_psd(a)
    np.testing.assert_allclose(root @ root, a, atol=1e-10)
    np.testing.assert_allclose(root, root.T)


def test_symmetric(rng):
    x = rng.standard_normal((400, 8))
    y = 0.5 + 1.5 * rng.standard_normal((300, 8)) @ rng.standard_normal((8, 8))
    assert frechet_distance(x, y) == pytest.approx(frechet_distance(y, x), rel=1e-9)


def test_shape_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"\(3,\)"):
        frechet_distance_from_statistics(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="features of shape"):
        frechet_distance(np.zeros(10), np.zeros(10))


def test_fd_infinity_removes_most_of_the_small_sample_bias(rng):
    # one distribution, so the true distance is 0: d_N is biased upwards, its extrapolation much less
    real = rng.standard_normal((100_000, 4))
    runs = [frechet_distance_infinity(real, rng.standard_normal((2000, 4)), seed=i) for i in range(40)]
    at_n = np.mean([r["values"][-1] for r in runs])
    at_infinity = np.mean([r["fd_infinity"] for r in runs])
    assert at_n > 0.003  # about (d + d(d+1)/4) / N
    assert abs(at_infinity) < 0.4 * at_n
    assert runs[0]["sizes"] == [400, 800, 1200, 1600, 2000]
    assert (runs[0]["n_real"], runs[0]["n_generated"]) == (100_000, 2000)


@pytest.fixture(scope="module")
def digit_features():
    net = load_digits_classifier()
    return net, net.features(digits("train").images), digits("test").images


def _degrade(images, kind, level, seed):
    if kind == "noise":  # the same noise pattern at every level, so degradations are nested
        noise = np.random.default_rng(seed).standard_normal(images.shape)
        return np.clip(images + level * noise, -1, 1).astype(np.float32)
    return gaussian_filter(images, (0, 0, level, level), mode="constant", cval=-1.0).astype(np.float32)


@settings(max_examples=6, deadline=None)
@given(kind=st.sampled_from(["noise", "blur"]), seed=st.integers(0, 2 ** 16), low=st.floats(0.0, 1.0),
       gap=st.floats(0.2, 0.6))
def test_distance_grows_as_digits_are_degraded(digit_features, kind, seed, low, gap):
    net, real_features, test_images = digit_features
    low = low if kind == "noise" else 0.5 + low  # blur below sigma 0.5 hardly changes an 8x8 digit
    distances = [frechet_distance(real_features, net.features(_degrade(test_images, kind, level, seed)))
                 for level in (low, low + gap)]
    assert distances[0] < distances[1]
