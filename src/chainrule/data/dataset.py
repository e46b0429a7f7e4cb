"""Datasets: anything with ``len()`` and ``ds[i]`` -> a tuple of arrays (features, target, ...)."""

import numpy as np

from ..errors import ArgumentError, ShapeError
from ..random import rng
from ..tensor import Tensor, _to_array


class Dataset:
    """Base class: subclasses define ``__len__`` and ``__getitem__(i)`` (a tuple of arrays, or one array).

    A subclass may also define ``get_batch(indices)`` returning the stacked batch directly, which
    the DataLoader then uses instead of fetching and stacking items one by one.
    """

    def __len__(self):
        raise NotImplementedError

    def __getitem__(self, index):
        raise NotImplementedError


def _rows(t):
    """An array to take rows from: the caller's own array when it needs no conversion (no copy, as PyTorch)."""
    a = t._data if isinstance(t, Tensor) else t
    if isinstance(a, np.ndarray) and a.dtype.kind in "biuf" and a.dtype != np.float64:
        return a
    return _to_array(a)  # lists, float64 (to float32), other sequences: converted once


class TensorDataset(Dataset):
    """Samples are the rows of the given arrays or Tensors (same first dimension); float64 becomes float32.

    Arrays that need no conversion are used as they are, not copied: each batch is gathered into
    a fresh array, and the arrays themselves are only read.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ArgumentError("TensorDataset: needs at least one array")
        self.tensors = tuple(_rows(t) for t in tensors)
        n = {len(t) if t.ndim else -1 for t in self.tensors}
        if len(n) != 1 or -1 in n:
            shapes = ", ".join(str(t.shape) for t in self.tensors)
            raise ShapeError(f"TensorDataset: all arrays need the same number of rows, got shapes {shapes}")

    def __len__(self):
        return len(self.tensors[0])

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def get_batch(self, indices):
        return tuple(t[indices] for t in self.tensors)  # one gather (one copy) per array


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        inner = self.indices[index]
        if inner.ndim:  # a slice or an index array: a batch
            return self.get_batch(index)
        return self.dataset[int(inner)]

    def get_batch(self, indices):
        inner = self.indices[indices]
        if hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(inner)
        return default_collate([self.dataset[int(i)] for i in inner])


def random_split(dataset, lengths, seed=None, generator=None):
    """Split ``dataset`` into non-overlapping random Subsets of the given lengths.

    ``lengths`` are counts that add up to ``len(dataset)``, or fractions that add up to 1
    (remainders go to the first subsets, as PyTorch).
    """
    n = len(dataset)
    lengths = list(lengths)
    if all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1) < 1e-6:
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(int(x) != x or x < 0 for x in lengths) or sum(lengths) != n:
        raise ArgumentError(f"random_split: lengths {lengths} must be non-negative and add up to {n} (or be fractions)")
    perm = rng(seed, generator).permutation(n)
    out, start = [], 0
    for k in lengths:
        out.append(Subset(dataset, perm[start : start + int(k)]))
        start += int(k)
    return out


def default_collate(items):
    """Stack a list of samples (tuples of arrays, or arrays) into a batch of the same structure."""
    first = items[0]
    if isinstance(first, tuple | list):
        return tuple(np.stack([np.asarray(it[j]) for it in items]) for j in range(len(first)))
    return np.stack([np.asarray(it) for it in items])
