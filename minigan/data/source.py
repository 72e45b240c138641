"""What a training run draws its real samples from: a loader and what is known of the data behind it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minigan.data.loader import DataLoader
from minigan.data.toy import ToyDistribution

__all__ = ["DataSource"]


@dataclass
class DataSource:
    """Real samples for training: a loader, the sample shape, and (for toys) the distribution itself."""

    loader: DataLoader
    shape: tuple[int, ...]
    kind: str                                   # "image" or "toy"
    name: str = ""
    toy: ToyDistribution | None = None

    @property
    def samples(self) -> np.ndarray:
        """Every training sample, ``(N, *shape)``."""
        return self.loader.data

    @property
    def labels(self) -> np.ndarray | None:
        """The training samples' integer labels ``(N,)``, or None for unlabelled data."""
        return self.loader.labels

    @property
    def num_classes(self) -> int:
        """How many classes the labels name (0 for unlabelled data)."""
        return 0 if self.labels is None else int(self.labels.max()) + 1
