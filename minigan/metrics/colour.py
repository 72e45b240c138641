r"""How far apart the colours of two sets of RGB images are, whatever the pictures show.

With :math:`B` bins per channel over [-1, 1], each pixel :math:`(r, g, b)`
falls in one of :math:`B^3` colour cells; :math:`p_k` is the share of all
pixels of the real images in cell :math:`k`, :math:`q_k` that of the fake
ones. The distance is their total variation,

.. math:: \mathrm{TV}(p, q) = \tfrac12 \sum_{k=1}^{B^3} \lvert p_k - q_k \rvert \in [0, 1],

0 when the colours are spread alike and 1 when no colour is shared. It
needs no feature network, so it reads any RGB images (the bundled digits
classifier reads 8x8 digits only). Beside it, the largest gap between the
per-channel means and standard deviations of all pixels.
"""

from __future__ import annotations

import numpy as np

__all__ = ["colour_distance"]


def colour_distance(real, fake, bins: int = 8) -> dict:
    r"""Colour-histogram distance of ``fake`` from ``real`` images, both ``(N, 3, H, W)`` in [-1, 1].

    Values outside [-1, 1] count in the outermost bins.

    Returns
    -------
    dict
        ``tv``: :math:`\mathrm{TV}(p, q)` over the :math:`B^3` colour cells (``bins`` = :math:`B`);
        ``mean_gap`` and ``std_gap``: the largest absolute difference, over the three channels, of the
        mean and of the standard deviation of all pixels.
    """
    real, fake = _rgb(real, "real"), _rgb(fake, "fake")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"colour_distance: bins must be a positive integer, got {bins!r}")
    p, q = _histogram(real, bins), _histogram(fake, bins)
    means = [x.mean(axis=(0, 2, 3), dtype=np.float64) for x in (real, fake)]  # (3,) each
    stds = [x.std(axis=(0, 2, 3), dtype=np.float64) for x in (real, fake)]
    return {"tv": float(0.5 * np.abs(p - q).sum()), "mean_gap": float(np.abs(means[0] - means[1]).max()),
            "std_gap": float(np.abs(stds[0] - stds[1]).max())}


def _histogram(images: np.ndarray, bins: int) -> np.ndarray:
    """The share of all pixels in each of the ``bins ** 3`` colour cells, ``(bins ** 3,)``."""
    cells = np.clip(np.floor((images + 1) / 2 * bins), 0, bins - 1).astype(np.int64)  # (N, 3, H, W)
    index = (cells[:, 0] * bins + cells[:, 1]) * bins + cells[:, 2]                    # (N, H, W)
    return np.bincount(index.ravel(), minlength=bins ** 3) / index.size


def _rgb(images, what: str) -> np.ndarray:
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1] != 3 or len(images) == 0:
        raise ValueError(f"colour_distance: {what} must be RGB images (N, 3, H, W) with N >= 1, got {images.shape}")
    if not np.isfinite(images).all():
        raise ValueError(f"colour_distance: {what} images hold NaN or infinity")
    return images
