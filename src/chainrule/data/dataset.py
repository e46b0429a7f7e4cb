"""Datasets, as ``torch.utils.data``'s, and ``default_collate``, which stacks samples into a batch.

A map-style ``Dataset`` has ``len()`` and ``ds[i]`` -> a sample (a Tensor, an array, a number, or a
tuple, list or dict of them); an ``IterableDataset`` is iterated instead. A map-style dataset may
also define ``get_batch(indices)`` returning a whole stacked batch (chainrule's fast path: one
gather per array instead of one fetch per sample), or PyTorch's ``__getitems__(indices)``
returning a list of samples.
"""

import bisect
import collections.abc
import copy
import math
import warnings
from itertools import chain

import numpy as np

from ..errors import ArgumentError, DTypeError, OutOfRangeError, ShapeError
from ..random import rng
from ..tensor import Tensor, _to_array, default_float


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__(i)`` and ``__len__``.

    ``a + b`` is ``ConcatDataset([a, b])``. A subclass may also define ``get_batch(indices)``
    returning the stacked batch directly, which the DataLoader then uses instead of fetching and
    collating samples one by one.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} does not define __getitem__()")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of datasets read as a stream: subclasses define ``__iter__`` (and ``__len__`` if known).

    The DataLoader batches what ``iter(dataset)`` yields, in that order; ``a + b`` chains two of them.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} does not define __iter__()")

    def __add__(self, other):
        return ChainDataset([self, other])


def _rows(t):
    """An array to take rows from: the caller's own array when it needs no conversion (no copy, as PyTorch)."""
    a = t._data if isinstance(t, Tensor) else t
    if isinstance(a, np.ndarray) and a.dtype.kind in "biuf" and a.dtype != np.float64:
        return a
    return _to_array(a)  # lists, float64 (to float32), other sequences: converted once


class TensorDataset(Dataset):
    """Samples are the rows of the given arrays or Tensors (same first dimension); float64 becomes float32.

    ``ds[i]`` is a tuple of Tensors (views of row ``i``). ``tensors`` holds the arrays: those that
    need no conversion are the caller's own, not copied; each batch is gathered into a fresh array
    and the arrays themselves are only read.
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
        return tuple(Tensor._wrap(np.asarray(t[index])) for t in self.tensors)

    def get_batch(self, indices):
        return [t[indices] for t in self.tensors]  # one gather (one copy) per array; a list, as default_collate's


class ConcatDataset(Dataset):
    """The samples of several map-style datasets, one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ArgumentError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise ArgumentError("ConcatDataset does not take an IterableDataset; chain those with ChainDataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise OutOfRangeError(f"ConcatDataset: index {index} is out of range for {n} samples")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        return self.datasets[which][index - (self.cumulative_sizes[which - 1] if which else 0)]


class ChainDataset(IterableDataset):
    """The samples of several iterable datasets, one stream after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)

    def __iter__(self):
        return chain.from_iterable(self.datasets)

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (kept as an int64 array)."""

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

    def __getitems__(self, indices):
        inner = self.indices[np.asarray(indices, dtype=np.int64)].tolist()
        getitems = getattr(self.dataset, "__getitems__", None)
        return getitems(inner) if getitems else [self.dataset[i] for i in inner]

    def get_batch(self, indices):
        inner = self.indices[indices]
        if hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(inner)
        return default_collate(self.__getitems__(indices))


def random_split(dataset, lengths, generator=None, *, seed=None):
    """Split ``dataset`` into non-overlapping random Subsets of the given lengths.

    ``lengths`` are counts that add up to ``len(dataset)``, or fractions that add up to 1 (each
    subset gets ``floor(n * fraction)`` samples and the remainder goes one by one to the first
    subsets, as PyTorch). The permutation is drawn from ``generator`` (or ``seed``), else from
    chainrule's default generator.
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, f in enumerate(lengths):
            if not 0 <= f <= 1:
                raise ArgumentError(f"random_split: the fraction at index {i} is {f}, not between 0 and 1")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, k in enumerate(counts):
            if k == 0:
                warnings.warn(f"random_split: the split at index {i} is empty", stacklevel=2)
        lengths = counts
    if any(int(x) != x or x < 0 for x in lengths) or sum(lengths) != n:
        raise ArgumentError(f"random_split: lengths {lengths} must be non-negative and add up to {n} (or be fractions)")
    perm = rng(seed, generator).permutation(n)
    out, start = [], 0
    for k in lengths:
        out.append(Subset(dataset, perm[start : start + int(k)]))
        start += int(k)
    return out


# ---- collation -------------------------------------------------------------------------------------------

_COLLATE_TYPES = "tensors, NumPy arrays, numbers, dicts or lists"


def _numeric(a, where):
    """``a`` as a Tensor's array: numbers only; float64 becomes chainrule's default float (float32)."""
    if a.dtype.kind not in "biuf":
        raise DTypeError(f"{where}: batch must contain {_COLLATE_TYPES}; found an array of dtype {a.dtype}")
    return a.astype(default_float) if a.dtype == np.float64 else a


def _stack(arrays, what):
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        first = arrays[0].shape
        i, other = next((i, a.shape) for i, a in enumerate(arrays) if a.shape != first)
        raise ShapeError(f"default_collate: cannot stack {what} of different shapes: {first} (sample 0) and "
                         f"{other} (sample {i}); pad them in a collate_fn, or use batch_size=1")
    return np.stack(arrays)


def default_collate(batch):
    """Stack a list of samples into one batch of the same structure, as PyTorch's ``default_collate``.

    Tensors, NumPy arrays and numbers are stacked into a Tensor with a new first dimension; dicts,
    namedtuples, tuples and lists are collated field by field (a tuple of fields becomes a list,
    as in PyTorch); strings are kept as a list. Dtypes follow PyTorch: Python ints become int64,
    bools bool, NumPy arrays and scalars keep their dtype, with one departure: float64 (Python
    floats, NumPy float64) becomes float32, chainrule's default float, as in ``cr.tensor``
    (PyTorch gives float64 there). A float64 *Tensor* stays float64.
    """
    if not isinstance(batch, collections.abc.Sequence) or not len(batch):
        raise ArgumentError(f"default_collate: expected a non-empty list of samples, got {type(batch).__name__}")
    elem = batch[0]
    if isinstance(elem, Tensor):
        if any(b.requires_grad for b in batch if isinstance(b, Tensor)):
            from ..functional import stack  # differentiable, as torch.stack

            return stack(list(batch), axis=0)
        return Tensor._wrap(_stack([b._data if isinstance(b, Tensor) else np.asarray(b) for b in batch], "tensors"))
    if isinstance(elem, np.ndarray):
        return Tensor._wrap(_stack([_numeric(np.asarray(b), "default_collate") for b in batch], "arrays"))
    if isinstance(elem, np.generic):
        return Tensor._wrap(_numeric(np.array(batch), "default_collate"))
    if isinstance(elem, bool | int | float):
        a = np.array(batch)
        return Tensor._wrap(a.astype(np.int64) if a.dtype.kind == "i" else _numeric(a, "default_collate"))
    if isinstance(elem, str | bytes):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        fields = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(fields)
                return clone
            return type(elem)(fields)
        except TypeError:  # a mapping type that cannot be built from a dict
            return fields
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise ShapeError(f"default_collate: each sample must have the same number of fields, got "
                             f"{sorted({len(b) for b in batch})}")
        fields = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return fields
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                clone[:] = fields
                return clone
            return type(elem)(fields)
        except TypeError:
            return fields
    raise DTypeError(f"default_collate: batch must contain {_COLLATE_TYPES}; found {type(elem).__name__}")


def default_convert(data):
    """Turn NumPy arrays and scalars inside ``data`` into Tensors, without batching (``batch_size=None``).

    The structure is kept (a tuple becomes a list, as in PyTorch); Python numbers and strings stay
    as they are; float64 arrays become float32, as in ``default_collate``.
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray | np.generic):
        a = np.asarray(data)
        return Tensor._wrap(_numeric(a, "default_convert")) if a.dtype.kind in "biuf" else data
    if isinstance(data, collections.abc.Mapping):
        fields = {key: default_convert(v) for key, v in data.items()}
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update(fields)
                return clone
            return type(data)(fields)
        except TypeError:
            return fields
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, str | bytes):
        fields = [default_convert(d) for d in data]
        try:
            return type(data)(fields)
        except TypeError:
            return fields
    return data
