"""DataLoader and random_split: seeded per-epoch order (with worker threads too), drop_last, len, collate_fn,
one copy per batch."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataLoader, Dataset, TensorDataset, random_split
from chainrule.errors import ArgumentError


def dataset(n=10):
    X = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    return TensorDataset(X, np.arange(n))


def order_of(loader):
    return np.concatenate([yb.numpy() for _, yb in loader])


def test_same_seed_same_order_and_a_fresh_permutation_each_epoch():
    a, b = DataLoader(dataset(50), batch_size=7, shuffle=True, seed=3), DataLoader(dataset(50), 7, True, seed=3)
    epochs_a = [order_of(a) for _ in range(3)]
    epochs_b = [order_of(b) for _ in range(3)]
    for ea, eb in zip(epochs_a, epochs_b):
        np.testing.assert_array_equal(ea, eb)
        assert sorted(ea.tolist()) == list(range(50))  # a permutation
    assert not np.array_equal(epochs_a[0], epochs_a[1]) and not np.array_equal(epochs_a[1], epochs_a[2])
    assert not np.array_equal(order_of(DataLoader(dataset(50), 7, True, seed=4)), epochs_a[0])


def test_resume_at_an_epoch_sees_the_same_batches():
    a = DataLoader(dataset(20), batch_size=4, shuffle=True, seed=1)
    orders = [order_of(a) for _ in range(3)]
    b = DataLoader(dataset(20), batch_size=4, shuffle=True, seed=99)
    b.load_state_dict({"seed": 1, "epoch": 2})
    np.testing.assert_array_equal(order_of(b), orders[2])
    b.set_epoch(0)
    np.testing.assert_array_equal(order_of(b), orders[0])
    assert b.state_dict() == {"seed": 1, "epoch": 1}


def test_default_seed_comes_from_manual_seed():
    cr.manual_seed(5)
    a = order_of(DataLoader(dataset(30), batch_size=30, shuffle=True))
    cr.manual_seed(5)
    b = order_of(DataLoader(dataset(30), batch_size=30, shuffle=True))
    np.testing.assert_array_equal(a, b)


def test_no_shuffle_keeps_order():
    np.testing.assert_array_equal(order_of(DataLoader(dataset(10), batch_size=4)), np.arange(10))


@pytest.mark.parametrize(("n", "bs", "drop_last", "sizes"), [
    (10, 3, False, [3, 3, 3, 1]),
    (10, 3, True, [3, 3, 3]),
    (9, 3, True, [3, 3, 3]),
    (2, 3, True, []),
    (2, 3, False, [2]),
])  # fmt: skip
def test_drop_last_and_len(n, bs, drop_last, sizes):
    loader = DataLoader(dataset(n), batch_size=bs, shuffle=True, drop_last=drop_last, seed=0)
    assert len(loader) == len(sizes)
    assert [len(yb) for _, yb in loader] == sizes


def test_bad_batch_size():
    with pytest.raises(ArgumentError, match="batch_size must be a positive integer, got 0"):
        DataLoader(dataset(), batch_size=0)


def test_batches_are_float32_and_gathered_with_one_copy():
    ds = dataset(10)
    xb, yb = next(iter(DataLoader(ds, batch_size=4, shuffle=True, seed=0)))
    assert xb.numpy().dtype == np.float32 and yb.numpy().dtype == np.int64
    assert not np.shares_memory(xb.numpy(), ds.tensors[0])  # a gathered copy, not a view of the dataset

    class Recording(Dataset):
        def __init__(self):
            self.X = np.arange(20, dtype=np.float32).reshape(10, 2)
            self.batches = []

        def __len__(self):
            return 10

        def __getitem__(self, i):
            raise AssertionError("the loader should use get_batch")

        def get_batch(self, idx):
            self.batches.append(self.X[idx])
            return (self.batches[-1],)

    rec = Recording()
    (xb,) = next(iter(DataLoader(rec, batch_size=4)))
    assert xb.numpy() is rec.batches[0]  # wrapped as it is: no second copy, no float64 up-cast


def test_items_without_get_batch_are_stacked_into_float32():
    class Items(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full(3, float(i)), i  # float64 features

    xb, yb = next(iter(DataLoader(Items(), batch_size=5)))
    assert xb.numpy().dtype == np.float32 and xb.shape == (5, 3) and yb.numpy().tolist() == [0, 1, 2, 3, 4]


def test_collate_fn_is_used():
    seen = []

    def collate(items):
        seen.append(len(items))
        return np.stack([it[0] for it in items]).sum(axis=1), np.array([it[1] for it in items])

    loader = DataLoader(dataset(6), batch_size=4, collate_fn=collate)
    batches = list(loader)
    assert seen == [4, 2]
    np.testing.assert_array_equal(batches[0][0].numpy(), [1, 5, 9, 13])
    assert batches[0][0].numpy().dtype == np.float32


def test_random_split_counts_and_fractions():
    ds = dataset(10)
    a, b = random_split(ds, [7, 3], seed=0)
    assert (len(a), len(b)) == (7, 3)
    idx = np.concatenate([a.indices, b.indices])
    assert sorted(idx.tolist()) == list(range(10))
    np.testing.assert_array_equal(random_split(ds, [7, 3], seed=0)[0].indices, a.indices)
    assert [len(s) for s in random_split(ds, [0.7, 0.3], seed=0)] == [7, 3]
    assert [len(s) for s in random_split(dataset(11), [0.5, 0.5], seed=0)] == [6, 5]  # remainder to the first
    assert [len(s) for s in random_split(dataset(10), [0.34, 0.33, 0.33], seed=0)] == [4, 3, 3]
    x, y = a[0]
    np.testing.assert_array_equal(x, ds.tensors[0][a.indices[0]])
    xb, yb = next(iter(DataLoader(a, batch_size=7)))
    np.testing.assert_array_equal(yb.numpy(), a.indices)


def test_random_split_errors():
    with pytest.raises(ArgumentError, match=r"lengths \[5, 3\] must be non-negative and add up to 10"):
        random_split(dataset(10), [5, 3])
    with pytest.raises(ArgumentError, match="add up to 10"):
        random_split(dataset(10), [0.5, 0.2])


@pytest.mark.parametrize("num_workers", [0, 2])
def test_resumed_epochs_are_the_same_with_worker_threads(num_workers):
    a = DataLoader(dataset(30), batch_size=4, shuffle=True, seed=8)
    orders = [order_of(a) for _ in range(3)]
    b = DataLoader(dataset(30), batch_size=4, shuffle=True, num_workers=num_workers)
    b.load_state_dict({"seed": 8, "epoch": 1})
    np.testing.assert_array_equal(order_of(b), orders[1])
    np.testing.assert_array_equal(order_of(b), orders[2])
    assert b.state_dict() == {"seed": 8, "epoch": 3}


def test_get_batch_runs_in_the_worker_threads():
    import threading

    class Gathering(Dataset):
        def __init__(self):
            self.X = np.arange(12, dtype=np.float32).reshape(6, 2)
            self.threads = set()

        def __len__(self):
            return 6

        def __getitem__(self, i):
            raise AssertionError("the loader should use get_batch")

        def get_batch(self, idx):
            self.threads.add(threading.current_thread().name)
            return (self.X[idx],)

    ds = Gathering()
    batches = list(DataLoader(ds, batch_size=4, num_workers=2))
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), ds.X)
    assert ds.threads and all(name.startswith("DataLoader worker") for name in ds.threads)


def test_subset_of_a_dataset_without_get_batch_is_collated():
    class Items(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return {"x": np.full(2, i, dtype=np.float32), "y": i}

    (sub,) = random_split(Items(), [6], seed=0)
    batch = next(iter(DataLoader(sub, batch_size=6)))
    np.testing.assert_array_equal(batch["y"].numpy(), sub.indices)
    np.testing.assert_array_equal(batch["x"].numpy()[:, 0], sub.indices)
    assert batch["x"].numpy().dtype == np.float32 and batch["y"].numpy().dtype == np.int64


def test_batch_size_none_gives_samples_one_by_one():
    loader = DataLoader(dataset(3), batch_size=None, shuffle=True, seed=2)
    items = list(loader)
    assert len(loader) == 3 and all(x.shape == (2,) and y.shape == () for x, y in items)
    assert sorted(int(y.item()) for _, y in items) == [0, 1, 2]
