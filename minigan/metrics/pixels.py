r"""Pixels of image-to-image outputs: their fidelity to the target (PSNR) and how sharp they are (:func:`sharpness`).

For a target image :math:`x` and an output :math:`\hat x` with :math:`d` values
each, in a range of width :math:`R` (2 for images in [-1, 1]),

.. math:: \mathrm{MSE} = \tfrac1d \lVert \hat x - x \rVert^2, \qquad
          \mathrm{PSNR} = 10 \log_{10} \frac{R^2}{\mathrm{MSE}} \ \mathrm{dB},

computed per image and then averaged over the images, so one badly wrong image
does not hide behind many good ones as it would in a PSNR of the pooled MSE.
Doubling every error multiplies the MSE by 4 and lowers the PSNR by
:math:`20 \log_{10} 2 \approx 6.02` dB.
"""

from __future__ import annotations

import numpy as np

__all__ = ["psnr", "sharpness"]


def psnr(target, output, data_range: float = 2.0) -> dict:
    r"""Mean per-image PSNR in dB of ``output`` against ``target``, both ``(N, ...)`` (e.g. ``(N, C, H, W)``).

    Each image's MSE is taken over all its values, in float64, and its PSNR is
    :math:`10 \log_{10}(R^2 / \mathrm{MSE})` with :math:`R` = ``data_range``
    (2.0 for images in [-1, 1]). An image identical to its target has
    MSE 0 and PSNR ``inf``; no cap is applied, so the mean is ``inf`` as soon
    as one output is exact (``per_image`` and ``mse`` show which).

    Returns
    -------
    dict
        ``psnr``: the mean of the per-image PSNRs, in dB; ``mse``: the mean of
        the per-image MSEs (the MSE over all values); ``per_image``: the list of
        per-image PSNRs; ``n``: the number of images.

    Raises
    ------
    ValueError
        If the shapes differ, there are no images, an image has no values,
        an input is not finite, or ``data_range`` is not a positive number.
    """
    x, x_hat = np.asarray(target, np.float64), np.asarray(output, np.float64)
    if x.shape != x_hat.shape:
        raise ValueError(f"psnr: target {x.shape} and output {x_hat.shape} differ in shape")
    if x.ndim < 1 or len(x) == 0 or x[0].size == 0:
        raise ValueError(f"psnr: expected a batch (N, ...) of at least one non-empty image, got shape {x.shape}")
    if not (np.isfinite(x).all() and np.isfinite(x_hat).all()):
        raise ValueError("psnr: target and output must be finite (found NaN or infinity)")
    if not (np.isfinite(data_range) and data_range > 0):
        raise ValueError(f"psnr: data_range must be a positive number, got {data_range!r}")
    mse = ((x_hat - x) ** 2).reshape(len(x), -1).mean(axis=1)  # (N,)
    with np.errstate(divide="ignore"):
        per_image = 10.0 * np.log10(float(data_range) ** 2 / mse)
    return {"psnr": float(per_image.mean()), "mse": float(mse.mean()), "per_image": per_image.tolist(), "n": len(x)}


def sharpness(images) -> dict:
    r"""Root-mean-square gradient of each image, averaged over ``images`` ``(N, C, H, W)``: how much fine detail
    they hold.

    With forward differences along columns and rows of channel :math:`c`,
    :math:`g^x_{cij} = x_{c,i,j+1} - x_{cij}` and
    :math:`g^y_{cij} = x_{c,i+1,j} - x_{cij}`, taken where both exist
    (:math:`i < H - 1`, :math:`j < W - 1`),

    .. math:: S(x) = \Bigl(\frac{1}{C (H-1)(W-1)} \sum_{c,i,j} (g^x_{cij})^2 + (g^y_{cij})^2\Bigr)^{1/2} ,

    in the images' own units per pixel (for [-1, 1] images, a jump from
    black to white between neighbours is 2). :math:`S` is 0 for a flat
    image, :math:`|a|` for a ramp that rises by :math:`a` per column, and
    :math:`|k|\,S(x)` for :math:`k x`; adding a constant leaves it alone.

    The gradient is squared before it is averaged so that blur shows: a
    step of height :math:`h` spread over :math:`w` pixels keeps its total
    variation :math:`\sum |g| = h` (so a mean *absolute* gradient would not
    see the blur) but its :math:`\sum g^2` falls to :math:`h^2/w`. It says
    nothing of *which* detail is there, so it is read beside a fidelity
    measure (PSNR) and against the sharpness of the targets themselves: an
    output sharper than its targets holds detail (or noise) that they lack.

    Returns
    -------
    dict
        ``sharpness``: the mean of :math:`S` over the images; ``per_image``:
        the list of :math:`S` of each image; ``n``: the number of images.

    Raises
    ------
    ValueError
        For anything but a non-empty batch ``(N, C, H, W)`` with :math:`H, W \ge 2`, or values that are not finite.
    """
    x = np.asarray(images, np.float64)
    if x.ndim != 4 or len(x) == 0 or x.shape[1] == 0 or x.shape[2] < 2 or x.shape[3] < 2:
        raise ValueError(f"sharpness: expected images (N, C, H, W) with N, C >= 1 and H, W >= 2, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("sharpness: images must be finite (found NaN or infinity)")
    gx = x[:, :, :-1, 1:] - x[:, :, :-1, :-1]                         # (N, C, H-1, W-1)
    gy = x[:, :, 1:, :-1] - x[:, :, :-1, :-1]
    per_image = np.sqrt((gx ** 2 + gy ** 2).mean(axis=(1, 2, 3)))    # (N,)
    return {"sharpness": float(per_image.mean()), "per_image": per_image.tolist(), "n": len(x)}
