"""Retrain the bundled digits classifier, deterministically, with minigan itself.

    python -m minigan.metrics.train_classifier [--out PATH] [--epochs 150] [--seed 0]

Adam on the softmax cross-entropy over the train split of
:func:`minigan.data.digits`, with random shifts of up to one pixel as
augmentation (the digits are small and centred, so a one-pixel shift is a
plausible new sample). The same seed gives the same weights, bit for bit, on
the same machine and kernels. Prints the test accuracy and writes the weights
to ``minigan/metrics/digits_classifier.safetensors`` unless told otherwise.
"""

from __future__ import annotations

import argparse

import numpy as np

import minigan as mg
import minigan.nn.functional as F
from minigan import data, optim
from minigan.metrics.features import WEIGHTS_PATH, DigitsClassifier, save_weights

__all__ = ["train_digits_classifier", "accuracy", "random_shifts"]

BACKGROUND = -1.0  # the value of a blank pixel in [-1, 1]


def random_shifts(images: np.ndarray, rng: np.random.Generator, max_shift: int = 1) -> np.ndarray:
    """Each image moved by its own random offset in ``[-max_shift, max_shift]^2``, padded with background."""
    n, _, h, w = images.shape
    s = max_shift
    padded = np.pad(images, ((0, 0), (0, 0), (s, s), (s, s)), constant_values=BACKGROUND)
    dy, dx = rng.integers(0, 2 * s + 1, size=(2, n))
    rows = dy[:, None] + np.arange(h)                                  # (N, H)
    cols = dx[:, None] + np.arange(w)                                  # (N, W)
    return padded[np.arange(n)[:, None, None], 0, rows[:, :, None], cols[:, None, :]][:, None]


def accuracy(model: DigitsClassifier, dataset) -> float:
    return float(np.mean(model.probabilities(dataset.images).argmax(1) == dataset.labels))


def train_digits_classifier(epochs: int = 150, seed: int = 0, batch_size: int = 64, lr: float = 2e-3,
                            log=None) -> DigitsClassifier:
    """A :class:`DigitsClassifier` trained from ``seed`` on the digits train split; returned in eval mode."""
    mg.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train = data.digits("train")
    model = DigitsClassifier()
    opt = optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = len(train) // batch_size
    for epoch in range(epochs):
        for g in opt.param_groups:  # cosine decay: large steps early, a settled minimum at the end
            g["lr"] = lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
        order = rng.permutation(len(train))
        for i in range(steps_per_epoch):
            idx = order[i * batch_size:(i + 1) * batch_size]
            x = mg.tensor(random_shifts(train.images[idx], rng))
            loss = F.cross_entropy(model(x), mg.tensor(train.labels[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        if log is not None:
            log(f"epoch {epoch + 1}/{epochs}: last batch loss {loss.item():.4f}")
    model.eval()
    model.feature_scale.array[:] = np.sqrt(np.mean(model.features(train.images) ** 2))  # the scale is 1 until now
    return model


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m minigan.metrics.train_classifier", description=__doc__.split("\n")[0])
    p.add_argument("--out", default=str(WEIGHTS_PATH), help="where to write the weights (.safetensors)")
    p.add_argument("--epochs", type=int, default=150)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    model = train_digits_classifier(args.epochs, args.seed, log=print)
    test_acc = accuracy(model, data.digits("test"))
    train_acc = accuracy(model, data.digits("train"))
    print(f"train accuracy {train_acc:.4f}, test accuracy {test_acc:.4f}")
    save_weights(model, args.out, {"test_accuracy": test_acc, "epochs": args.epochs, "seed": args.seed})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
