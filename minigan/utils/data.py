"""``Dataset``, ``TensorDataset`` and ``DataLoader`` with the names and semantics of ``torch.utils.data``.

A PyTorch script's ``from torch.utils.data import DataLoader, TensorDataset``
becomes ``from minigan.utils.data import DataLoader, TensorDataset``::

    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, drop_last=True)
    for xb, yb in loader:          # a list [xb, yb] of minigan Tensors, as torch's default collate gives
        ...

Differences from PyTorch, on purpose:

- everything runs in the calling process: ``num_workers``, ``pin_memory``,
  ``timeout``, ``worker_init_fn``, ``multiprocessing_context``,
  ``prefetch_factor``, ``persistent_workers`` and ``pin_memory_device`` are
  accepted so scripts run unchanged, and ignored;
- the shuffled order is a permutation drawn from a :class:`minigan.Generator`
  (the one given, else minigan's default generator), so ``mg.manual_seed``
  makes it reproducible; it is not the order ``torch.randperm`` would give.

This is not :class:`minigan.data.DataLoader`, the array loader the trainer
uses (it yields :class:`~minigan.data.Batch` objects).
"""

from __future__ import annotations

import collections.abc
import math

import numpy as np

from minigan.autograd import Tensor, creation
from minigan.ops import stack

__all__ = ["DataLoader", "Dataset", "TensorDataset", "default_collate", "default_convert"]


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__()``, as ``torch.utils.data``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class TensorDataset(Dataset):
    """Rows of tensors that share their first dimension: item ``i`` is ``tuple(t[i] for t in tensors)``."""

    def __init__(self, *tensors):
        tensors = tuple(t if isinstance(t, Tensor) else Tensor(np.asarray(t)) for t in tensors)
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        if any(t.ndim == 0 for t in tensors):
            raise ValueError("TensorDataset: every tensor needs a first dimension, got a 0-d tensor")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) > 1:
            raise ValueError(f"Size mismatch between tensors: TensorDataset needs tensors of one length along "
                             f"their first dimension, got lengths {sizes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


# -- collation -----------------------------------------------------------------------------------------------

def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def _is_numeric_array(x) -> bool:
    return isinstance(x, np.ndarray) and x.dtype.kind not in "OSUV"


def default_convert(data):
    """NumPy arrays (and NumPy scalars) in ``data`` become Tensors, containers kept; as torch's ``default_convert``."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)):
        return Tensor(np.asarray(data)) if _is_numeric_array(np.asarray(data)) else data
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(value) for key, value in data.items()}
        try:
            return converted if type(data) is dict else type(data)(converted)
        except TypeError:
            return converted
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data


def _stack(tensors: list[Tensor]) -> Tensor:
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, got shapes {sorted(shapes)}")
    if any(t.requires_grad for t in tensors):
        return stack(tensors, 0)  # differentiable, as torch.stack
    return Tensor(tensors[0].xp.stack([t.array for t in tensors]))


def default_collate(batch):
    """Merge a list of samples into a batch, as ``torch.utils.data.default_collate``.

    Tensors (and NumPy arrays) are stacked along a new first dimension; Python
    floats become a float64 Tensor, ints an int64 Tensor, bools a bool Tensor,
    NumPy scalars a Tensor of their dtype; strings stay a list; dicts, named
    tuples and sequences are collated field by field (a tuple gives a list, as
    in PyTorch).
    """
    batch = list(batch)
    if not batch:
        raise ValueError("default_collate: empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if not _is_numeric_array(elem):
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                            f"found a numpy array of dtype {elem.dtype}")
        return _stack([Tensor(np.asarray(b)) for b in batch])
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        return Tensor(np.asarray(batch))
    if isinstance(elem, (bool, np.bool_)):
        return Tensor(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if len({len(e) for e in batch}) > 1:
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = [default_collate(samples) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return transposed  # a list, as PyTorch
        try:
            return type(elem)(transposed)
        except TypeError:
            return transposed
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                    f"found {type(elem).__name__}")


# -- the loader ----------------------------------------------------------------------------------------------

class DataLoader:
    """Batches of a dataset, as ``torch.utils.data.DataLoader`` (single-process).

    Each pass draws its order afresh: ``shuffle=True`` takes a permutation from
    ``generator`` (a :class:`minigan.Generator`), else from minigan's default
    generator, so ``mg.manual_seed(s)`` before the loop gives the same batches.
    ``len(loader)`` is the number of batches: ``ceil(n / batch_size)``, or
    ``floor`` with ``drop_last=True``. ``batch_size=None`` turns batching off:
    each sample comes out alone, its NumPy arrays turned into Tensors.
    ``sampler`` (an iterable of indices) and ``batch_sampler`` (an iterable of
    lists of indices) work as in PyTorch. The multi-process options are
    accepted and ignored: loading happens in the calling process.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None, sampler=None,
                 batch_sampler=None, num_workers: int = 0, collate_fn=None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor=None, persistent_workers: bool = False,
                 pin_memory_device: str = ""):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative")
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                       or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if generator is not None and not isinstance(generator, creation.Generator):
            raise TypeError(f"generator must be a minigan.Generator, got {type(generator).__name__}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.num_workers = num_workers  # ignored: single-process
        self.pin_memory = pin_memory  # ignored
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self._auto_collation = batch_size is not None or batch_sampler is not None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._default_collate = collate_fn is default_collate

    def _indices(self):
        """One pass's order of sample indices."""
        if self.sampler is not None:
            return iter(self.sampler)
        n = len(self.dataset)
        if self.shuffle:
            return iter((self.generator or creation.default_generator).rng.permutation(n).tolist())
        return iter(range(n))

    def _batches(self):
        if self.batch_sampler is not None:
            yield from (list(b) for b in self.batch_sampler)
            return
        batch = []
        for index in self._indices():
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def _fetch(self, indices: list[int]):
        if self._default_collate and type(self.dataset) is TensorDataset:
            rows = np.asarray(indices, dtype=np.int64)  # one gather per tensor: the same as stacking its rows
            return [Tensor(t.array[t.xp.asarray(rows)]) if not t.requires_grad else _stack([t[i] for i in indices])
                    for t in self.dataset.tensors]
        getitems = getattr(self.dataset, "__getitems__", None)
        samples = getitems(indices) if getitems is not None else [self.dataset[i] for i in indices]
        return self.collate_fn(samples)

    def __iter__(self):
        if not self._auto_collation:
            for index in self._indices():
                yield self.collate_fn(self.dataset[index])
            return
        for indices in self._batches():
            yield self._fetch(indices)

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
