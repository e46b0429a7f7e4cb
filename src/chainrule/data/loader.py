"""``DataLoader``: mini-batches from a dataset, as ``torch.utils.data.DataLoader``, with background threads.

Workers are threads, not processes. NumPy releases the GIL in its copying, gathering and
arithmetic loops, so a thread that gathers, decodes or augments a batch with NumPy runs beside
the training step; and a thread shares the dataset instead of receiving a pickled copy of it, so a
dataset needs no pickling, starts instantly and holds its arrays once. (A dataset whose
``__getitem__`` is pure-Python work gains little from threads; that is the price.)
"""

import itertools
import queue
import threading
import weakref
from collections import deque

import numpy as np

from ..errors import ArgumentError, DataError
from ..random import rng
from ..tensor import Tensor, default_float
from .dataset import IterableDataset, default_collate, default_convert
from .sampler import BatchSampler, SequentialSampler, _EpochRandomSampler


def _as_tensors(batch):
    """The arrays inside ``batch`` as Tensors (float64 as float32); its structure and other values kept."""
    if isinstance(batch, Tensor):
        return batch
    if isinstance(batch, np.ndarray):
        if batch.dtype.kind not in "biuf":
            return batch
        return Tensor._wrap(batch.astype(default_float) if batch.dtype == np.float64 else batch)
    if isinstance(batch, tuple):
        fields = [_as_tensors(b) for b in batch]
        return type(batch)(*fields) if hasattr(batch, "_fields") else tuple(fields)
    if isinstance(batch, list):
        return [_as_tensors(b) for b in batch]
    if isinstance(batch, dict):
        out = batch.copy()
        out.update((k, _as_tensors(v)) for k, v in batch.items())
        return out
    return batch


# ---- worker threads ----------------------------------------------------------------------------------------

_local = threading.local()


class WorkerInfo:
    """What ``get_worker_info()`` tells code running in a worker thread: ``id``, ``num_workers``,
    ``seed`` (``base seed + id``) and ``dataset``."""

    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


def get_worker_info():
    """The ``WorkerInfo`` of the DataLoader worker thread calling it; None in any other thread."""
    return getattr(_local, "info", None)


def _add_note(error, note):
    if hasattr(error, "add_note"):  # Python 3.11+: shown under the traceback
        error.add_note(note)
    else:
        error.__notes__ = [*getattr(error, "__notes__", []), note]


class _Slot:
    """One batch being loaded by a worker: its result or exception, and an event set when it is there."""

    __slots__ = ("index", "event", "value", "error", "worker")

    def __init__(self, index):
        self.index = index
        self.event = threading.Event()
        self.value = self.error = self.worker = None

    def result(self, timeout):
        if not self.event.wait(timeout if timeout > 0 else None):
            raise DataError(f"DataLoader: batch {self.index} was not loaded within timeout={timeout} s")
        if self.error is not None:
            error, self.error = self.error, None  # (no reference cycle through the traceback)
            _add_note(error, f"(raised in DataLoader worker thread {self.worker} while loading batch {self.index})")
            raise error
        value, self.value = self.value, None
        return value


class _Run:
    """One pass of an iterator over the pool: stopped when the iterator ends, so its queued batches are skipped."""

    __slots__ = ("stopped",)

    def __init__(self):
        self.stopped = False


class _Pool:
    """``num_workers`` daemon threads taking (run, slot, function, argument) tasks from one queue.

    Daemon threads never keep the interpreter alive, so a dataset stuck in ``__getitem__`` cannot
    hang the program at exit.
    """

    def __init__(self, num_workers, worker_init_fn, dataset, base_seed):
        self.tasks = queue.SimpleQueue()
        self.threads = [
            threading.Thread(target=self._work, args=(i, num_workers, worker_init_fn, dataset, base_seed),
                             name=f"DataLoader worker {i}", daemon=True)
            for i in range(num_workers)
        ]
        for t in self.threads:
            t.start()

    def _work(self, wid, num_workers, worker_init_fn, dataset, base_seed):
        _local.info = WorkerInfo(wid, num_workers, base_seed + wid, dataset)
        init_error = None
        if worker_init_fn is not None:
            try:
                worker_init_fn(wid)
            except BaseException as e:  # noqa: BLE001 - handed to the main thread with the batches it spoils
                _add_note(e, f"(raised by worker_init_fn in DataLoader worker thread {wid})")
                init_error = e
        del dataset, worker_init_fn
        while True:
            task = self.tasks.get()
            if task is None:
                return
            run, slot, fn, arg = task
            del task
            if run.stopped:
                continue
            slot.worker = wid
            try:
                if init_error is not None:
                    raise init_error
                slot.value = fn(arg)
            except BaseException as e:  # noqa: BLE001 - re-raised in the main thread, naming the batch
                slot.error = e
            finally:
                slot.event.set()
                del run, slot, fn, arg

    def submit(self, run, slot, fn, arg):
        self.tasks.put((run, slot, fn, arg))

    def shutdown(self):
        """Tell every thread to stop after the batch it is loading; returns at once."""
        for _ in self.threads:
            self.tasks.put(None)


_END = object()
_POLL = 0.05  # seconds between looks at a worker that may have ended


def _produce(arg):
    """A worker's task for an IterableDataset: run ``make_batches()`` into the bounded queue ``out``."""
    make_batches, out, run = arg
    i = -1
    try:
        for i, batch in enumerate(make_batches()):
            while not run.stopped:
                try:
                    out.put((batch, None, i), timeout=_POLL)
                    break
                except queue.Full:
                    pass
            if run.stopped:
                return
        out.put((_END, None, i + 1))
    except BaseException as e:  # noqa: BLE001 - re-raised in the main thread, naming the batch
        out.put((None, e, i + 1))


# ---- the loader ------------------------------------------------------------------------------------------


def _batch_size(batch_size):
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not (isinstance(batch_size, int | np.integer) and batch_size >= 1):
        raise ArgumentError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r} "
                            "(None turns batching off)")
    return int(batch_size)


class DataLoader:
    """Iterate over ``dataset`` in mini-batches of Tensors, as ``torch.utils.data.DataLoader``.

    ``batch_size`` samples are fetched and stacked by ``collate_fn`` (``default_collate``) into one
    batch; ``batch_size=None`` turns batching off (each sample is converted by ``default_convert``).
    ``drop_last`` drops a short last batch. ``sampler`` (an iterable of indices) or
    ``batch_sampler`` (an iterable of index lists) choose the order of a map-style dataset; an
    ``IterableDataset`` is batched in the order it yields. Whatever ``collate_fn`` returns has its
    NumPy arrays wrapped as Tensors (float64 as float32).

    ``shuffle=True`` draws a fresh permutation each epoch from ``(seed, epoch)``, so the order of
    every epoch is reproducible and a run resumed at epoch ``e`` (``set_epoch(e)``) sees the same
    batches as one that never stopped. Without ``seed`` one is drawn when the loader is made, from
    ``generator`` or else chainrule's default generator (``cr.manual_seed`` makes it reproducible).
    A dataset with ``get_batch(indices)`` (TensorDataset, Subset) is gathered with one copy per
    array per batch.

    ``num_workers > 0`` loads batches in that many background threads (see the module's docstring
    for why threads): at most ``prefetch_factor * num_workers`` batches (default 2 per worker) are
    loaded ahead; they come out in order; an exception in a worker is raised again in the main
    thread with a note naming the worker and the batch; ``timeout`` (seconds, 0: no limit) bounds
    the wait for a batch (a ``DataError``). The threads stop when the iterator is exhausted, closed
    or garbage-collected, or, with ``persistent_workers``, when the loader is. ``worker_init_fn(id)``
    runs in each thread as it starts, and ``get_worker_info()`` there describes it. An
    ``IterableDataset`` is read by one worker thread (an iterator cannot be shared; PyTorch's
    processes would each yield a copy), its ``WorkerInfo`` saying ``num_workers=1``.

    ``pin_memory``, ``pin_memory_device`` and ``multiprocessing_context`` are accepted for PyTorch
    scripts and change nothing (batches live in host memory; workers are threads); ``in_order=False``
    is allowed and batches still come in order.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True, seed=None):
        batch_size = _batch_size(batch_size)
        shuffle = bool(shuffle)
        if isinstance(num_workers, bool) or not isinstance(num_workers, int | np.integer) or num_workers < 0:
            raise ArgumentError(f"DataLoader: num_workers must be a non-negative integer (0: load in the main "
                                f"thread), got {num_workers!r}")
        num_workers = int(num_workers)
        if num_workers == 0 and prefetch_factor is not None:
            raise ArgumentError("DataLoader: prefetch_factor needs num_workers > 0 (leave it None otherwise)")
        if num_workers == 0 and persistent_workers:
            raise ArgumentError("DataLoader: persistent_workers needs num_workers > 0")
        if num_workers > 0:
            prefetch_factor = 2 if prefetch_factor is None else prefetch_factor
            if isinstance(prefetch_factor, bool) or not isinstance(prefetch_factor, int | np.integer) \
                    or prefetch_factor < 1:
                raise ArgumentError(f"DataLoader: prefetch_factor must be a positive integer, got {prefetch_factor!r}")
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not timeout >= 0:
            raise ArgumentError(f"DataLoader: timeout must be a non-negative number of seconds, got {timeout!r}")
        iterable = isinstance(dataset, IterableDataset)
        if iterable and (shuffle or sampler is not None or batch_sampler is not None):
            raise ArgumentError("DataLoader: an IterableDataset sets its own order; shuffle, sampler and "
                                "batch_sampler cannot be given with one")
        if sampler is not None and shuffle:
            raise ArgumentError("DataLoader: sampler and shuffle=True exclude each other (shuffle in the sampler)")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ArgumentError("DataLoader: batch_sampler excludes batch_size, shuffle, sampler and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ArgumentError("DataLoader: batch_size=None turns batching off, so drop_last cannot be set")

        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = bool(drop_last)
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.generator = generator
        self._auto_collation = batch_sampler is not None or batch_size is not None
        self._default_collate = collate_fn is None
        self.collate_fn = collate_fn or (default_collate if self._auto_collation else default_convert)
        # the order needs no sampler objects when it is the default one: index arrays are sliced directly
        self._default_order = not iterable and sampler is None and batch_sampler is None
        if seed is None:  # drawn only when needed, so that a loader without shuffling leaves the generator alone
            seed = int(rng(None, generator).integers(2**31)) if shuffle else 0
        self._seed = int(seed)
        self._epoch = 0
        if iterable:
            self.sampler = None
        elif sampler is not None:
            self.sampler = sampler
        else:
            self.sampler = _EpochRandomSampler(dataset, self._seed) if shuffle else SequentialSampler(dataset)
        if batch_sampler is None and batch_size is not None and not iterable:
            batch_sampler = BatchSampler(self.sampler, batch_size, self.drop_last)
        self.batch_sampler = batch_sampler
        self._pool = None

    # ---- the epoch and its order ------------------------------------------------------------------------

    @property
    def seed(self):
        """The seed of the shuffled order (0 when not shuffling)."""
        return self._seed

    @seed.setter
    def seed(self, value):
        self._seed = int(value)
        if isinstance(self.sampler, _EpochRandomSampler):
            self.sampler.seed = self._seed

    @property
    def epoch(self):
        """The epoch the next iteration produces."""
        return self._epoch

    @epoch.setter
    def epoch(self, value):
        self._epoch = int(value)
        if isinstance(self.sampler, _EpochRandomSampler):
            self.sampler.epoch = self._epoch

    def set_epoch(self, epoch):
        """Make the next iteration produce epoch ``epoch``'s order."""
        self.epoch = epoch

    def state_dict(self):
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state):
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])

    def order(self, epoch):
        """The sample order of epoch ``epoch`` when the loader chooses it (no ``sampler``/``batch_sampler``)."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, int(epoch)]).permutation(n)

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    # ---- fetching ---------------------------------------------------------------------------------------------

    def _fetch_batch(self, indices):
        ds = self.dataset
        if self._default_collate and hasattr(ds, "get_batch"):
            return _as_tensors(ds.get_batch(np.asarray(indices, dtype=np.int64)))
        if isinstance(indices, np.ndarray):
            indices = indices.tolist()  # samplers give Python ints: so does the default order
        getitems = getattr(ds, "__getitems__", None)
        items = getitems(indices) if getitems else [ds[i] for i in indices]
        return _as_tensors(self.collate_fn(items))

    def _fetch_one(self, index):
        return _as_tensors(self.collate_fn(self.dataset[index]))

    def _index_batches(self, epoch):
        """What the workers fetch, one entry per batch: lists of indices, or single indices without batching."""
        if not self._default_order:
            return self.batch_sampler if self._auto_collation else self.sampler
        order = self.order(epoch)
        if self.batch_size is None:
            return iter(order.tolist())
        stop = min(len(self) * self.batch_size, len(order))
        return (order[s : s + self.batch_size] for s in range(0, stop, self.batch_size))

    def _iterable_batches(self):
        items = iter(self.dataset)
        if not self._auto_collation:
            for item in items:
                yield _as_tensors(self.collate_fn(item))
            return
        while True:
            chunk = list(itertools.islice(items, self.batch_size))
            if not chunk or (self.drop_last and len(chunk) < self.batch_size):
                return
            yield _as_tensors(self.collate_fn(chunk))

    # ---- iterating ------------------------------------------------------------------------------------------

    def __iter__(self):
        epoch = self.epoch
        self.epoch = epoch + 1
        iterable = isinstance(self.dataset, IterableDataset)
        if self.num_workers == 0:
            if iterable:
                return self._iterable_batches()
            fetch = self._fetch_batch if self._auto_collation else self._fetch_one
            return map(fetch, self._index_batches(epoch))
        if iterable:
            return self._threaded_iterable(epoch)
        return self._threaded(epoch)

    def _get_pool(self, epoch, size):
        if self._pool is not None:
            return self._pool
        # a worker's seed follows from the loader's seed and the epoch: drawing it would move the default generator
        base_seed = int(np.random.SeedSequence([self.seed, epoch]).generate_state(1)[0])
        pool = _Pool(size, self.worker_init_fn, self.dataset, base_seed)
        if self.persistent_workers:
            self._pool = pool
            weakref.finalize(self, pool.shutdown)
        return pool

    def _threaded(self, epoch):
        batches = iter(self._index_batches(epoch))
        fetch = self._fetch_batch if self._auto_collation else self._fetch_one
        pool = self._get_pool(epoch, self.num_workers)
        run, pending = _Run(), deque()
        ahead = self.prefetch_factor * self.num_workers
        submitted, exhausted = 0, False
        try:
            while True:
                while not exhausted and len(pending) < ahead:
                    indices = next(batches, _END)  # the sampler runs here, in the main thread
                    if indices is _END:
                        exhausted = True
                        break
                    slot = _Slot(submitted)
                    submitted += 1
                    pool.submit(run, slot, fetch, indices)
                    pending.append(slot)
                if not pending:
                    return
                yield pending.popleft().result(self.timeout)
        finally:
            run.stopped = True
            if pool is not self._pool:
                pool.shutdown()

    def _threaded_iterable(self, epoch):
        out = queue.Queue(maxsize=self.prefetch_factor * self.num_workers)
        pool = self._get_pool(epoch, 1)
        run, task = _Run(), _Slot(0)
        pool.submit(run, task, _produce, (self._iterable_batches, out, run))
        try:
            waited = 0.0
            while True:
                try:
                    batch, error, index = out.get(timeout=_POLL)
                except queue.Empty:
                    if task.event.is_set() and out.empty():  # the task ended without a word: worker_init_fn failed
                        task.result(0)
                        return
                    waited += _POLL
                    if 0 < self.timeout <= waited:
                        raise DataError(f"DataLoader: no batch came from the worker thread within timeout="
                                        f"{self.timeout} s") from None
                    continue
                waited = 0.0
                if error is not None:
                    _add_note(error, f"(raised in DataLoader worker thread 0 while loading batch {index})")
                    raise error
                if batch is _END:
                    return
                yield batch
        finally:
            run.stopped = True
            if pool is not self._pool:
                pool.shutdown()

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"num_workers={self.num_workers})")

