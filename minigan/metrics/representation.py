r"""How much of the data an encoder's codes keep: nearest-neighbour accuracy, reconstruction error, and how well
it recovers the latents a generator was given.

For an encoder :math:`E` (BiGAN's, a VAE's), the codes of labelled samples
should sit near the codes of samples of the same class. The 1-nearest-neighbour
accuracy fits nothing: each test code takes the label of the closest training
code (Euclidean distance),

.. math:: \hat y_j = y_{i^*}, \quad i^* = \arg\min_i \lVert E(x^{test}_j) - E(x^{train}_i) \rVert_2,
          \qquad \mathrm{acc} = \tfrac1m \textstyle\sum_j [\hat y_j = y^{test}_j],

the reconstruction error of :math:`\hat x = G(E(x))` is the mean squared
error per value, :math:`\tfrac{1}{N d} \sum_i \lVert \hat x_i - x_i \rVert^2`, and the
latent recovery of an encoder that inverts :math:`G` is the Pearson correlation
of each latent with its code, :math:`\tfrac1k \sum_j \rho\bigl(z_j, E(G(z))_j\bigr)`:
1 for :math:`E = G^{-1}`, about 0 for an encoder that ignores :math:`G`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["nearest_neighbour_accuracy", "reconstruction_error", "latent_recovery"]


def nearest_neighbour_accuracy(train_codes, train_labels, test_codes, test_labels) -> dict:
    """1-NN accuracy of ``test_codes`` ``(m, k)`` labelled by the nearest of ``train_codes`` ``(n, k)``."""
    train, test = np.asarray(train_codes, np.float64), np.asarray(test_codes, np.float64)
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    if train.ndim != 2 or test.ndim != 2 or train.shape[1] != test.shape[1]:
        raise ValueError(f"nearest_neighbour_accuracy: codes must be (n, k) and (m, k), got {train.shape} and "
                         f"{test.shape}")
    if len(train_labels) != len(train) or len(test_labels) != len(test) or not len(train):
        raise ValueError(f"nearest_neighbour_accuracy: {len(train)} training codes with {len(train_labels)} labels, "
                         f"{len(test)} test codes with {len(test_labels)} labels")
    distances = (test**2).sum(1)[:, None] - 2 * test @ train.T + (train**2).sum(1)[None, :]
    predicted = train_labels[distances.argmin(axis=1)]
    return {"accuracy": float((predicted == test_labels).mean()), "n_train": len(train), "n_test": len(test)}


def reconstruction_error(samples, reconstructions) -> dict:
    """Mean squared error per value between ``samples`` and their ``reconstructions`` (same shape)."""
    x, x_hat = np.asarray(samples, np.float64), np.asarray(reconstructions, np.float64)
    if x.shape != x_hat.shape:
        raise ValueError(f"reconstruction_error: samples {x.shape} and reconstructions {x_hat.shape} differ")
    return {"mse": float(((x - x_hat) ** 2).mean()), "n": len(x)}


def latent_recovery(latents, codes) -> dict:
    """Mean over latent dimensions of the correlation between ``latents`` ``(N, k)`` and ``codes`` ``(N, k)``."""
    z, c = np.asarray(latents, np.float64), np.asarray(codes, np.float64)
    if z.ndim != 2 or z.shape != c.shape or len(z) < 2:
        raise ValueError(f"latent_recovery: latents and codes must both be (N, k) with N >= 2, got {z.shape} and "
                         f"{c.shape}")
    z, c = z - z.mean(0), c - c.mean(0)
    per_dimension = (z * c).sum(0) / np.sqrt((z**2).sum(0) * (c**2).sum(0))
    return {"correlation": float(per_dimension.mean()), "per_dimension": per_dimension.tolist(), "n": len(z)}
