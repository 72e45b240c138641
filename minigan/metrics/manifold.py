r"""k-nearest-neighbour manifold metrics: precision/recall and density/coverage.

Each sample :math:`x` of a set spans a ball of radius :math:`\mathrm{NND}_k(x)`,
its distance to its k-th nearest neighbour in the same set; the union of the
balls estimates the set's support (its "manifold"). With real samples
:math:`X = x_{1..N}` and generated :math:`Y = y_{1..M}`:

.. math::

    \text{precision} &= \frac1M \sum_j 1\big[y_j \in \textstyle\bigcup_i B(x_i, \mathrm{NND}_k(x_i))\big]
        && \text{(fidelity: fakes that look real)} \\
    \text{recall} &= \frac1N \sum_i 1\big[x_i \in \textstyle\bigcup_j B(y_j, \mathrm{NND}_k(y_j))\big]
        && \text{(diversity: reals the generator reaches)} \\
    \text{density} &= \frac{1}{kM} \sum_j \sum_i 1\big[y_j \in B(x_i, \mathrm{NND}_k(x_i))\big] \\
    \text{coverage} &= \frac1N \sum_i 1\big[\exists j: y_j \in B(x_i, \mathrm{NND}_k(x_i))\big]

Precision and recall (Kynkäänniemi et al. 2019, k = 3) are fooled by outliers:
one real outlier spans a huge ball that accepts many poor fakes, one fake
outlier can inflate recall. Density and coverage (Naeem et al. 2020, k = 5)
build balls around real samples only: density counts how many real balls hold
each fake (about 1 when the distributions match, above 1 when fakes crowd
dense regions), coverage counts real samples with a fake nearby. All four
depend on k and on the sample sizes, so compare them at equal N and M (the
papers use N = M).

Balls are closed, as in the original precision/recall code: a point exactly
at distance :math:`\mathrm{NND}_k` is inside. Every comparison is between
squared distances, each computed as :math:`\sum_d (a_d - b_d)^2` from the
difference, which gives the same number for a pair whichever set it is
measured from; so a tie is a tie. On two identical sets in general position,
each real ball then holds its centre and its k nearest neighbours: density
is :math:`(k + 1)/k` (1.2 for k = 5), precision, recall and coverage are 1.

References
----------
Kynkäänniemi et al., "Improved Precision and Recall Metric for Assessing Generative Models", NeurIPS 2019.
Naeem et al., "Reliable Fidelity and Diversity Metrics for Generative Models", ICML 2020.
"""

from __future__ import annotations

import numpy as np

__all__ = ["kth_neighbour_radii", "precision_recall", "density_coverage"]

_BLOCK_ELEMENTS = 1 << 22  # entries of the (rows, N, D) difference block: 32 MB in float64


def _squared_distances(a: np.ndarray, b: np.ndarray):
    r"""Blocks of :math:`\|a_i - b_j\|^2 = \sum_d (a_{id} - b_{jd})^2`, rows of ``a`` against all of ``b``.

    From the difference, not from :math:`\|a\|^2 + \|b\|^2 - 2 a \cdot b`: the pair (i, j)
    then has the same squared distance bit for bit as (j, i), so ties on a ball's edge stay ties.
    """
    rows = max(1, _BLOCK_ELEMENTS // max(1, b.size))
    for start in range(0, len(a), rows):
        yield ((a[start:start + rows, None, :] - b[None, :, :]) ** 2).sum(axis=2)


def _squared_radii(points: np.ndarray, k: int) -> np.ndarray:
    r""":math:`\mathrm{NND}_k^2` of every point: column k of its sorted squared distances (column 0 is itself)."""
    if not 1 <= k < len(points):
        raise ValueError(f"kth_neighbour_radii: k must be in [1, N - 1] = [1, {len(points) - 1}], got {k}")
    return np.concatenate([np.partition(d, k, axis=1)[:, k] for d in _squared_distances(points, points)])


def kth_neighbour_radii(points, k: int) -> np.ndarray:
    r""":math:`\mathrm{NND}_k` of every point ``(N,)``: the distance to its k-th nearest *other* point."""
    return np.sqrt(_squared_radii(_as_points(points), k))


def _inside_balls(queries: np.ndarray, centres: np.ndarray, squared_radii: np.ndarray) -> np.ndarray:
    """``(Q, C)`` booleans: is query q in the closed ball of squared radius ``squared_radii[c]`` around centre c."""
    return np.concatenate([d <= squared_radii[None, :] for d in _squared_distances(queries, centres)])


def precision_recall(real, fake, k: int = 3) -> dict:
    """Improved precision and recall (Kynkäänniemi et al. 2019): ``precision``, ``recall``, ``k``, sample counts."""
    real, fake = _as_points(real), _as_points(fake)
    precision = _inside_balls(fake, real, _squared_radii(real, k)).any(axis=1).mean()
    recall = _inside_balls(real, fake, _squared_radii(fake, k)).any(axis=1).mean()
    return {"precision": float(precision), "recall": float(recall), "k": k,
            "n_real": len(real), "n_generated": len(fake)}


def density_coverage(real, fake, k: int = 5) -> dict:
    """Density and coverage (Naeem et al. 2020): ``density``, ``coverage``, ``k``, sample counts."""
    real, fake = _as_points(real), _as_points(fake)
    inside = _inside_balls(fake, real, _squared_radii(real, k))     # (M, N): fake j in real ball i
    return {"density": float(inside.sum() / (k * len(fake))), "coverage": float(inside.any(axis=0).mean()),
            "k": k, "n_real": len(real), "n_generated": len(fake)}


def _as_points(array) -> np.ndarray:
    array = np.asarray(array, dtype=np.float64)
    return array.reshape(len(array), -1)
