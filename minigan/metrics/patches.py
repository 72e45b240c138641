r"""Judging images patch by patch: a fresh PatchGAN trained as a classifier, for two-sample tests and domain labels.

A PatchGAN (:class:`minigan.models.PatchDiscriminator`) gives one logit per
overlapping patch. Trained here on its own (never the GAN's D) with the
logistic loss on every patch logit, it scores an image by the mean of its
patch logits, :math:`s(v) = \frac{1}{|P|}\sum_{p \in P} D(v)_p`, and labels
it positive when :math:`s(v) > 0`. It sees local texture and colour only,
which is what an image-to-image model is asked to get right.

- :func:`patch_two_sample_test`: the classifier two-sample test of
  :mod:`minigan.metrics.c2st` with this classifier: on held-out halves,
  accuracy near 0.5 means the outputs' patches cannot be told from the
  targets'. With ``conditions`` the classifier reads each image beside its
  input, as pix2pix's D does, and judges pairs.
- :func:`train_patch_classifier`: the classifier itself, e.g. real domain-A
  against real domain-B crops, to ask what share of translated images it
  puts in the target domain.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import bdtrc

import minigan as mg
import minigan.nn.functional as F
from minigan import optim
from minigan.metrics.c2st import seeded
from minigan.models import PatchDiscriminator

__all__ = ["train_patch_classifier", "patch_two_sample_test"]

CHUNK = 500


def train_patch_classifier(negative, positive, layers: int = 1, width: int = 16, steps: int = 400,
                           batch_size: int = 32, lr: float = 5e-4, seed: int = 0) -> Callable[[np.ndarray], np.ndarray]:
    r"""A fresh PatchGAN trained to tell ``positive`` images (label 1) from ``negative`` ones (label 0).

    Both are ``(N, C, H, W)``. Each step draws ``batch_size`` images, half of
    each kind, and takes one Adam step on the mean over images and patches of
    the logistic loss :math:`\mathrm{softplus}(-D(v)_p)` (positive) or
    :math:`\mathrm{softplus}(D(v)_p)` (negative). Returns ``score``: images
    ``(M, C, H, W)`` -> ``(M,)`` mean patch logits :math:`s(v)`, positive for
    the images it puts with ``positive``. Deterministic for a given ``seed``.
    """
    negative, positive = _images(negative, "negative"), _images(positive, "positive")
    if negative.shape[1:] != positive.shape[1:]:
        raise ValueError(f"train_patch_classifier: image shapes differ, {negative.shape[1:]} and {positive.shape[1:]}")
    rng = np.random.default_rng(seed)
    with seeded(seed):
        D = PatchDiscriminator(negative.shape[1], width, layers, norm="none")
    opt = optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    half = max(1, batch_size // 2)
    for _ in range(steps):
        v = np.concatenate([negative[rng.integers(0, len(negative), half)],
                            positive[rng.integers(0, len(positive), half)]])
        logits = D(mg.tensor(v))
        target = np.broadcast_to(np.repeat([0.0, 1.0], half).astype(np.float32)[:, None, None, None], logits.shape)
        loss = F.binary_cross_entropy_with_logits(logits, mg.tensor(np.ascontiguousarray(target)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    D.eval()

    def score(images) -> np.ndarray:
        images = _images(images, "score")
        with mg.no_grad():
            return np.concatenate([D(mg.tensor(images[i:i + CHUNK])).numpy().mean(axis=(1, 2, 3))
                                   for i in range(0, len(images), CHUNK)])

    return score


def patch_two_sample_test(real, fake, conditions=None, test_fraction: float = 0.5, seed: int = 0,
                          **classifier) -> dict:
    """Classifier two-sample test of ``real`` against ``fake`` images with a fresh PatchGAN.

    Equally many of each (the smaller count) are split at random into a
    training part, on which :func:`train_patch_classifier` (``classifier``:
    its keyword arguments) learns real (1) from fake (0), and a held-out part
    of ``test_fraction`` on which its accuracy is measured. ``conditions``,
    when given, are the inputs of both (``real[i]`` and ``fake[i]`` share
    ``conditions[i]``), concatenated on channels. Returns ``accuracy``,
    ``p_value`` (one-sided binomial, as :func:`minigan.metrics.classifier_two_sample_test`),
    ``n_train`` and ``n_test`` (images of each kind).
    """
    real, fake = _images(real, "real"), _images(fake, "fake")
    if conditions is not None:
        conditions = _images(conditions, "conditions")
        if not len(conditions) == len(real) == len(fake):
            raise ValueError(f"patch_two_sample_test: {len(conditions)} conditions for {len(real)} real and "
                             f"{len(fake)} fake images; each pair shares one")
        real, fake = (np.concatenate([conditions, images], axis=1) for images in (real, fake))
    m = min(len(real), len(fake))
    n_test = int(round(test_fraction * m))
    if not 0 < n_test < m:
        raise ValueError(f"patch_two_sample_test: {m} images of each kind leave no training or test set at "
                         f"test_fraction={test_fraction}")
    order = np.random.default_rng(seed).permutation(m)  # one split of the pairs, shared by real and fake
    test, train = order[:n_test], order[n_test:]
    score = train_patch_classifier(fake[train], real[train], seed=seed, **classifier)
    correct = int((score(real[test]) > 0).sum() + (score(fake[test]) <= 0).sum())
    n = 2 * n_test
    return {"accuracy": correct / n, "p_value": float(bdtrc(correct - 1, n, 0.5)), "n_train": len(train),
            "n_test": n_test}


def _images(array, what: str) -> np.ndarray:
    array = np.asarray(array, dtype=np.float32)
    if array.ndim != 4 or len(array) == 0:
        raise ValueError(f"patch classifier: {what} must be images (N, C, H, W) with N >= 1, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"patch classifier: {what} images hold NaN or infinity")
    return array
