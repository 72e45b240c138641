r"""The Inception-style score: confident class predictions, spread over all classes.

.. math:: \mathrm{IS} = \exp\Big(\mathbb E_x\, \mathrm{KL}\big(p(y \mid x)\,\|\,p(y)\big)\Big),
          \qquad p(y) = \mathbb E_x\, p(y \mid x),

computed on each of ``splits`` disjoint parts of the samples (with that
part's own marginal p(y)) and reported as mean and standard deviation over
parts, as Salimans et al. do. Part i holds samples
:math:`\lfloor iN/s \rfloor` to :math:`\lfloor (i+1)N/s \rfloor - 1`, the boundaries of their
code, so the same probabilities give the same parts and the same score. It lies between 1 (every prediction equal to the
marginal) and the number of classes (confident predictions, classes used
equally). Named "Inception Score" only with Inception-v3's probabilities; with
the digits classifier it is the "Inception-style score (digits classifier)",
at most 10.

It never looks at real data: a generator that draws one perfect image per
class scores the maximum, and within-class diversity is invisible.

References
----------
Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016.
Barratt & Sharma, "A Note on the Inception Score", 2018.
"""

from __future__ import annotations

import numpy as np

__all__ = ["inception_score"]


def inception_score(probabilities, splits: int = 10) -> dict:
    """Score of class probabilities ``(N, K)``: ``score`` (mean over splits), ``std``, ``splits``, ``n_generated``."""
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or not np.allclose(p.sum(1), 1, atol=1e-4) or (p < 0).any():
        raise ValueError(f"inception_score: expected probabilities (N, K) with rows summing to 1, got shape {p.shape}")
    if not 1 <= splits <= len(p):
        raise ValueError(f"inception_score: splits must be between 1 and N = {len(p)}, got {splits}")
    bounds = [i * len(p) // splits for i in range(splits + 1)]  # as Salimans et al.'s code splits
    scores = [np.exp(_mean_kl_to_marginal(p[start:stop])) for start, stop in zip(bounds, bounds[1:])]
    return {"score": float(np.mean(scores)), "std": float(np.std(scores)), "splits": splits, "n_generated": len(p)}


def _mean_kl_to_marginal(p: np.ndarray) -> float:
    r""":math:`\frac1N \sum_n \sum_k p_{nk} (\log p_{nk} - \log \mu_{p,k})`, with :math:`0 \log 0 = 0`."""
    marginal = p.mean(axis=0)
    positive = p > 0  # where p > 0 the marginal is > 0 too
    terms = np.where(positive, p * (np.log(np.where(positive, p, 1)) - np.log(np.where(positive, marginal, 1))), 0)
    return float(terms.sum(axis=1).mean())
