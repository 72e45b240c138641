r"""Metrics of conditional generators: does a sample show the class it was asked for, and does each class look real?

- **Label accuracy**: a classifier :math:`f` trained on real data reads each
  sample made for class :math:`y`; the fraction it names :math:`y`,
  :math:`\frac1N \sum_n [\arg\max_k f(x_n)_k = y_n]` (the "classification
  accuracy" of Odena et al. 2017, on the bundled digits classifier).
- **Per-class Fréchet distance**: the Fréchet distance between the features
  of real samples of class :math:`c` and generated samples of class
  :math:`c`, for each class, and their mean. A generator can reach a good
  overall distance while mixing up classes; per class it cannot. For an
  unconditional generator the class of a sample is the classifier's
  prediction. With ~100 samples a class the estimate carries a large
  small-sample bias (see :mod:`minigan.metrics.frechet`): compare models only
  at the same sample counts.
- **Normalised mutual information** between a discrete code :math:`u` (the
  category an InfoGAN was given) and the class :math:`v` the classifier reads:

  .. math:: \mathrm{NMI}(u, v) = \frac{I(u; v)}{\tfrac12 (H(u) + H(v))},
            \qquad I(u; v) = \sum_{a,b} p_{ab} \log \frac{p_{ab}}{p_a p_b}

  with :math:`p` the empirical joint distribution. It is 1 when the code
  determines the class and the class the code (up to renaming), and about 0
  when they are independent; unlike accuracy it needs no matching of codes
  to classes. (scikit-learn's ``normalized_mutual_info_score`` with its
  default arithmetic mean computes the same.)

References
----------
Odena, Olah, Shlens. Conditional Image Synthesis with Auxiliary Classifier GANs. ICML 2017.
Chen et al. InfoGAN. NeurIPS 2016.
Strehl, Ghosh. Cluster Ensembles. JMLR 2002 (normalised mutual information).
"""

from __future__ import annotations

import numpy as np

from minigan.metrics.frechet import frechet_distance

__all__ = ["label_accuracy", "class_frechet_distance", "normalized_mutual_information", "code_mutual_information"]


def label_accuracy(requested, probabilities) -> dict:
    """How often the classifier's most likely class is the one asked for; per class too.

    ``requested`` ``(N,)`` integer classes, ``probabilities`` ``(N, K)`` the classifier's outputs.
    """
    requested, predicted = _labels(requested), np.asarray(probabilities).argmax(axis=1)
    if len(requested) != len(predicted):
        raise ValueError(f"label_accuracy: {len(requested)} requested labels but {len(predicted)} predictions")
    hits = predicted == requested
    classes = np.unique(requested)
    return {"accuracy": float(hits.mean()), "per_class": {int(c): float(hits[requested == c].mean()) for c in classes},
            "n_generated": len(requested)}


def class_frechet_distance(real_features, real_labels, fake_features, fake_labels) -> dict:
    """The Fréchet distance within each class present in both sets with at least 2 samples, and their mean.

    Returns ``mean``, ``per_class`` ``{class: distance}``, ``counts`` ``{class: [n_real, n_generated]}``
    and the totals ``n_real``, ``n_generated``.
    """
    real_labels, fake_labels = _labels(real_labels), _labels(fake_labels)
    real_features, fake_features = np.asarray(real_features), np.asarray(fake_features)
    per_class, counts = {}, {}
    for c in np.intersect1d(real_labels, fake_labels):
        real_c, fake_c = real_features[real_labels == c], fake_features[fake_labels == c]
        if min(len(real_c), len(fake_c)) >= 2:
            per_class[int(c)] = frechet_distance(real_c, fake_c)
            counts[int(c)] = [len(real_c), len(fake_c)]
    if not per_class:
        raise ValueError("class_frechet_distance: no class has 2 or more real and generated samples")
    return {"mean": float(np.mean(list(per_class.values()))), "per_class": per_class, "counts": counts,
            "n_real": sum(r for r, _ in counts.values()), "n_generated": sum(g for _, g in counts.values())}


def normalized_mutual_information(u, v) -> float:
    r""":math:`I(u; v) / \tfrac12 (H(u) + H(v))` of two integer labellings of the same samples.

    1 when both are constant (no entropy to share).
    """
    u, v = _labels(u), _labels(v)
    if len(u) != len(v):
        raise ValueError(f"normalized_mutual_information: {len(u)} and {len(v)} labels")
    _, a = np.unique(u, return_inverse=True)
    _, b = np.unique(v, return_inverse=True)
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1.0)
    joint /= len(u)
    pu, pv = joint.sum(axis=1), joint.sum(axis=0)
    nonzero = joint > 0
    mutual = float((joint[nonzero] * np.log(joint[nonzero] / np.outer(pu, pv)[nonzero])).sum())
    entropy = -float((pu * np.log(pu)).sum() + (pv * np.log(pv)).sum())
    return 1.0 if entropy == 0 else max(0.0, 2 * mutual / entropy)


def code_mutual_information(codes, probabilities) -> dict:
    """NMI between the categorical codes given to a generator ``(N,)`` and the classes read from its samples."""
    codes, predicted = _labels(codes), np.asarray(probabilities).argmax(axis=1)
    return {"nmi": normalized_mutual_information(codes, predicted), "n_generated": len(codes)}


def _labels(labels) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"expected one integer label per sample, shape (N,), got {labels.shape} of {labels.dtype}")
    return labels
