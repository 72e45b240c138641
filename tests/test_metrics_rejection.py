"""Discriminator rejection sampling with an analytic, optimal discriminator."""

import numpy as np
import pytest
from scipy.special import expit, logsumexp

from minigan.data import ring8
from minigan.metrics import discriminator_rejection_sampling, drs_log_odds, mode_coverage, precision_recall

TOY = ring8()
SPURIOUS_WEIGHT, SPURIOUS_STD = 0.3, 0.5  # a generator with a spurious blob at the ring's centre


def log_density_data(x):
    d2 = ((x[:, None, :] - TOY.centres[None]) ** 2).sum(-1)
    return logsumexp(-d2 / (2 * TOY.std ** 2), axis=1) - np.log(8 * 2 * np.pi * TOY.std ** 2)


def log_density_generator(x):
    spurious = -(x ** 2).sum(1) / (2 * SPURIOUS_STD ** 2) - np.log(2 * np.pi * SPURIOUS_STD ** 2)
    return np.logaddexp(np.log(1 - SPURIOUS_WEIGHT) + log_density_data(x), np.log(SPURIOUS_WEIGHT) + spurious)


def optimal_logit(x):
    """The optimal discriminator's logit, log p_data / p_g."""
    return log_density_data(x) - log_density_generator(x)


def make_generator(seed):
    rng = np.random.default_rng(seed)

    def sample(n):
        x = TOY.sample(n, rng)
        spurious = rng.random(n) < SPURIOUS_WEIGHT
        x[spurious] = SPURIOUS_STD * rng.standard_normal((spurious.sum(), 2))
        return x
    return sample


def test_rejection_sampling_improves_precision_with_a_good_discriminator():
    real = TOY.sample(2000, 1)
    plain = make_generator(2)(2000)
    result = discriminator_rejection_sampling(make_generator(3), optimal_logit, 2000, burn_in=2000)
    assert len(result.samples) == 2000
    before, after = precision_recall(real, plain)["precision"], precision_recall(real, result.samples)["precision"]
    assert before < 0.75 and after > 0.95
    assert mode_coverage(result.samples, TOY.centres, TOY.std)["high_quality_fraction"] > 0.98
    assert result.max_logit == pytest.approx(-np.log(1 - SPURIOUS_WEIGHT), abs=1e-3)


def test_gamma_zero_is_exact_rejection_sampling():
    # accept with probability ~ p_data / (M p_g): the acceptance rate is 1/M = 1 - spurious weight
    result = discriminator_rejection_sampling(make_generator(4), optimal_logit, 3000, burn_in=2000, gamma=0.0)
    assert result.acceptance_rate == pytest.approx(1 - SPURIOUS_WEIGHT, abs=0.03)
    coverage = mode_coverage(result.samples, TOY.centres, TOY.std)
    assert coverage["high_quality_fraction"] > 0.98 and coverage["kl_uniform"] < 0.01


def test_log_odds_give_the_exact_acceptance_probability():
    logits = np.array([-5.0, -1.0, -0.1, 0.0])
    np.testing.assert_allclose(expit(drs_log_odds(logits, 0.0, epsilon=1e-12)), np.exp(logits), rtol=1e-6)
    assert np.isfinite(drs_log_odds(np.array([0.0, 3.0]), 0.0)).all()  # at or above the max: still finite


def test_stops_at_max_proposals():
    # gamma far above every log-odds: (almost) nothing is accepted, and the loop still ends
    result = discriminator_rejection_sampling(make_generator(5), lambda x: np.zeros(len(x)), 1000, burn_in=0,
                                              batch_size=100, gamma=50.0, max_proposals=500)
    assert result.n_proposed == 500 and len(result.samples) < 1000
