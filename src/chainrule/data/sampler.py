"""Samplers: the order in which a DataLoader visits a map-style dataset, as ``torch.utils.data``'s.

A sampler is an iterable of dataset indices (Python ints); a ``BatchSampler`` groups another
sampler's indices into lists. The random ones draw from ``generator`` (a ``numpy.random.Generator``)
when given; otherwise each pass draws one seed from chainrule's default generator, so
``cr.manual_seed`` makes every pass reproducible and a pass costs the default generator one draw
whatever the dataset's size (PyTorch's scheme).
"""

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError
from ..random import default_generator, rng


def _pass_generator(generator):
    """The generator one pass draws from: ``generator``, else a fresh one seeded from the default generator."""
    if generator is not None:
        return rng(None, generator)
    return np.random.default_rng(int(default_generator().integers(2**63)))


def _positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ArgumentError(f"{what} should be a positive integer, got {value!r}")
    return int(value)


def _flag(value, what, error=ArgumentError):
    """``value`` as a bool; anything else raises ``error`` (the built-in kind PyTorch raises there)."""
    if not isinstance(value, bool | np.bool_):
        raise error(f"{what} should be a boolean value, got {value!r}")
    return bool(value)


class Sampler:
    """Base class: a subclass defines ``__iter__`` (yielding indices) and usually ``__len__``."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} does not define __iter__()")


class SequentialSampler(Sampler):
    """The indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random indices of ``data_source``: a fresh permutation each pass, or, with ``replacement``,
    ``num_samples`` independent draws.

    Without replacement ``num_samples`` (default ``len(data_source)``) may exceed the dataset's
    length: whole permutations follow one another, the last one cut short.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = _flag(replacement, "RandomSampler: replacement", ArgumentTypeError)
        self._num_samples = None if num_samples is None else _positive_int(num_samples, "RandomSampler: num_samples")
        self.generator = generator

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        count = self.num_samples
        if n == 0:
            if self.replacement and count:
                raise ArgumentError("RandomSampler: cannot draw samples with replacement from an empty dataset")
            return
        g = _pass_generator(self.generator)
        if self.replacement:
            yield from g.integers(0, n, size=count).tolist()
            return
        for _ in range(count // n):
            yield from g.permutation(n).tolist()
        yield from g.permutation(n)[: count % n].tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a fresh random order each pass (without replacement)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in _pass_generator(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices in ``[0, len(weights))``, index ``i`` drawn with probability ``weights[i] / sum``.

    ``replacement=False`` draws each index at most once, so ``num_samples`` cannot exceed the number
    of non-zero weights.
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        self.num_samples = _positive_int(num_samples, "WeightedRandomSampler: num_samples")
        self.replacement = _flag(replacement, "WeightedRandomSampler: replacement")
        w = np.asarray(weights._data if hasattr(weights, "_data") else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ArgumentError(f"WeightedRandomSampler: weights should be a 1-D sequence, got shape {w.shape}")
        if not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
            raise ArgumentError("WeightedRandomSampler: weights must be finite, non-negative and not all zero")
        nonzero = int(np.count_nonzero(w))
        if not self.replacement and self.num_samples > nonzero:
            raise ArgumentError(f"WeightedRandomSampler: cannot draw {self.num_samples} samples without replacement "
                                f"from {nonzero} non-zero weights")
        self.weights = w
        self.generator = generator

    def __iter__(self):
        g = _pass_generator(self.generator)
        p = self.weights / self.weights.sum()
        yield from g.choice(len(p), size=self.num_samples, replace=self.replacement, p=p).tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler`` (any iterable of indices); ``drop_last`` drops
    a short last list.

        >>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        self.sampler = sampler
        self.batch_size = _positive_int(batch_size, "BatchSampler: batch_size")
        self.drop_last = _flag(drop_last, "BatchSampler: drop_last")

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class _EpochRandomSampler(Sampler):
    """The DataLoader's ``shuffle=True`` order: epoch ``e`` is the permutation drawn from ``(seed, e)``.

    Every epoch's order follows from the seed alone, so a run resumed at epoch ``e`` sees the same
    batches as one that never stopped. The loader keeps ``seed`` and ``epoch`` up to date.
    """

    def __init__(self, data_source, seed, epoch=0):
        self.data_source = data_source
        self.seed = int(seed)
        self.epoch = int(epoch)

    def order(self, epoch):
        return np.random.default_rng([self.seed, int(epoch)]).permutation(len(self.data_source))

    def __iter__(self):
        return iter(self.order(self.epoch).tolist())

    def __len__(self):
        return len(self.data_source)
