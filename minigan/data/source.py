"""What a training run draws its real samples from: a loader and what is known of the data behind it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minigan.data.loader import DataLoader
from minigan.data.toy import ToyDistribution

__all__ = ["DataSource"]


@dataclass
class DataSource:
    """Real samples for training: a loader, the sample shape, and (for toys) the distribution itself.

    For image-to-image tasks the loader also carries a second image per
    sample (``x_b`` of each batch: the target of a paired task, an image of
    the other domain for an unpaired one), ``shape_b`` is its shape, and
    ``held_out`` holds the task's test ``(inputs, targets)``, images no
    training batch contains, for pictures and figures. ``unseen`` holds real
    samples of a generative task that no training batch contains (the digits'
    test split, the photographs' held-out columns), for a score that must not
    read what D has memorised, or None where the data has no such split.
    """

    loader: DataLoader
    shape: tuple[int, ...]
    kind: str                                   # "image" or "toy"
    name: str = ""
    toy: ToyDistribution | None = None
    task: str = ""                              # the image-to-image task ("" for none): see data.task
    shape_b: tuple[int, ...] | None = None
    held_out: tuple[np.ndarray, np.ndarray] | None = None
    unseen: np.ndarray | None = None

    @property
    def samples(self) -> np.ndarray:
        """Every training sample, ``(N, *shape)``."""
        return self.loader.data

    @property
    def samples_b(self) -> np.ndarray | None:
        """Every training sample of the second kind (targets, or the other domain), or None."""
        return self.loader.pairs

    @property
    def paired(self) -> bool:
        """Whether ``samples[i]`` and ``samples_b[i]`` belong together (a paired task), not two domains."""
        return self.loader.pairs is not None and self.loader.paired

    @property
    def labels(self) -> np.ndarray | None:
        """The training samples' integer labels ``(N,)``, or None for unlabelled data."""
        return self.loader.labels

    @property
    def num_classes(self) -> int:
        """How many classes the labels name (0 for unlabelled data)."""
        return 0 if self.labels is None else int(self.labels.max()) + 1
