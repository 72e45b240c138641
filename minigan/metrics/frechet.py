r"""Fréchet distance between Gaussians fitted to features, and its extrapolation to infinitely many samples.

Fit :math:`\mathcal N(\mu_1, \Sigma_1)` to the features of real images and
:math:`\mathcal N(\mu_2, \Sigma_2)` to those of generated ones; their squared
Fréchet (2-Wasserstein) distance is (Heusel et al. 2017)

.. math:: d^2 = \|\mu_1 - \mu_2\|^2 + \operatorname{Tr}\big(\Sigma_1 + \Sigma_2 - 2(\Sigma_1\Sigma_2)^{1/2}\big).

It is called FID only when the features are Inception-v3's pool features;
with the bundled digits classifier it is the "Fréchet distance (digits
classifier)", and its values are not comparable with published FIDs.

**Small-sample bias.** The plug-in estimate from N samples is biased upwards:
even for two samples of one distribution,
:math:`\mathbb E\|\hat\mu_1 - \hat\mu_2\|^2 = \operatorname{Tr}\Sigma\,(1/N_1 + 1/N_2)`,
and the trace term adds a similar O(1/N) amount whose constant depends on the
generator (Chong & Forsyth 2020). So two models compare fairly only at the same
N against the same real set; :func:`frechet_distance_infinity` removes the
1/N term in the number of generated samples by extrapolation ("FD∞").

References
----------
Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium", NeurIPS 2017.
Chong & Forsyth, "Effectively Unbiased FID and Inception Score and Where to Find Them", CVPR 2020.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gaussian_statistics", "sqrtm_psd", "trace_sqrt_product", "frechet_distance_from_statistics",
           "frechet_distance", "frechet_distance_infinity"]


def gaussian_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and unbiased covariance ``(D, D)`` of features ``(N, D)``, in float64."""
    features = _as_features(features, "gaussian_statistics")
    if len(features) < 2:
        raise ValueError(f"gaussian_statistics: need at least 2 samples for a covariance, got {len(features)}")
    return features.mean(axis=0), np.atleast_2d(np.cov(features, rowvar=False))


def sqrtm_psd(matrix: np.ndarray) -> np.ndarray:
    r"""The symmetric square root of a symmetric positive semi-definite matrix.

    :math:`A = V \Lambda V^\top \Rightarrow A^{1/2} = V \Lambda^{1/2} V^\top`; eigenvalues that
    rounding made slightly negative are clipped to 0.
    """
    eigenvalues, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ vectors.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    r""":math:`\operatorname{Tr}(\Sigma_1\Sigma_2)^{1/2}` through the symmetric form.

    :math:`\Sigma_1\Sigma_2` is not symmetric, but it is similar to
    :math:`M = \Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2}` (conjugate by :math:`\Sigma_1^{1/2}`),
    which is symmetric PSD; so the trace is :math:`\sum_i \sqrt{\lambda_i(M)}`, from ``eigvalsh``
    (stable, real), with tiny negative eigenvalues clipped, rather than a general ``sqrtm``
    that can return complex noise for singular covariances.
    """
    root1 = sqrtm_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    return float(np.sqrt(np.clip(eigenvalues, 0, None)).sum())


def frechet_distance_from_statistics(mu1, sigma1, mu2, sigma2) -> float:
    r""":math:`\|\mu_1 - \mu_2\|^2 + \operatorname{Tr}(\Sigma_1 + \Sigma_2 - 2(\Sigma_1\Sigma_2)^{1/2})`, at least 0."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"frechet_distance: statistics do not match: means {mu1.shape}, {mu2.shape}, "
                         f"covariances {sigma1.shape}, {sigma2.shape}")
    distance = np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt_product(sigma1, sigma2)
    return max(float(distance), 0.0)  # exact arithmetic gives >= 0; clip rounding below it


def frechet_distance(features1, features2) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets ``(N1, D)`` and ``(N2, D)``."""
    return frechet_distance_from_statistics(*gaussian_statistics(features1), *gaussian_statistics(features2))


def frechet_distance_infinity(real_features, fake_features, n_sizes: int = 5, min_fraction: float = 0.2,
                              seed: int = 0) -> dict:
    r"""Fréchet distance extrapolated to infinitely many generated samples ("FD∞", Chong & Forsyth 2020).

    Computes :math:`d_N` on random subsets of N generated samples, for ``n_sizes``
    values of N evenly spaced from ``min_fraction`` of them to all of them, fits
    :math:`d_N = d_\infty + b / N` by least squares and reports the intercept
    :math:`d_\infty`. The real statistics use every real sample throughout, so
    the bias from the real set's size remains (report its count).

    Returns ``fd_infinity``, ``slope`` (b), ``sizes``, ``values`` (:math:`d_N`),
    ``n_real`` and ``n_generated``.
    """
    real_stats = gaussian_statistics(real_features)
    fake = _as_features(fake_features, "frechet_distance_infinity")
    n = len(fake)
    sizes = np.unique(np.linspace(max(int(min_fraction * n), 2), n, n_sizes).astype(int))
    if len(sizes) < 2:
        raise ValueError(f"frechet_distance_infinity: {n} generated samples are too few to extrapolate")
    rng = np.random.default_rng(seed)
    values = [frechet_distance_from_statistics(*real_stats, *gaussian_statistics(fake[rng.choice(n, m, False)]))
              for m in sizes]
    slope, intercept = np.polyfit(1.0 / sizes, values, 1)
    return {"fd_infinity": float(intercept), "slope": float(slope), "sizes": sizes.tolist(),
            "values": [float(v) for v in values], "n_real": len(np.asarray(real_features)), "n_generated": n}


def _as_features(features, name: str) -> np.ndarray:
    array = np.asarray(features, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name}: expected features of shape (N, D), got {array.shape}")
    return array
