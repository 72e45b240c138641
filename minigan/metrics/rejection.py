r"""Discriminator rejection sampling (Azadi et al. 2019): keep the generator's samples its discriminator believes.

An optimal discriminator of the standard GAN has logit
:math:`\tilde D^*(x) = \log p_{data}(x) / p_g(x)`, so rejection sampling from
:math:`p_g` with acceptance probability :math:`p_{data}/(M p_g) = e^{\tilde D^*(x) - \tilde D^*_M}`,
:math:`\tilde D^*_M = \max_x \tilde D^*(x)`, draws exactly from :math:`p_{data}`.
In practice that acceptance is tiny almost everywhere, so DRS accepts with
:math:`p = \sigma(F(x))`,

.. math:: F(x) = \tilde D(x) - \tilde D^*_M - \log\big(1 - e^{\tilde D(x) - \tilde D^*_M - \epsilon}\big) - \gamma,

which is the log-odds of :math:`e^{\tilde D - \tilde D_M}` (so :math:`\gamma = 0`
recovers the exact acceptance), shifted by :math:`\gamma` to trade acceptance
rate for selectivity. :math:`\tilde D^*_M` is estimated as the largest logit of
a burn-in set of samples and kept as a running maximum; :math:`\epsilon` keeps
the logarithm finite at the maximum. With ``gamma=None``, :math:`\gamma` is set
for each batch to a high percentile of its :math:`F` values before the shift
(``gamma_percentile``), as in the practical recipe of Azadi et al., so that a
fixed share of each batch has :math:`p \ge 1/2`.

DRS can only undo what the discriminator sees: it removes samples off the
data's support (raising precision), but cannot create modes the generator
never visits (recall does not rise), and it needs a logit that estimates the
log density ratio (the BCE-trained D of the minimax and non-saturating GANs,
or a calibrated one).

References
----------
Azadi, Olsson, Darrell, Goodfellow & Odena, "Discriminator Rejection Sampling", ICLR 2019.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit as sigmoid

__all__ = ["RejectionSamples", "drs_log_odds", "discriminator_rejection_sampling"]


@dataclass
class RejectionSamples:
    """The accepted samples, how many proposals they took, and the final estimate of the maximum logit."""

    samples: np.ndarray
    n_proposed: int
    acceptance_rate: float
    max_logit: float


def drs_log_odds(logits: np.ndarray, max_logit: float, epsilon: float = 1e-6) -> np.ndarray:
    r"""DRS log-odds before the shift: :math:`F(x) + \gamma = \Delta - \log(1 - e^{\Delta - \epsilon})`.

    :math:`\Delta = \tilde D(x) - \tilde D^*_M`, clipped at 0: a logit above the
    current maximum is treated as if at it.
    """
    delta = np.minimum(np.asarray(logits, np.float64) - max_logit, 0.0)
    return delta - np.log(-np.expm1(delta - epsilon))  # log(1 - e^a) = log(-expm1(a)), accurate as a -> 0


def discriminator_rejection_sampling(sample: Callable[[int], np.ndarray], logit: Callable[[np.ndarray], np.ndarray],
                                     n: int, burn_in: int = 10_000, batch_size: int = 1000, epsilon: float = 1e-6,
                                     gamma: float | None = None, gamma_percentile: float = 95.0,
                                     max_proposals: int | None = None, seed: int = 0) -> RejectionSamples:
    """Up to ``n`` samples of ``sample(m) -> (m, ...)`` accepted by DRS with discriminator ``logit(x) -> (m,)``.

    Stops after ``max_proposals`` proposals (default ``100 * n``), returning
    fewer than ``n`` samples if the acceptance rate is that low.
    """
    rng = np.random.default_rng(seed)
    max_proposals = 100 * n if max_proposals is None else max_proposals
    if n < 1 or max_proposals < 1:
        raise ValueError(f"discriminator_rejection_sampling: n and max_proposals must be positive, "
                         f"got {n} and {max_proposals}")
    max_logit = -np.inf
    for start in range(0, burn_in, batch_size):
        max_logit = max(max_logit, float(np.max(logit(sample(min(batch_size, burn_in - start))))))
    accepted, n_accepted, n_proposed = [], 0, 0
    while n_accepted < n and n_proposed < max_proposals:
        x = sample(batch_size)
        d = np.asarray(logit(x), np.float64).reshape(-1)
        max_logit = max(max_logit, float(d.max()))
        f = drs_log_odds(d, max_logit, epsilon)
        shift = np.percentile(f, gamma_percentile) if gamma is None else gamma
        keep = rng.random(len(f)) < sigmoid(f - shift)
        accepted.append(x[keep])
        n_accepted += int(keep.sum())
        n_proposed += len(x)
    return RejectionSamples(np.concatenate(accepted)[:n], n_proposed, n_accepted / max(n_proposed, 1), max_logit)
