"""``DataLoader``: mini-batches from a dataset, in a fresh reproducible order each epoch."""

import math

import numpy as np

from ..errors import ArgumentError
from ..random import default_generator
from ..tensor import Tensor
from .dataset import default_collate


def _as_tensors(batch):
    if isinstance(batch, tuple | list):
        return tuple(_as_tensors(b) for b in batch)
    if isinstance(batch, Tensor):
        return batch
    a = batch if isinstance(batch, np.ndarray) else np.asarray(batch)
    return Tensor._wrap(a.astype(np.float32) if a.dtype == np.float64 else a)


class DataLoader:
    """Iterate over ``dataset`` in mini-batches of Tensors.

    ``shuffle=True`` draws a fresh permutation each epoch from ``(seed, epoch)``, so the order of
    every epoch is reproducible and a run resumed at epoch ``e`` (``set_epoch(e)``) sees the same
    batches as one that never stopped. Without ``seed`` one is drawn from chainrule's default
    generator (``cr.manual_seed`` makes it reproducible). ``drop_last`` drops a short last batch.
    Each batch is gathered with one copy per array when the dataset has ``get_batch``.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None, collate_fn=None):
        if isinstance(batch_size, bool) or not (isinstance(batch_size, int | np.integer) and batch_size >= 1):
            raise ArgumentError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        if seed is None:  # drawn only when needed, so that a loader without shuffling leaves the generator alone
            seed = int(default_generator().integers(2**31)) if shuffle else 0
        self.seed = int(seed)
        self.collate_fn = collate_fn
        self.epoch = 0

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def set_epoch(self, epoch):
        """Make the next iteration produce epoch ``epoch``'s order."""
        self.epoch = int(epoch)

    def state_dict(self):
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state):
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])

    def order(self, epoch):
        """The sample order of epoch ``epoch``."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, epoch]).permutation(n)

    def __iter__(self):
        order = self.order(self.epoch)
        self.epoch += 1
        stop = len(self) * self.batch_size
        fast = self.collate_fn is None and hasattr(self.dataset, "get_batch")
        for start in range(0, min(stop, len(order)), self.batch_size):
            idx = order[start : start + self.batch_size]
            if fast:
                batch = self.dataset.get_batch(idx)
            else:
                items = [self.dataset[int(i)] for i in idx]
                batch = (self.collate_fn or default_collate)(items)
            yield _as_tensors(batch)
