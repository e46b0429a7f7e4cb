"""chainrule.utils.data against torch.utils.data: batches, order, lengths, collation, splits, samplers, workers.

Where PyTorch's result does not depend on its random numbers, chainrule's must be the same,
dtypes included, with one documented departure: float64 (Python floats, NumPy float64) is
collated into float32, chainrule's default float. Random orders are checked for what they must be
(permutations, coverage, lengths) and for being reproducible.
"""

import collections
import gc
import threading
import time
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as td

import chainrule as cr
import chainrule.utils.data as data
from chainrule.errors import ArgumentError, DataError, DTypeError, ShapeError

Point = collections.namedtuple("Point", ["x", "label"])


def same(ours, theirs, where="batch"):
    """``ours`` (chainrule) has ``theirs``'s (PyTorch's) structure, types, shapes, dtypes and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, cr.Tensor), f"{where}: {type(ours).__name__} instead of a Tensor"
        expected = theirs.numpy()
        if expected.dtype == np.float64:
            expected = expected.astype(np.float32)  # the documented departure
        got = ours.numpy()
        assert got.dtype == expected.dtype, f"{where}: dtype {got.dtype}, PyTorch {expected.dtype}"
        assert got.shape == expected.shape, f"{where}: shape {got.shape}, PyTorch {expected.shape}"
        np.testing.assert_array_equal(got, expected, err_msg=where)
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs), where
        for k in theirs:
            same(ours[k], theirs[k], f"{where}[{k!r}]")
    elif isinstance(theirs, list | tuple):
        assert type(ours) is type(theirs), f"{where}: {type(ours).__name__}, PyTorch {type(theirs).__name__}"
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            same(a, b, f"{where}[{i}]")
    else:
        assert type(ours) is type(theirs) and ours == theirs, f"{where}: {ours!r}, PyTorch {theirs!r}"


def same_batches(ours, theirs):
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        same(a, b, f"batch {i}")


class Samples:
    """A map-style dataset of the given samples, defined once for both libraries."""

    def __init__(self, make, n):
        self.make, self.n = make, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.make(i)


def both(make, n):
    ours = type("Ours", (Samples, data.Dataset), {})(make, n)
    theirs = type("Theirs", (Samples, td.Dataset), {})(make, n)
    return ours, theirs


SAMPLES = {
    "array_and_int": lambda i: (np.arange(3, dtype=np.float64) + i, i),
    "float32_array_and_int64": lambda i: (np.full((2, 2), i, dtype=np.float32), np.int64(i)),
    "python_floats_and_bools": lambda i: [i * 0.5, i % 2 == 0],
    "int32_and_uint8": lambda i: (np.array([i, -i], dtype=np.int32), np.uint8(i)),
    "dict": lambda i: {"image": np.ones((1, 2, 2)) * i, "label": i, "name": f"s{i}"},
    "nested": lambda i: {"pair": (np.array([i, i + 1]), [float(i), {"deep": np.float32(i)}]), "id": i},
    "namedtuple": lambda i: Point(np.array([i, 2 * i], dtype=np.float32), i),
    "scalar_array": lambda i: np.float32(i) * np.ones(()),
    "string": lambda i: "abc"[i % 3],
}


@pytest.mark.parametrize("name", list(SAMPLES))
@pytest.mark.parametrize(("batch_size", "drop_last"), [(1, False), (3, False), (3, True), (7, False), (None, False)])
def test_batches_match_torch(name, batch_size, drop_last):
    ours, theirs = both(SAMPLES[name], 7)
    a = data.DataLoader(ours, batch_size=batch_size, drop_last=drop_last)
    b = td.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last)
    assert len(a) == len(b)
    same_batches(a, b)


@pytest.mark.parametrize("name", ["array_and_int", "dict", "nested", "namedtuple", "python_floats_and_bools"])
def test_default_collate_and_convert_match_torch(name):
    samples = [SAMPLES[name](i) for i in range(4)]
    same(data.default_collate(samples), td.default_collate(samples))
    same(data.default_convert(samples[1]), td.default_convert(samples[1]))


def test_collate_of_tensors_keeps_their_dtype_and_gradient():
    xs = [cr.tensor(np.arange(3.0) + i, dtype="float64") for i in range(2)]
    batch = data.default_collate(xs)
    assert batch.numpy().dtype == np.float64 and batch.shape == (2, 3)  # a float64 Tensor stays float64
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    stacked = data.default_collate([w, w * 2])
    stacked.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0])


def test_collate_refusals():
    with pytest.raises(ShapeError, match=r"different shapes: \(3,\) \(sample 0\) and \(4,\) \(sample 1\)"):
        data.default_collate([np.zeros(3), np.zeros(4)])
    with pytest.raises(TypeError):  # as PyTorch: a TypeError
        td.default_collate([None, None])
    with pytest.raises(DTypeError, match="found NoneType"):
        data.default_collate([None, None])
    with pytest.raises(DTypeError, match="dtype <U1"):
        data.default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(ShapeError, match="same number of fields"):
        data.default_collate([(1, 2), (1,)])


def order(loader):
    return [b[1].numpy().tolist() for b in loader]


@pytest.mark.parametrize("n", [0, 1, 5, 12])
@pytest.mark.parametrize("batch_size", [1, 4, 5, 13])
@pytest.mark.parametrize("drop_last", [False, True])
def test_order_and_lengths_match_torch(n, batch_size, drop_last):
    X = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    ours = data.DataLoader(data.TensorDataset(X, np.arange(n)), batch_size=batch_size, drop_last=drop_last)
    theirs = td.DataLoader(td.TensorDataset(torch.from_numpy(X), torch.arange(n)), batch_size=batch_size,
                           drop_last=drop_last)
    assert len(ours) == len(theirs)
    same_batches(ours, theirs)


def test_custom_sampler_and_batch_sampler_match_torch():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    ours_ds, theirs_ds = data.TensorDataset(X, np.arange(10)), td.TensorDataset(torch.from_numpy(X), torch.arange(10))
    sampler = [9, 0, 3, 3, 7]
    same_batches(data.DataLoader(ours_ds, batch_size=2, sampler=sampler),
                 td.DataLoader(theirs_ds, batch_size=2, sampler=sampler))
    batches = [[1, 2], [0], [9, 8, 7]]
    a, b = data.DataLoader(ours_ds, batch_sampler=batches), td.DataLoader(theirs_ds, batch_sampler=batches)
    assert len(a) == len(b) == 3
    same_batches(a, b)
    same_batches(data.DataLoader(ours_ds, batch_size=None, sampler=sampler),
                 td.DataLoader(theirs_ds, batch_size=None, sampler=sampler))


def test_getitems_is_used_as_in_torch():
    calls = []

    class Batched(data.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            raise AssertionError("the loader should call __getitems__")

        def __getitems__(self, indices):
            calls.append(list(indices))
            return [(np.float32(i), i) for i in indices]

    batches = list(data.DataLoader(Batched(), batch_size=4))
    assert calls == [[0, 1, 2, 3], [4, 5]] and all(isinstance(i, int) for c in calls for i in c)
    np.testing.assert_array_equal(batches[1][1].numpy(), [4, 5])


# ---- datasets ------------------------------------------------------------------------------------------


def test_tensor_dataset_items_match_torch():
    X = np.arange(6, dtype=np.float32).reshape(3, 2)
    ours, theirs = data.TensorDataset(X, np.arange(3)), td.TensorDataset(torch.from_numpy(X), torch.arange(3))
    assert len(ours) == len(theirs)
    for i in range(3):
        same(ours[i], theirs[i], f"item {i}")
    same(ours[-1], theirs[-1])


def test_concat_dataset_matches_torch():
    parts = [np.arange(k, dtype=np.float32) + 10 * k for k in (3, 0, 2, 4)]
    ours = data.ConcatDataset([data.TensorDataset(p) for p in parts])
    theirs = td.ConcatDataset([td.TensorDataset(torch.from_numpy(p)) for p in parts])
    assert len(ours) == len(theirs) == 9 and ours.cumulative_sizes == theirs.cumulative_sizes
    for i in range(-9, 9):
        same(ours[i], theirs[i], f"item {i}")
    with pytest.raises(IndexError):
        ours[9]
    with pytest.raises(IndexError):
        ours[-10]
    a, b = data.TensorDataset(parts[0]), data.TensorDataset(parts[2])
    added = a + b
    assert isinstance(added, data.ConcatDataset) and len(added) == 5
    same_batches(data.DataLoader(added, batch_size=2),
                 td.DataLoader(td.TensorDataset(torch.from_numpy(parts[0])) + td.TensorDataset(
                     torch.from_numpy(parts[2])), batch_size=2))
    with pytest.raises(ArgumentError, match="empty"):
        data.ConcatDataset([])


def test_subset_matches_torch():
    X = np.arange(10, dtype=np.float32)
    ours, theirs = data.Subset(data.TensorDataset(X), [4, 1, 7]), td.Subset(td.TensorDataset(torch.from_numpy(X)),
                                                                           [4, 1, 7])
    assert len(ours) == len(theirs)
    for i in range(3):
        same(ours[i], theirs[i])
    same_batches(data.DataLoader(ours, batch_size=2), td.DataLoader(theirs, batch_size=2))


@pytest.mark.parametrize("n", [1, 7, 10, 11, 100, 101])
@pytest.mark.parametrize("lengths", [[0.5, 0.5], [0.7, 0.2, 0.1], [0.34, 0.33, 0.33], [1.0], [0.1] * 10, [0.25, 0.75]])
def test_random_split_sizes_match_torch(n, lengths):
    with warnings.catch_warnings(record=True) as theirs_warned:
        warnings.simplefilter("always")
        theirs = [len(s) for s in td.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))]
    with warnings.catch_warnings(record=True) as ours_warned:
        warnings.simplefilter("always")
        ours = data.random_split(data.TensorDataset(np.arange(n)), lengths, generator=np.random.default_rng(0))
    assert [len(s) for s in ours] == theirs
    assert bool(ours_warned) == bool(theirs_warned) == (0 in theirs)  # an empty split is warned about
    assert sorted(np.concatenate([s.indices for s in ours]).tolist()) == list(range(n))  # disjoint, covering


def test_random_split_counts_are_reproducible():
    ds = data.TensorDataset(np.arange(20))
    a = data.random_split(ds, [5, 15], generator=np.random.default_rng(3))
    b = data.random_split(ds, [5, 15], generator=np.random.default_rng(3))
    np.testing.assert_array_equal(a[0].indices, b[0].indices)
    cr.manual_seed(1)
    c = data.random_split(ds, [5, 15])
    cr.manual_seed(1)
    np.testing.assert_array_equal(data.random_split(ds, [5, 15])[0].indices, c[0].indices)
    with pytest.raises(ArgumentError, match="add up to 20"):
        data.random_split(ds, [5, 5])


# ---- samplers ------------------------------------------------------------------------------------------


def test_sequential_and_batch_samplers_match_torch():
    assert list(data.SequentialSampler(range(5))) == list(td.SequentialSampler(range(5)))
    for n in (0, 1, 6, 7):
        for bs in (1, 3, 8):
            for drop_last in (False, True):
                ours = data.BatchSampler(data.SequentialSampler(range(n)), bs, drop_last)
                theirs = td.BatchSampler(td.SequentialSampler(range(n)), bs, drop_last)
                assert list(ours) == list(theirs) and len(ours) == len(theirs)
    with pytest.raises(ValueError, match="positive integer"):
        data.BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        data.BatchSampler(range(3), 2, "no")


@pytest.mark.parametrize("num_samples", [None, 3, 10, 23])
def test_random_sampler_covers_like_torch(num_samples):
    ours = data.RandomSampler(range(10), num_samples=num_samples, generator=np.random.default_rng(0))
    theirs = td.RandomSampler(range(10), num_samples=num_samples)
    drawn = list(ours)
    assert len(ours) == len(theirs) == len(drawn) == (num_samples or 10)
    counts = np.bincount(drawn, minlength=10)
    k = len(drawn)
    assert counts.max() - counts.min() <= 1 and counts.min() == k // 10  # whole permutations, then part of one
    assert len(set(drawn[:10])) == min(10, k)
    assert all(isinstance(i, int) for i in drawn)


def test_random_sampler_with_replacement_and_reproducibility():
    s = data.RandomSampler(range(4), replacement=True, num_samples=50, generator=np.random.default_rng(1))
    drawn = list(s)
    assert len(drawn) == len(s) == 50 and set(drawn) <= {0, 1, 2, 3} and len(set(drawn)) > 1
    cr.manual_seed(7)
    a = list(data.RandomSampler(range(30)))
    b = list(data.RandomSampler(range(30)))
    cr.manual_seed(7)
    assert list(data.RandomSampler(range(30))) == a and a != b  # one seed per pass, from the default generator
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        data.RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        data.RandomSampler(range(3), replacement=1)


def test_subset_random_sampler():
    s = data.SubsetRandomSampler([5, 9, 2, 7], generator=np.random.default_rng(0))
    drawn = list(s)
    assert sorted(drawn) == [2, 5, 7, 9] and len(s) == len(td.SubsetRandomSampler([5, 9, 2, 7])) == 4


def test_weighted_random_sampler():
    weights = [0.0, 1.0, 3.0, 0.0, 2.0]
    s = data.WeightedRandomSampler(weights, 3000, generator=np.random.default_rng(0))
    drawn = np.array(list(s))
    assert len(s) == len(td.WeightedRandomSampler(weights, 3000)) == len(drawn) == 3000
    freq = np.bincount(drawn, minlength=5) / 3000
    assert freq[0] == freq[3] == 0  # zero weights are never drawn
    np.testing.assert_allclose(freq[[1, 2, 4]], [1 / 6, 3 / 6, 2 / 6], atol=0.05)  # 5 sigma of a binomial
    once = list(data.WeightedRandomSampler(weights, 3, replacement=False, generator=np.random.default_rng(0)))
    assert sorted(once) == [1, 2, 4]
    with pytest.raises(ArgumentError, match="cannot draw 4 samples without replacement from 3 non-zero weights"):
        data.WeightedRandomSampler(weights, 4, replacement=False)
    with pytest.raises(ArgumentError, match="non-negative"):
        data.WeightedRandomSampler([1.0, -1.0], 2)
    with pytest.raises(ArgumentError, match="1-D"):
        data.WeightedRandomSampler([[1.0]], 2)


def test_loader_with_random_sampler_covers_the_dataset():
    ds = data.TensorDataset(np.arange(23))
    loader = data.DataLoader(ds, batch_size=5, sampler=data.RandomSampler(ds, generator=np.random.default_rng(2)))
    got = [b[0].numpy() for b in loader]
    assert len(loader) == len(got) == 5 and sorted(np.concatenate(got).tolist()) == list(range(23))


# ---- shuffling -----------------------------------------------------------------------------------------


def test_shuffle_is_reproducible_with_manual_seed_or_a_generator():
    ds = data.TensorDataset(np.arange(40))

    def epochs(loader, k=2):
        return [np.concatenate([b[0].numpy() for b in loader]).tolist() for _ in range(k)]

    cr.manual_seed(0)
    a = epochs(data.DataLoader(ds, batch_size=8, shuffle=True))
    cr.manual_seed(0)
    assert epochs(data.DataLoader(ds, batch_size=8, shuffle=True)) == a
    assert a[0] != a[1] and sorted(a[0]) == sorted(a[1]) == list(range(40))
    g1 = epochs(data.DataLoader(ds, batch_size=8, shuffle=True, generator=np.random.default_rng(5)))
    assert epochs(data.DataLoader(ds, batch_size=8, shuffle=True, generator=np.random.default_rng(5))) == g1
    assert epochs(data.DataLoader(ds, batch_size=8, shuffle=True, generator=np.random.default_rng(6))) != g1


def test_the_loader_sampler_yields_the_loader_order():
    loader = data.DataLoader(data.TensorDataset(np.arange(15)), batch_size=4, shuffle=True, seed=3)
    expected = list(loader.sampler)
    assert np.concatenate([b[0].numpy() for b in loader]).tolist() == expected
    assert list(loader.sampler) != expected  # the next epoch
    assert list(loader.batch_sampler) == [list(loader.sampler)[i:i + 4] for i in range(0, 15, 4)]


# ---- iterable datasets ---------------------------------------------------------------------------------


class Stream:
    def __init__(self, n, with_len=True):
        self.n, self.with_len = n, with_len

    def __iter__(self):
        for i in range(self.n):
            yield np.array([i, -i], dtype=np.float32), i

    def __len__(self):
        if not self.with_len:
            raise TypeError("no length")
        return self.n


class OurStream(Stream, data.IterableDataset):
    pass


class TheirStream(Stream, td.IterableDataset):
    pass


@pytest.mark.parametrize(("batch_size", "drop_last"), [(1, False), (4, False), (4, True), (10, False), (None, False)])
@pytest.mark.parametrize("num_workers", [0, 2])
def test_iterable_dataset_batches_match_torch(batch_size, drop_last, num_workers):
    a = data.DataLoader(OurStream(10), batch_size=batch_size, drop_last=drop_last, num_workers=num_workers)
    b = td.DataLoader(TheirStream(10), batch_size=batch_size, drop_last=drop_last)
    assert len(a) == len(b)
    same_batches(a, b)


def test_iterable_dataset_refusals_and_chaining():
    for kwargs in ({"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}):
        with pytest.raises(ValueError):
            td.DataLoader(TheirStream(3), **kwargs)
        with pytest.raises(ArgumentError, match="IterableDataset"):
            data.DataLoader(OurStream(3), **kwargs)
    chained = OurStream(2) + OurStream(3)
    assert isinstance(chained, data.ChainDataset) and len(chained) == 5
    assert [int(b[1].item()) for b in data.DataLoader(chained)] == [0, 1, 0, 1, 2]
    with pytest.raises(TypeError):
        len(data.DataLoader(OurStream(3, with_len=False), batch_size=2))


# ---- argument checks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [
    {"sampler": [0, 1], "shuffle": True},
    {"batch_sampler": [[0]], "batch_size": 2},
    {"batch_sampler": [[0]], "drop_last": True},
    {"batch_sampler": [[0]], "sampler": [0]},
    {"batch_size": None, "drop_last": True},
    {"num_workers": -1},
    {"prefetch_factor": 2},
    {"persistent_workers": True},
    {"timeout": -1},
])  # fmt: skip
def test_argument_refusals_match_torch(kwargs):
    X = np.zeros((4, 1), np.float32)
    with pytest.raises(ValueError):
        td.DataLoader(td.TensorDataset(torch.from_numpy(X)), **kwargs)
    with pytest.raises(ArgumentError):
        data.DataLoader(data.TensorDataset(X), **kwargs)


# ---- worker threads ----------------------------------------------------------------------------------------


class Slow(data.Dataset):
    """Samples that take a random, short time to load, so that worker threads finish out of order."""

    def __init__(self, n=24, fail_at=None):
        self.n, self.fail_at = n, fail_at
        self.loaded = []
        self.lock = threading.Lock()

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(0.002 * ((i * 7919) % 5))
        if i == self.fail_at:
            raise KeyError(f"sample {i} is missing")
        with self.lock:
            self.loaded.append(i)
        return np.full(2, i, dtype=np.float32), i


def _workers():
    return [t for t in threading.enumerate() if t.name.startswith("DataLoader worker")]


def _no_workers_left(timeout=5.0):
    end = time.monotonic() + timeout
    while _workers() and time.monotonic() < end:
        time.sleep(0.01)
    return not _workers()


@pytest.mark.parametrize("num_workers", [1, 3])
@pytest.mark.parametrize("shuffle", [False, True])
def test_workers_keep_the_order_of_the_main_thread(num_workers, shuffle):
    ds = Slow()
    a = data.DataLoader(ds, batch_size=3, shuffle=shuffle, seed=1)
    b = data.DataLoader(ds, batch_size=3, shuffle=shuffle, seed=1, num_workers=num_workers, prefetch_factor=2)
    assert len(a) == len(b)
    for _ in range(2):  # two epochs, each in its own order
        same_ours(list(a), list(b))
    assert _no_workers_left()


def same_ours(xs, ys):
    assert len(xs) == len(ys)
    for x, y in zip(xs, ys):
        for u, v in zip(x, y):
            assert u.numpy().dtype == v.numpy().dtype
            np.testing.assert_array_equal(u.numpy(), v.numpy())


def test_a_worker_error_is_raised_in_the_main_thread_with_the_batch_index():
    loader = data.DataLoader(Slow(fail_at=10), batch_size=4, num_workers=2)
    seen = []
    with pytest.raises(KeyError, match="sample 10 is missing") as e:
        for xb, _ in loader:
            seen.append(xb)
    assert len(seen) == 2  # batches 0 and 1 came out; batch 2 holds sample 10
    assert any("while loading batch 2" in note for note in e.value.__notes__)
    assert _no_workers_left()


def test_workers_stop_when_the_iterator_is_closed_or_collected():
    loader = data.DataLoader(Slow(200), batch_size=2, num_workers=3)
    it = iter(loader)
    next(it)
    assert len(_workers()) == 3
    it.close()
    assert _no_workers_left()
    it = iter(loader)
    next(it)
    del it
    gc.collect()
    assert _no_workers_left()


def test_prefetching_is_bounded():
    ds = Slow(200)
    it = iter(data.DataLoader(ds, batch_size=1, num_workers=2, prefetch_factor=3))
    next(it)
    time.sleep(0.3)  # time enough to load many more samples, were it not bounded
    assert len(ds.loaded) <= 1 + 2 * 3
    it.close()
    assert _no_workers_left()


def test_persistent_workers_serve_every_epoch_and_stop_with_the_loader():
    inits = []
    loader = data.DataLoader(Slow(12), batch_size=5, num_workers=2, persistent_workers=True,
                             worker_init_fn=inits.append)
    first = list(loader)
    threads = _workers()
    second = list(loader)
    assert len(first) == len(second) == 3 and _workers() == threads and sorted(inits) == [0, 1]
    del loader
    gc.collect()
    assert _no_workers_left()


def test_worker_init_fn_and_get_worker_info():
    infos = []

    class Who(data.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            info = data.get_worker_info()
            infos.append((info.id, info.num_workers, info.dataset is self))
            return i

    assert data.get_worker_info() is None
    ids = []
    out = list(data.DataLoader(Who(), batch_size=2, num_workers=2, worker_init_fn=ids.append))
    assert [b.numpy().tolist() for b in out] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert sorted(ids) == [0, 1] and {i for i, _, _ in infos} <= {0, 1}
    assert all(n == 2 and mine for _, n, mine in infos)


def test_a_failing_worker_init_fn_is_raised():
    def init(wid):
        raise RuntimeError(f"cannot open the files in worker {wid}")

    with pytest.raises(RuntimeError, match="cannot open the files"):
        list(data.DataLoader(Slow(6), batch_size=2, num_workers=2, worker_init_fn=init))
    with pytest.raises(RuntimeError, match="cannot open the files"):
        list(data.DataLoader(OurStream(6), batch_size=2, num_workers=2, worker_init_fn=init))
    assert _no_workers_left()


def test_an_iterable_worker_error_names_the_batch():
    class Broken(data.IterableDataset):
        def __iter__(self):
            yield from range(5)
            raise OSError("the stream broke")

    with pytest.raises(OSError, match="the stream broke") as e:
        list(data.DataLoader(Broken(), batch_size=2, num_workers=1))
    assert any("batch 2" in note for note in e.value.__notes__)
    assert _no_workers_left()


def test_timeout_is_a_data_error():
    class Stuck(data.Dataset):
        def __init__(self):
            self.release = threading.Event()

        def __len__(self):
            return 4

        def __getitem__(self, i):
            self.release.wait(5)
            return i

    ds = Stuck()
    with pytest.raises(DataError, match="batch 0 was not loaded within timeout=0.1 s"):
        next(iter(data.DataLoader(ds, batch_size=2, num_workers=1, timeout=0.1)))
    ds.release.set()
    assert _no_workers_left()
