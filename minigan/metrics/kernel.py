r"""Kernel two-sample distances: KID (cubic polynomial kernel on features) and Gaussian-kernel MMD.

The squared maximum mean discrepancy between distributions P and Q under a
kernel k is

.. math:: \mathrm{MMD}^2 = \mathbb E\,k(x, x') + \mathbb E\,k(y, y') - 2\,\mathbb E\,k(x, y),
          \quad x, x' \sim P,\; y, y' \sim Q,

and its unbiased estimate from samples :math:`x_{1..N}`, :math:`y_{1..M}` leaves
out the :math:`i = j` terms (a U-statistic, Gretton et al. 2012):

.. math:: \widehat{\mathrm{MMD}}^2_u = \frac{1}{N(N-1)}\sum_{i \ne j} k(x_i, x_j)
          + \frac{1}{M(M-1)}\sum_{i \ne j} k(y_i, y_j) - \frac{2}{NM}\sum_{i,j} k(x_i, y_j).

Its expectation is exactly 0 when P = Q, whatever the sample size, so unlike
the Fréchet distance it can be compared across sample sizes (and it can come
out slightly negative).

References
----------
Gretton et al., "A Kernel Two-Sample Test", JMLR 2012.
Bińkowski, Sutherland, Arbel & Gretton, "Demystifying MMD GANs", ICLR 2018.
"""

from __future__ import annotations

import numpy as np

__all__ = ["squared_distances", "polynomial_kernel", "mmd2_unbiased", "kid", "median_heuristic", "gaussian_mmd2"]


def squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    r""":math:`\|a_i - b_j\|^2` for rows of ``a (M, D)`` and ``b (N, D)`` -> ``(M, N)``, clipped at 0 (rounding)."""
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.maximum(d, 0)


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3, coef0: float = 1.0) -> np.ndarray:
    r""":math:`k(x, y) = (x^\top y / d + c)^p`, with dimension d; KID uses p = 3, c = 1."""
    return (x @ y.T / x.shape[1] + coef0) ** degree


def mmd2_unbiased(k_xx: np.ndarray, k_yy: np.ndarray, k_xy: np.ndarray) -> float:
    """The unbiased estimate of MMD² from the three kernel matrices ``(m, m)``, ``(n, n)``, ``(m, n)``."""
    m, n = len(k_xx), len(k_yy)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2 * k_xy.mean())


def kid(real_features, fake_features, n_subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> dict:
    r"""Kernel Inception Distance (Bińkowski et al. 2018): unbiased MMD² with :math:`k(x,y) = (x^\top y/d + 1)^3`.

    Averaged over ``n_subsets`` random subsets of ``subset_size`` samples from
    each set (drawn without replacement within a subset; ``subset_size`` is cut
    to the smaller set). Named KID only with Inception features; with the digits
    classifier it is "KID (digits classifier)".

    Returns ``kid`` (the mean), ``kid_std`` (the standard deviation over
    subsets), ``n_subsets``, ``subset_size``, ``n_real``, ``n_generated``.
    """
    real, fake = _as_features(real_features), _as_features(fake_features)
    size = min(subset_size, len(real), len(fake))
    if size < 2:
        raise ValueError(f"kid: need at least 2 samples in each set, got {len(real)} and {len(fake)}")
    rng = np.random.default_rng(seed)
    estimates = []
    for _ in range(n_subsets):
        x, y = real[rng.choice(len(real), size, False)], fake[rng.choice(len(fake), size, False)]
        estimates.append(mmd2_unbiased(polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)))
    return {"kid": float(np.mean(estimates)), "kid_std": float(np.std(estimates)), "n_subsets": n_subsets,
            "subset_size": size, "n_real": len(real), "n_generated": len(fake)}


def median_heuristic(x: np.ndarray, y: np.ndarray, max_points: int = 1000, seed: int = 0) -> float:
    """The median distance between distinct points of the pooled samples (on at most ``max_points`` of them)."""
    pooled = np.concatenate([_as_features(x), _as_features(y)])
    if len(pooled) > max_points:
        pooled = pooled[np.random.default_rng(seed).choice(len(pooled), max_points, False)]
    upper = np.triu_indices(len(pooled), k=1)
    return float(np.sqrt(np.median(squared_distances(pooled, pooled)[upper])))


def gaussian_mmd2(real, fake, bandwidth: float | None = None, block_size: int = 1024) -> dict:
    r"""Unbiased MMD² with the Gaussian kernel :math:`k(x, y) = \exp(-\|x - y\|^2 / 2\sigma^2)`.

    For low-dimensional data such as the 2-D toys, where raw coordinates are
    meaningful. :math:`\sigma` defaults to the median heuristic (the median
    pairwise distance of the pooled samples, Gretton et al. 2012). Kernel sums
    are taken block by block, so memory stays small for thousands of samples.

    Returns ``mmd2``, ``bandwidth``, ``n_real``, ``n_generated``.
    """
    x, y = _as_features(real), _as_features(fake)
    sigma = median_heuristic(x, y) if bandwidth is None else float(bandwidth)
    if not sigma > 0:
        raise ValueError(f"gaussian_mmd2: bandwidth must be positive, got {sigma} (are all points equal?)")

    def kernel_sum(a, b):
        return sum(np.exp(-squared_distances(a[i:i + block_size], b) / (2 * sigma ** 2)).sum()
                   for i in range(0, len(a), block_size))

    m, n = len(x), len(y)
    within_x = (kernel_sum(x, x) - m) / (m * (m - 1))  # k(x, x) = 1: drop the diagonal
    within_y = (kernel_sum(y, y) - n) / (n * (n - 1))
    mmd2 = within_x + within_y - 2 * kernel_sum(x, y) / (m * n)
    return {"mmd2": float(mmd2), "bandwidth": sigma, "n_real": m, "n_generated": n}


def _as_features(array) -> np.ndarray:
    array = np.asarray(array, dtype=np.float64)
    return array.reshape(len(array), -1)
