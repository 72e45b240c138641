"""Paths through a generator's latent space."""

import numpy as np

__all__ = ["slerp"]


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    r"""Spherical interpolation :math:`\frac{\sin((1-t)\Omega)}{\sin\Omega} a + \frac{\sin(t\Omega)}{\sin\Omega} b`,
    :math:`\cos\Omega = \hat a \cdot \hat b`, one row per entry of ``t``.

    A standard normal latent in :math:`d` dimensions has norm close to
    :math:`\sqrt d`; the straight line between two of them passes nearer the
    origin (norm :math:`\approx \sqrt{d/2}` halfway), where the generator saw
    no latents in training, while the arc keeps a typical norm (White 2016).
    Parallel endpoints (:math:`\Omega \approx 0`) fall back to the straight line.
    """
    cos = np.dot(a / np.linalg.norm(a), b / np.linalg.norm(b))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-6:
        return (1 - t)[:, None] * a + t[:, None] * b
    return (np.sin((1 - t) * omega)[:, None] * a + np.sin(t * omega)[:, None] * b) / np.sin(omega)
