r"""Mode coverage on mixtures with known modes (ring8, grid25, ...): the standard mode-collapse scores.

The convention, fixed here once (after Metz et al. 2017 and Srivastava et al. 2017):

- a sample is **high quality** when its Euclidean distance to its nearest
  centre is at most 3 standard deviations of a mode (``n_std * std``); in 2-D
  a true sample passes with probability :math:`1 - e^{-9/2} \approx 98.9\%`;
- a mode is **covered** when at least 20 high-quality samples per 2,500 land
  on it: the threshold is :math:`20 \cdot n / 2500` for n samples in all
  (0.8% of the samples; a uniform spread over 25 modes puts 4% on each).
  PacGAN's table (Lin et al. 2018) counts a mode with a single high-quality
  sample; that looser count is reported beside it as ``modes_with_a_sample``,
  so results compare with the paper's;
- the **KL divergence from uniform** of the histogram :math:`q` of high-quality
  samples over the K modes,

  .. math:: \mathrm{KL}(q \,\|\, u) = \sum_k q_k \log(K q_k), \qquad 0 \log 0 = 0,

  is 0 when every mode gets the same share and :math:`\log K` when all
  high-quality samples sit on one mode (undefined, reported as NaN, when no
  sample is high quality).

These scores see only which mode each sample lands on and how far from it:
they miss the shape within a mode and mass far from every mode (beyond the
high-quality fraction).

References
----------
Metz, Poole, Pfau & Sohl-Dickstein, "Unrolled Generative Adversarial Networks", ICLR 2017.
Srivastava et al., "VEEGAN: Reducing Mode Collapse in GANs using Implicit Variational Learning", NeurIPS 2017.
Lin, Khetan, Fanti & Oh, "PacGAN: The power of two samples in generative adversarial networks", NeurIPS 2018.
"""

from __future__ import annotations

import numpy as np

from minigan.metrics.kernel import squared_distances

__all__ = ["mode_coverage", "covered_threshold"]


def covered_threshold(n_samples: int, min_count: float = 20, per: int = 2500) -> float:
    """Samples a mode needs to count as covered: ``min_count`` per ``per`` samples, scaled to ``n_samples``."""
    return min_count * n_samples / per


def mode_coverage(samples, centres, std: float, n_std: float = 3.0, min_count: float = 20, per: int = 2500) -> dict:
    """Modes covered, high-quality fraction and KL(mode histogram ‖ uniform) of ``samples (N, D)``.

    ``centres (K, D)`` and ``std`` are those of the true mixture (``ToyDistribution.centres``, ``.std``).
    Returns ``modes_covered`` (at least ``threshold`` high-quality samples), ``modes_with_a_sample`` (at least
    one: PacGAN's count), ``n_modes``, ``high_quality_fraction``, ``kl_uniform``, ``counts`` (high-quality
    samples per mode), ``threshold`` and ``n_generated``.
    """
    samples = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
    centres = np.asarray(centres, dtype=np.float64).reshape(-1, samples.shape[1])
    d2 = squared_distances(samples, centres)                             # (N, K)
    nearest = d2.argmin(axis=1)
    high_quality = d2[np.arange(len(samples)), nearest] <= (n_std * std) ** 2
    counts = np.bincount(nearest[high_quality], minlength=len(centres))
    threshold = covered_threshold(len(samples), min_count, per)
    return {"modes_covered": int((counts >= threshold).sum()), "modes_with_a_sample": int((counts > 0).sum()),
            "n_modes": len(centres),
            "high_quality_fraction": float(high_quality.mean()), "kl_uniform": _kl_from_uniform(counts),
            "counts": counts.tolist(), "threshold": threshold, "n_generated": len(samples)}


def _kl_from_uniform(counts: np.ndarray) -> float:
    if counts.sum() == 0:
        return float("nan")
    q = counts / counts.sum()
    q = q[q > 0]
    return float(np.sum(q * np.log(len(counts) * q)))
