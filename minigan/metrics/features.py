r"""The bundled feature network for 8x8 digits: a small convolutional classifier.

Fréchet distance, KID, precision/recall and density/coverage compare images
through a feature map, and the Inception-style score needs class
probabilities. For ImageNet those come from Inception-v3; for the 8x8 digits
minigan ships its own classifier, trained with minigan itself by
:mod:`minigan.metrics.train_classifier` (deterministic, about ten seconds on a CPU)::

    conv 3x3, 1->16, ReLU          (N, 16, 8, 8)
    conv 3x3 stride 2, 16->32, ReLU (N, 32, 4, 4)
    flatten, linear 512->64, ReLU   (N, 64)    <- features (divided by feature_scale)
    linear 64->10                   (N, 10)    <- logits; softmax gives p(y|x)

``feature_scale`` is the root-mean-square feature value over the train split,
fixed at training time, so that features are O(1) per coordinate as the
KID kernel :math:`(x^\top y / d + 1)^3` assumes (it was designed for Inception
features of that size).

Any other feature function ``images -> (N, D) array`` can be passed to the
metrics instead.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

import minigan as mg
from minigan import nn
from minigan.serialization import load, save

__all__ = ["DigitsClassifier", "load_digits_classifier", "save_weights", "load_weights", "weights_info",
           "WEIGHTS_PATH", "FEATURE_DIM"]

WEIGHTS_PATH = Path(__file__).with_name("digits_classifier.safetensors")
WEIGHTS_FORMAT = "minigan-digits-classifier"
FEATURE_DIM = 64


class DigitsClassifier(nn.Module):
    """Images ``(N, 1, 8, 8)`` in [-1, 1] -> logits ``(N, 10)``; ``features`` and ``probabilities`` for metrics."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(32 * 4 * 4, FEATURE_DIM), nn.ReLU(),
        )
        self.head = nn.Linear(FEATURE_DIM, 10)
        self.register_buffer("feature_scale", mg.ones(1))

    def forward(self, x):
        return self.head(self.body(x))

    def features(self, images, batch_size: int = 1024) -> np.ndarray:
        """Penultimate-layer activations over ``feature_scale``, ``(N, 64)`` float64, of images ``(N, 1, 8, 8)``."""
        return self._map(self.body, images, batch_size) / float(self.feature_scale.numpy()[0])

    def probabilities(self, images, batch_size: int = 1024) -> np.ndarray:
        """Class probabilities :math:`p(y \\mid x)` ``(N, 10)``, float64: the softmax of the logits."""
        logits = self._map(self, images, batch_size)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def _map(self, fn, images, batch_size: int) -> np.ndarray:
        images = _as_digit_images(images)
        mode = self.training
        self.eval()
        try:
            with mg.no_grad():
                outs = [fn(mg.tensor(images[i:i + batch_size])).numpy() for i in range(0, len(images), batch_size)]
        finally:
            self.train(mode)
        return np.concatenate(outs).astype(np.float64)


def _as_digit_images(images) -> np.ndarray:
    array = images.numpy() if isinstance(images, mg.Tensor) else np.asarray(images)
    if array.ndim != 4 or array.shape[1:] != (1, 8, 8):
        raise ValueError(f"DigitsClassifier: expected images of shape (N, 1, 8, 8) in [-1, 1], got {array.shape}; "
                         "pass your own feature function for other data")
    return array.astype(np.float32, copy=False)


def save_weights(module: nn.Module, path, info: dict | None = None, format: str = WEIGHTS_FORMAT) -> Path:  # noqa: A002
    """Write ``module``'s state dict with :func:`minigan.serialization.save` (atomic), plus ``info`` on its training,
    marked as weights of the kind ``format`` names (the digits classifier's by default)."""
    save({"format": format, "info": dict(info or {}), "state_dict": dict(module.state_dict())}, path)
    return Path(path)


def load_weights(module: nn.Module, path, format: str = WEIGHTS_FORMAT) -> nn.Module:  # noqa: A002
    """Load what :func:`save_weights` wrote into ``module``; a file marked as another ``format`` is refused."""
    state = load(path)
    if not isinstance(state, dict) or state.get("format") != format:
        raise ValueError(f"{path} does not hold {format} weights")
    module.load_state_dict(state["state_dict"])
    return module


def weights_info(path=None) -> dict:
    """How the weights at ``path`` (default: the shipped classifier's) were trained: test accuracy, epochs, seed."""
    return load(path or WEIGHTS_PATH)["info"]


@functools.lru_cache(maxsize=4)
def load_digits_classifier(path=None) -> DigitsClassifier:
    """The shipped classifier (or one saved at ``path``), in eval mode; cached, so call it freely."""
    path = Path(path) if path is not None else WEIGHTS_PATH
    if not path.exists():
        raise FileNotFoundError(f"digits classifier weights not found at {path}; "
                                "recreate them with `python -m minigan.metrics.train_classifier`")
    return load_weights(DigitsClassifier(), path).eval()
