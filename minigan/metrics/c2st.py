r"""Classifier two-sample test (Lopez-Paz & Oquab 2017): can a fresh classifier tell real from generated?

Take equally many real and generated samples, label them 1 and 0, split
both into a training and a held-out part, train a new critic (a small
minigan MLP, never the GAN's own discriminator) on the first and measure its
accuracy :math:`\hat t` on the :math:`n` held-out samples. If the two
distributions are equal no classifier beats chance, so under
:math:`H_0: P = Q` the number of correct held-out answers is
:math:`\mathrm{Binomial}(n, 1/2)` and the one-sided p-value is

.. math:: p = \Pr[\mathrm{Binomial}(n, 1/2) \ge n\hat t].

Accuracy near 0.5 means the critic found no difference it could learn; near 1
means the samples are easy to tell apart. Unlike the GAN's discriminator the
critic is trained to convergence on fixed samples, so its verdict is not
part of the game. It only sees what its architecture can pick up, and small
test sets give wide error bars (standard deviation :math:`1/(2\sqrt n)` under H0).

References
----------
Lopez-Paz & Oquab, "Revisiting Classifier Two-Sample Tests", ICLR 2017.
"""

from __future__ import annotations

import contextlib

import numpy as np
from scipy.special import bdtrc

import minigan as mg
import minigan.nn.functional as F
from minigan import nn, optim

__all__ = ["classifier_two_sample_test", "seeded"]


@contextlib.contextmanager
def seeded(seed: int):
    """Seed minigan's default generator (layer initialisation) for the block, then restore its state."""
    state = mg.default_generator.get_state()
    mg.manual_seed(seed)
    try:
        yield
    finally:
        mg.default_generator.set_state(state)


def classifier_two_sample_test(real, fake, hidden=(64, 64), steps: int = 1000, batch_size: int = 128,
                               lr: float = 1e-3, test_fraction: float = 0.5, seed: int = 0) -> dict:
    """Train a fresh MLP critic on real vs generated samples (flattened); its held-out accuracy and p-value.

    Returns ``accuracy``, ``p_value``, ``n_train``, ``n_test``, ``n_real``, ``n_generated``.
    """
    real, fake = _flat(real), _flat(fake)
    rng = np.random.default_rng(seed)
    x_train, y_train, x_test, y_test = _balanced_split(real, fake, test_fraction, rng)
    mean, std = x_train.mean(0), x_train.std(0) + 1e-8  # standardise with training statistics only
    with seeded(seed):
        critic = _train_critic((x_train - mean) / std, y_train, hidden, steps, batch_size, lr, rng)
    with mg.no_grad():
        logits = critic(mg.tensor(((x_test - mean) / std).astype(np.float32))).numpy()[:, 0]
    correct = int(np.sum((logits > 0) == (y_test == 1)))
    n_test = len(y_test)
    p_value = bdtrc(correct - 1, n_test, 0.5)  # Pr[Binomial(n, 1/2) > correct - 1]
    return {"accuracy": correct / n_test, "p_value": float(p_value),
            "n_train": len(y_train), "n_test": n_test, "n_real": len(real), "n_generated": len(fake)}


def _balanced_split(real, fake, test_fraction, rng):
    """The same number of real (label 1) and generated (label 0) samples, shuffled, split train/test."""
    m = min(len(real), len(fake))
    n_test = int(round(test_fraction * m))
    if not 0 < n_test < m:
        raise ValueError(f"classifier_two_sample_test: {m} samples per class leave no training or test set "
                         f"at test_fraction={test_fraction}")
    real, fake = real[rng.permutation(len(real))[:m]], fake[rng.permutation(len(fake))[:m]]
    x_test = np.concatenate([real[:n_test], fake[:n_test]])
    x_train = np.concatenate([real[n_test:], fake[n_test:]])
    y_test = np.repeat([1.0, 0.0], n_test)
    y_train = np.repeat([1.0, 0.0], m - n_test)
    return x_train, y_train, x_test, y_test


def _train_critic(x, y, hidden, steps, batch_size, lr, rng) -> nn.Module:
    layers, width = [], x.shape[1]
    for h in hidden:
        layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
        width = h
    critic = nn.Sequential(*layers, nn.Linear(width, 1))
    opt = optim.Adam(critic.parameters(), lr=lr)
    x, y = x.astype(np.float32), y.astype(np.float32)[:, None]
    for _ in range(steps):
        idx = rng.integers(0, len(x), size=min(batch_size, len(x)))
        loss = F.binary_cross_entropy_with_logits(critic(mg.tensor(x[idx])), mg.tensor(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return critic.eval()


def _flat(array) -> np.ndarray:
    array = np.asarray(array, dtype=np.float64)
    return array.reshape(len(array), -1)
