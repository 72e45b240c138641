"""Retrain the bundled photo feature network, deterministically, with minigan itself.

    python -m minigan.metrics.train_photo_features [--out PATH] [--epochs 20] [--seed 0]

Adam on two softmax cross-entropies over the *train* crops of
:func:`minigan.data.photos` (32x32; the held-out columns of each photograph
are never read): which quarter-turn the crop was given (Gidaris et al.
2018) and which photograph it came from. Each epoch shows every crop once,
mirrored left-right at random and then turned by a random quarter-turn;
the mirror is a plausible new photograph, and the turn is the label. The
same seed gives the same weights, bit for bit, on the same machine and
kernels. Prints the accuracies on the held-out crops and writes the weights
to ``minigan/metrics/photo_features.safetensors`` unless told otherwise.
"""

from __future__ import annotations

import argparse

import numpy as np

import minigan as mg
import minigan.nn.functional as F
from minigan import data, optim
from minigan.metrics.features import save_weights
from minigan.metrics.photo_features import PHOTO_WEIGHTS_FORMAT, PHOTO_WEIGHTS_PATH, TURNS, PhotoFeatures

__all__ = ["train_photo_features", "quarter_turns", "pretext_accuracy"]


def quarter_turns(images: np.ndarray, turns: np.ndarray) -> np.ndarray:
    """Each image ``(N, C, H, W)`` (square) turned counter-clockwise by its own ``turns[i]`` quarter-turns."""
    out = np.empty_like(images)
    for k in range(TURNS):
        chosen = turns % TURNS == k
        out[chosen] = np.rot90(images[chosen], k, axes=(2, 3))
    return out


def pretext_accuracy(model: PhotoFeatures, crops) -> dict:
    """On an :class:`~minigan.data.ImageDataset` of crops: ``turn``, the share of the crops, each shown at all
    four quarter-turns, whose turn the network names (chance 0.25); ``photo``, the share whose photograph it
    names (chance 0.5)."""
    mode = model.training
    model.eval()
    try:
        with mg.no_grad():
            turned = [model(mg.tensor(quarter_turns(crops.images, np.full(len(crops), k)))).numpy()
                      for k in range(TURNS)]
    finally:
        model.train(mode)
    turn = np.mean([(logits[:, :TURNS].argmax(1) == k).mean() for k, logits in enumerate(turned)])
    photo = (turned[0][:, TURNS:].argmax(1) == crops.labels).mean()
    return {"turn": float(turn), "photo": float(photo)}


def train_photo_features(epochs: int = 20, seed: int = 0, batch_size: int = 64, lr: float = 2e-3,
                         log=None) -> PhotoFeatures:
    """A :class:`PhotoFeatures` trained from ``seed`` on the photos' train crops; returned in eval mode."""
    mg.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train = data.photos("train", 32)
    model = PhotoFeatures()
    opt = optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = len(train) // batch_size
    for epoch in range(epochs):
        for g in opt.param_groups:  # cosine decay: large steps early, a settled minimum at the end
            g["lr"] = lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
        order = rng.permutation(len(train))
        for i in range(steps_per_epoch):
            idx = order[i * batch_size:(i + 1) * batch_size]
            images = train.images[idx]
            mirrored = rng.random(len(idx)) < 0.5
            images = np.where(mirrored[:, None, None, None], images[..., ::-1], images)
            turns = rng.integers(0, TURNS, len(idx))
            logits = model(mg.tensor(np.ascontiguousarray(quarter_turns(images, turns))))
            loss = (F.cross_entropy(logits[:, :TURNS], mg.tensor(turns))
                    + F.cross_entropy(logits[:, TURNS:], mg.tensor(train.labels[idx])))
            opt.zero_grad()
            loss.backward()
            opt.step()
        if log is not None:
            log(f"epoch {epoch + 1}/{epochs}: last batch loss {loss.item():.4f}")
    model.eval()
    maps = model.features(train.images)  # the scales are 1 until now
    model.feature_scales.array[:] = [np.sqrt(np.mean(m ** 2)) for m in maps]
    return model


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m minigan.metrics.train_photo_features",
                                description=__doc__.split("\n")[0])
    p.add_argument("--out", default=str(PHOTO_WEIGHTS_PATH), help="where to write the weights (.safetensors)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    model = train_photo_features(args.epochs, args.seed, log=print)
    test, train = pretext_accuracy(model, data.photos("test", 32)), pretext_accuracy(model, data.photos("train", 32))
    print(f"quarter-turn accuracy: train {train['turn']:.4f}, test {test['turn']:.4f}; "
          f"photograph accuracy: train {train['photo']:.4f}, test {test['photo']:.4f}")
    info = {"test_turn_accuracy": test["turn"], "test_photo_accuracy": test["photo"], "epochs": args.epochs,
            "seed": args.seed}
    save_weights(model, args.out, info, format=PHOTO_WEIGHTS_FORMAT)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
