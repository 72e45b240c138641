"""A minimal data loader: shuffled minibatches from arrays, seeded, as named batches of tensors."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from minigan.autograd import Tensor
from minigan.autograd.tensor import to_device

__all__ = ["Batch", "DataLoader"]


@dataclass(frozen=True)
class Batch:
    """One minibatch: samples ``x`` and, where the data has them, integer labels ``y`` or paired samples ``x_b``.

    It unpacks like a tuple of the fields it has, as PyTorch's loaders
    yield tuples: ``(x,) = batch`` for unlabelled data, ``x, y = batch`` for
    labelled data.
    """

    x: Tensor
    y: Tensor | None = None
    x_b: Tensor | None = None

    def __len__(self) -> int:
        return self.x.shape[0]

    def __iter__(self):
        return iter([field for field in (self.x, self.y, self.x_b) if field is not None])


class DataLoader:
    """Iterate over minibatches of arrays, with their labels if given, reshuffled every epoch; each is a :class:`Batch`.

    ``pairs``, when given, is a second set of samples that every batch
    carries as ``x_b``: with ``paired=True`` (one pair per sample, same
    length) the pairs of the batch's samples, for paired image-to-image
    tasks; with ``paired=False`` (any length of at least ``batch_size``) an
    independent draw without replacement, for unpaired ones.

    The permutation comes from a NumPy generator seeded with ``seed``; its
    state is part of a training checkpoint, so a resumed run sees the same
    batches as an uninterrupted one.
    """

    def __init__(self, data: np.ndarray, labels: np.ndarray | None = None, batch_size: int = 64,
                 shuffle: bool = True, drop_last: bool = True, seed: int = 0, device: str = "cpu",
                 pairs: np.ndarray | None = None, paired: bool = True):
        if labels is not None and len(labels) != len(data):
            raise ValueError(f"DataLoader: {len(data)} samples but {len(labels)} labels")
        if batch_size < 1 or (drop_last and batch_size > len(data)):
            raise ValueError(f"DataLoader: batch_size {batch_size} does not fit {len(data)} samples")
        if pairs is not None and paired and len(pairs) != len(data):
            raise ValueError(f"DataLoader: {len(data)} samples but {len(pairs)} paired samples")
        if pairs is not None and not paired and batch_size > len(pairs):
            raise ValueError(f"DataLoader: batch_size {batch_size} does not fit {len(pairs)} unpaired samples")
        self.data, self.labels, self.pairs, self.paired = data, labels, pairs, paired
        self.batch_size, self.shuffle, self.drop_last, self.device = batch_size, shuffle, drop_last, device
        self.rng = np.random.default_rng(seed)
        self._order: np.ndarray | None = None  # the current epoch's permutation, for next_batch()
        self._position = 0

    def __len__(self) -> int:
        n = len(self.data) / self.batch_size
        return int(n) if self.drop_last else math.ceil(n)

    def _permutation(self) -> np.ndarray:
        return self.rng.permutation(len(self.data)) if self.shuffle else np.arange(len(self.data))

    def _batch(self, idx: np.ndarray):
        def tensor(array):
            return None if array is None else Tensor(to_device(array, self.device))

        x_b = None
        if self.pairs is not None:
            x_b = self.pairs[idx] if self.paired else self.pairs[self.rng.choice(len(self.pairs), len(idx), False)]
        return Batch(tensor(self.data[idx]), tensor(None if self.labels is None else self.labels[idx]), tensor(x_b))

    def __iter__(self):
        """One epoch."""
        order = self._permutation()
        for i in range(len(self)):
            yield self._batch(order[i * self.batch_size:(i + 1) * self.batch_size])

    def next_batch(self):
        """The next batch of an endless stream of epochs; its position is part of ``state_dict``."""
        if self._order is None or self._position + self.batch_size > len(self._order):
            self._order, self._position = self._permutation(), 0
        idx = self._order[self._position:self._position + self.batch_size]
        self._position += self.batch_size
        return self._batch(idx)

    def state_dict(self) -> dict:
        return {"rng": self.rng.bit_generator.state, "order": self._order, "position": self._position}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]
        self._order, self._position = state["order"], int(state["position"])
