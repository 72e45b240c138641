r"""Pixel fidelity of paired image-to-image outputs: peak signal-to-noise ratio (PSNR) against the target.

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

__all__ = ["psnr"]


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
