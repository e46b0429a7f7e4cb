"""Data loading alone: one shuffled epoch of mini-batches from MNIST-shaped arrays, chainrule's DataLoader
against PyTorch's DataLoader, PyTorch's randperm-and-index idiom and a hand-written NumPy loop.

The data: 60,000 x 784 float32 inputs and int64 labels (``--samples`` takes fewer), in memory. Each
contender produces every batch of one shuffled epoch at batch sizes 32, 128 and 1024; nothing is done
with the batches:

* chainrule: ``DataLoader(TensorDataset(X, y), batch_size, shuffle=True)``, iterated;
* PyTorch DataLoader: ``DataLoader(TensorDataset(Xt, yt), batch_size, shuffle=True, num_workers=0)``,
  iterated (it fetches the samples one by one and stacks them: PyTorch's default path);
* PyTorch randperm + index: ``order = torch.randperm(n)``, then ``Xt[idx], yt[idx]`` per batch: the
  fast idiom of PyTorch training loops (the one the other benchmarks' PyTorch loops use);
* NumPy: ``order = rng.permutation(n)``, then ``X[idx], y[idx]`` per batch.

The contenders alternate round by round (the order reversed every other round); the median samples
per second over rounds is printed with the ratio to PyTorch's DataLoader. Then, with tracemalloc, the
bytes that chainrule's DataLoader and the NumPy loop allocate while producing one batch (the median
over an epoch's batches, the first one, which draws the permutation, left out) are set against the
size of the batch itself: equal means one copy per batch, the least a shuffled batch can cost.

    python -m benchmarks.dataloader [--samples 60000] [--rounds 5] [--batch-sizes 32,128,1024] [--quick]
"""

import argparse
import tracemalloc

import numpy as np

from .common import add_threads_argument, alternate, median, rate, ratio, table, use_threads

NAMES = {
    "chainrule": "chainrule DataLoader",
    "torch_loader": "PyTorch DataLoader",
    "torch_index": "PyTorch randperm + index",
    "numpy": "NumPy permutation + X[idx]",
}


def _contenders(X, y, batch_size):
    import torch

    from chainrule.data import DataLoader, TensorDataset

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    torch_dataset = torch.utils.data.TensorDataset(Xt, yt)
    cr_dataset = TensorDataset(X, y)

    def chainrule_epoch(seed):
        for _xb, _yb in DataLoader(cr_dataset, batch_size=batch_size, shuffle=True, seed=seed):
            pass

    def torch_loader_epoch(seed):
        g = torch.Generator().manual_seed(seed)
        loader = torch.utils.data.DataLoader(
            torch_dataset, batch_size=batch_size, shuffle=True, num_workers=0, generator=g
        )
        for _xb, _yb in loader:
            pass

    def torch_index_epoch(seed):
        order = torch.randperm(len(Xt), generator=torch.Generator().manual_seed(seed))
        for s in range(0, len(Xt), batch_size):
            idx = order[s : s + batch_size]
            _xb, _yb = Xt[idx], yt[idx]

    def numpy_epoch(seed):
        order = np.random.default_rng(seed).permutation(len(X))
        for s in range(0, len(X), batch_size):
            idx = order[s : s + batch_size]
            _xb, _yb = X[idx], y[idx]

    return {
        "chainrule": chainrule_epoch,
        "torch_loader": torch_loader_epoch,
        "torch_index": torch_index_epoch,
        "numpy": numpy_epoch,
    }


def _numpy_batches(X, y, batch_size):
    order = np.random.default_rng(0).permutation(len(X))
    for s in range(0, len(X), batch_size):
        idx = order[s : s + batch_size]
        yield X[idx], y[idx]


def allocated_per_batch(batches, limit=200):
    """The median bytes allocated (tracemalloc) while producing one batch, the first batch left out."""
    sizes = []
    tracemalloc.start()
    try:
        it = iter(batches)
        batch = next(it)
        for _ in range(limit):
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            try:
                batch = next(it)
            except StopIteration:
                break
            sizes.append(tracemalloc.get_traced_memory()[1] - before)
    finally:
        tracemalloc.stop()
    del batch
    return int(np.median(sizes)) if sizes else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=0, help="samples (default 60,000; quick 10,000)")
    parser.add_argument("--rounds", type=int, default=0, help="rounds (default 5; quick 3)")
    parser.add_argument("--batch-sizes", default="32,128,1024")
    parser.add_argument("--quick", action="store_true", help="a short run: fewer samples and rounds")
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    samples = args.samples or (10_000 if args.quick else 60_000)
    rounds = args.rounds or (3 if args.quick else 5)
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]

    import torch

    from chainrule.data import DataLoader, TensorDataset

    threads = use_threads(args.threads)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((samples, 784), dtype=np.float32)
    y = rng.integers(0, 10, samples)
    print(
        f"DataLoader alone: one shuffled epoch of {samples:,} x 784 float32 + int64 labels, "
        f"(PyTorch {torch.__version__}, NumPy {np.__version__}), {rounds} rounds, medians",
        flush=True,
    )
    rates, copies = {}, {}
    for bs in batch_sizes:
        times = alternate(_contenders(X, y, bs), rounds)
        rate_ = rates[bs] = {k: samples / median(v) for k, v in times.items()}
        batch_bytes = X[:bs].nbytes + y[:bs].nbytes
        copies[bs] = {
            "batch": batch_bytes,
            "chainrule": allocated_per_batch(DataLoader(TensorDataset(X, y), batch_size=bs, shuffle=True, seed=0)),
            "numpy": allocated_per_batch(_numpy_batches(X, y, bs)),
        }
        print(f"  batch {bs}:")
        for k, v in rate_.items():
            print(
                f"    {k:12s} {v:14,.0f} samples/s   ({v / rate_['torch_loader']:.2f}x PyTorch DataLoader's speed, "
                f"{v / rate_['torch_index']:.2f}x PyTorch randperm + index)",
                flush=True,
            )
        c = copies[bs]
        print(
            f"    allocated per batch: chainrule {c['chainrule']:,} bytes, NumPy loop {c['numpy']:,} bytes; "
            f"the batch itself is {batch_bytes:,} bytes",
            flush=True,
        )
    return {"samples": samples, "rounds": rounds, "threads": threads, "rates": rates, "copies": copies}


def markdown(results):
    rates, copies = results["rates"], results["copies"]
    names = list(next(iter(rates.values())))
    header = ["contender", *(f"batch {bs}" for bs in rates)]
    rows = [[NAMES[k], *(f"{rate(r[k])} ({ratio(r[k] / r['torch_loader'])})" for r in rates.values())] for k in names]
    rows.append(
        [
            "bytes allocated per batch by chainrule's DataLoader / the NumPy loop / the batch itself",
            *(f"{c['chainrule']:,} / {c['numpy']:,} / {c['batch']:,}" for c in copies.values()),
        ]
    )
    return (
        f"One shuffled epoch of {results['samples']:,} x 784 float32 inputs + int64 labels, every batch produced "
        f"and dropped; median of {results['rounds']} rounds. Cells: samples/s (speed relative to PyTorch's "
        "DataLoader, num_workers=0). Bytes allocated per batch: tracemalloc, median over an epoch.\n\n"
        + table(header, rows)
    )


if __name__ == "__main__":
    main()
