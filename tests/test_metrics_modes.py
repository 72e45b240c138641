"""Mode coverage against hand-built sample sets whose answers are known."""

import numpy as np
import pytest

from minigan.data import grid25, ring8
from minigan.metrics import mode_coverage
from minigan.metrics.modes import covered_threshold


def on_modes(toy, counts, rng):
    """``counts[k]`` samples within 1 std (per coordinate, so within 3 std in distance) of centre k."""
    parts = [toy.centres[k] + toy.std * rng.uniform(-1, 1, (c, toy.dim)) for k, c in enumerate(counts)]
    return np.concatenate(parts)


def test_a_hand_built_set_with_five_of_eight_modes_covered(rng):
    toy = ring8()
    counts = [480, 480, 480, 480, 480, 15, 0, 0]  # 15 < 20: mode 5 is visited but not covered
    off_modes = np.zeros((85, 2))  # the ring's centre: 2 units from every mode
    samples = np.concatenate([on_modes(toy, counts, rng), off_modes])
    result = mode_coverage(samples, toy.centres, toy.std)
    assert len(samples) == 2500 and result["threshold"] == 20
    assert result["modes_covered"] == 5 and result["n_modes"] == 8
    assert result["modes_with_a_sample"] == 6  # PacGAN's count: mode 5's 15 samples are enough
    assert result["counts"] == counts
    assert result["high_quality_fraction"] == pytest.approx(2415 / 2500)
    q = np.array(counts[:6]) / 2415
    assert result["kl_uniform"] == pytest.approx(np.sum(q * np.log(8 * q)))


def test_all_modes_equally_covered_gives_zero_kl(rng):
    toy = grid25()
    result = mode_coverage(on_modes(toy, [100] * 25, rng), toy.centres, toy.std)
    assert result["modes_covered"] == 25 and result["high_quality_fraction"] == 1
    assert result["kl_uniform"] == pytest.approx(0, abs=1e-12)


def test_collapse_onto_one_mode_gives_log_k(rng):
    toy = ring8()
    result = mode_coverage(on_modes(toy, [1000] + [0] * 7, rng), toy.centres, toy.std)
    assert result["modes_covered"] == 1
    assert result["kl_uniform"] == pytest.approx(np.log(8))


def test_the_threshold_scales_with_the_sample_count(rng):
    toy = ring8()
    assert covered_threshold(2500) == 20 and covered_threshold(5000) == 40
    # 30 samples on a mode: covered among 2,500 samples, not among 5,000
    small = on_modes(toy, [30] + [310] * 7, rng)   # 2,200 samples: threshold 17.6
    large = on_modes(toy, [30] + [710] * 7, rng)   # 5,000 samples: threshold 40
    assert mode_coverage(small, toy.centres, toy.std)["modes_covered"] == 8
    assert mode_coverage(large, toy.centres, toy.std)["modes_covered"] == 7


def test_three_std_boundary(rng):
    toy = ring8()
    inside = toy.centres[0] + np.array([2.99 * toy.std, 0.0])
    outside = toy.centres[0] + np.array([0.0, 3.01 * toy.std])
    result = mode_coverage(np.stack([inside, outside]), toy.centres, toy.std)
    assert result["high_quality_fraction"] == 0.5


def test_no_high_quality_sample_gives_nan_kl():
    toy = ring8()
    result = mode_coverage(np.zeros((100, 2)), toy.centres, toy.std)
    assert result["modes_covered"] == 0 and result["high_quality_fraction"] == 0
    assert np.isnan(result["kl_uniform"])


def test_true_samples_cover_every_mode():
    toy = grid25()
    result = mode_coverage(toy.sample(2500, 0), toy.centres, toy.std)
    assert result["modes_covered"] == 25
    assert result["high_quality_fraction"] > 0.97  # 1 - exp(-9/2) in 2-D
    assert result["kl_uniform"] < 0.02
