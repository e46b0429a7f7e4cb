"""Training speed of a small CNN: one epoch of a LeNet-5-like network on MNIST-shaped data, chainrule's
Trainer against PyTorch and a hand-written NumPy im2col implementation.

The data are random, MNIST-shaped: (N, 1, 28, 28) float32 images, 10 classes, N = 6,400 by default
(``--samples``). The network, trained with cross-entropy and SGD (lr 0.01, momentum 0.9) in shuffled
mini-batches of 64::

    Conv2d(1, 6, 5, padding=2) -> ReLU -> MaxPool2d(2) -> Conv2d(6, 16, 5) -> ReLU -> MaxPool2d(2)
    -> Flatten -> Linear(400, 120) -> ReLU -> Linear(120, 84) -> ReLU -> Linear(84, 10)

* chainrule: ``Trainer.fit(..., epochs=1)``, the public fit loop;
* PyTorch (CPU), the same network with the same weights (``load_state_dict``), the usual loop over
  ``randperm`` batches, same thread count as NumPy's BLAS;
* NumPy: forward and backward written by hand, what plain NumPy allows without heroics: each
  convolution is one GEMM over an im2col copy of ``sliding_window_view`` windows (channels-first
  (C, N, H, W) layout, so no transposes between layers), its input gradient a GEMM followed by col2im
  (adding the 25 kernel-offset slices), max-pooling 2x2 by a reshape.

First two steps of all three, from the same weights on the same batches, are checked to give the same
weights (rtol 1e-4; the changes to 1% of the largest). Then the contenders alternate round by round
(the order reversed every other round); the median samples per second over rounds is printed with
the ratio to PyTorch. Unless ``--no-memory``, the peak memory of one epoch is measured for each
contender in a fresh process (``benchmarks.memory``).

    python -m benchmarks.cnn [--samples 6400] [--rounds 7] [--batch-size 64] [--threads N] [--quick]
"""

import argparse

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import memory
from .common import (
    add_threads_argument,
    alternate,
    median,
    rate,
    ratio,
    table,
    threads_text,
    torch_training,
    use_threads,
)
from .train_mlp import check_same

LR, MOMENTUM = 0.01, 0.9
# (state-dict key prefix, shape of the weight); the keys are nn.Sequential's indices
LAYERS = [("0", (6, 1, 5, 5)), ("3", (16, 6, 5, 5)), ("7", (120, 400)), ("9", (84, 120)), ("11", (10, 84))]
KEYS = [f"{p}.{w}" for p, _ in LAYERS for w in ("weight", "bias")]
NAMES = {"chainrule": "chainrule Trainer", "pytorch": "PyTorch", "numpy": "NumPy im2col by hand"}


def make_data(samples, seed=0):
    """Random MNIST-shaped images (samples, 1, 28, 28) float32 and int64 labels in 0..9."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((samples, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, samples)
    return X, y


def init_weights(seed=0):
    """PyTorch's default initialisation (uniform in +-1/sqrt(fan_in)) as a state dict of float32 arrays."""
    rng = np.random.default_rng(seed)
    out = {}
    for prefix, shape in LAYERS:
        bound = 1 / np.sqrt(np.prod(shape[1:]))
        out[f"{prefix}.weight"] = rng.uniform(-bound, bound, shape).astype(np.float32)
        out[f"{prefix}.bias"] = rng.uniform(-bound, bound, shape[0]).astype(np.float32)
    return out


def lenet(nn):
    """The LeNet-5-like network, built from ``nn`` (chainrule.nn or torch.nn: the same names and arguments)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


def _chainrule_contender(X, y, weights):
    import chainrule as cr
    from chainrule import nn, optim
    from chainrule.train import Trainer

    model = lenet(nn)
    model.load_state_dict(weights)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM))

    def epoch(batch_size, seed):
        trainer.fit((X, y), epochs=1, batch_size=batch_size, shuffle=True, seed=seed, verbose=0)

    def step(xb, yb):
        trainer.train_step((cr.tensor(xb), cr.tensor(yb)))
        return dict(model.state_dict())  # copies

    return epoch, step


def _torch_contender(X, y, weights):
    import torch
    from torch import nn

    model = lenet(nn)
    model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    return torch_training(model, opt, loss_fn, X, y)


# ---- the NumPy reference: (C, N, H, W) layout throughout the convolutional part ----


def _im2col(x, k):
    """(C, N, H, W) -> (C*k*k, N*Ho*Wo): row (c, i, j) holds x[c, n, ho + i, wo + j] (stride 1, no padding)."""
    C, N, H, W = x.shape
    windows = sliding_window_view(x, (k, k), axis=(2, 3))  # (C, N, Ho, Wo, k, k), a view
    return windows.transpose(0, 4, 5, 1, 2, 3).reshape(C * k * k, -1)  # the one copy


def _col2im(cols, shape, k):
    """The adjoint of _im2col: add each kernel offset's slice back into a (C, N, H, W) array."""
    C, N, H, W = shape
    Ho, Wo = H - k + 1, W - k + 1
    cols = cols.reshape(C, k, k, N, Ho, Wo)
    out = np.zeros(shape, dtype=cols.dtype)
    for i in range(k):
        for j in range(k):
            out[:, :, i : i + Ho, j : j + Wo] += cols[:, i, j]
    return out


def _pool(a):
    """2x2 max-pooling of (C, N, H, W) by a reshape (the maximum of the four strided corners: far faster
    in NumPy than ``max(axis=(3, 5))``); returns the output and the reshaped input."""
    C, N, H, W = a.shape
    r = a.reshape(C, N, H // 2, 2, W // 2, 2)
    return np.maximum(
        np.maximum(r[:, :, :, 0, :, 0], r[:, :, :, 0, :, 1]), np.maximum(r[:, :, :, 1, :, 0], r[:, :, :, 1, :, 1])
    ), r


def _pool_back(g, r, out):
    """Route each window's gradient to its maximum. Ties only occur between zeros after a ReLU, whose
    gradient the ReLU's backward zeroes anyway."""
    grad = np.empty_like(r)
    for i in (0, 1):
        for j in (0, 1):
            np.multiply(r[:, :, :, i, :, j] == out, g, out=grad[:, :, :, i, :, j])
    C, N, H2, _, W2, _ = r.shape
    return grad.reshape(C, N, 2 * H2, 2 * W2)


def _numpy_contender(X, y, weights):
    from .train_mlp import numpy_updater

    params = [np.array(weights[k], dtype=np.float32) for k in KEYS]
    update = numpy_updater(params, "sgd", lr=LR)

    def one(xb, yb):
        cw1, cb1, cw2, cb2, W3, b3, W4, b4, W5, b5 = params
        B = len(xb)
        x = np.pad(xb.transpose(1, 0, 2, 3), ((0, 0), (0, 0), (2, 2), (2, 2)))  # (1, B, 32, 32)
        c1 = _im2col(x, 5)  # (25, B*784)
        h1 = cw1.reshape(6, -1) @ c1
        h1 += cb1[:, None]
        p1, r1 = _pool(np.maximum(h1, 0).reshape(6, B, 28, 28))  # (6, B, 14, 14)
        c2 = _im2col(p1, 5)  # (150, B*100)
        h2 = cw2.reshape(16, -1) @ c2
        h2 += cb2[:, None]
        p2, r2 = _pool(np.maximum(h2, 0).reshape(16, B, 10, 10))  # (16, B, 5, 5)
        f = p2.transpose(1, 0, 2, 3).reshape(B, 400)  # torch's flatten order (C, H, W)
        h3 = f @ W3.T
        h3 += b3
        a3 = np.maximum(h3, 0)
        h4 = a3 @ W4.T
        h4 += b4
        a4 = np.maximum(h4, 0)
        z = a4 @ W5.T
        z += b5
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(B), yb] -= 1
        g5 = p / np.float32(B)  # d loss / d logits (mean cross-entropy)
        g4 = g5 @ W5
        g4 *= h4 > 0  # ReLU's backward (a product: faster than g4[h4 <= 0] = 0)
        g3 = g4 @ W4
        g3 *= h3 > 0
        gf = g3 @ W3  # (B, 400)
        gp2 = gf.reshape(B, 16, 5, 5).transpose(1, 0, 2, 3)
        gh2 = _pool_back(gp2, r2, p2).reshape(16, -1)
        gh2 *= h2 > 0
        gc2 = cw2.reshape(16, -1).T @ gh2  # (150, B*100)
        gp1 = _col2im(gc2, p1.shape, 5)
        gh1 = _pool_back(gp1, r1, p1).reshape(6, -1)
        gh1 *= h1 > 0
        update(
            [
                (gh1 @ c1.T).reshape(cw1.shape),
                gh1.sum(axis=1),
                (gh2 @ c2.T).reshape(cw2.shape),
                gh2.sum(axis=1),
                g3.T @ f,
                g3.sum(axis=0),
                g4.T @ a3,
                g4.sum(axis=0),
                g5.T @ a4,
                g5.sum(axis=0),
            ]
        )

    def epoch(batch_size, seed):
        order = np.random.default_rng(seed).permutation(len(X))
        for s in range(0, len(X), batch_size):
            idx = order[s : s + batch_size]
            one(X[idx], y[idx])

    def step(xb, yb):
        one(xb, yb)
        return dict(zip(KEYS, (w.copy() for w in params)))

    return epoch, step


CONTENDERS = {"chainrule": _chainrule_contender, "pytorch": _torch_contender, "numpy": _numpy_contender}


def make_epoch(name, X, y, weights, batch_size=64, optimizer="sgd"):
    """The function ``epoch(batch_size, seed)`` of contender ``name`` (used by ``benchmarks.memory`` too)."""
    if optimizer != "sgd":
        raise ValueError("the CNN benchmark trains with SGD only")
    return CONTENDERS[name](X, y, weights)[0]


def _check_same_step(weights, X, y, batch_size, steps=2):
    results = {}
    for name, make in CONTENDERS.items():
        step = make(X[:0], y[:0], weights)[1]
        for i in range(steps):
            out = step(X[batch_size * i : batch_size * (i + 1)], y[batch_size * i : batch_size * (i + 1)])
        results[name] = out
    check_same(results, weights, "sgd", LR)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=0, help="samples per epoch (default 6,400; quick 640)")
    parser.add_argument("--rounds", type=int, default=0, help="rounds (default 7; quick 3)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    parser.add_argument("--quick", action="store_true", help="a short run: fewer samples and rounds")
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    samples = args.samples or (640 if args.quick else 6_400)
    rounds = args.rounds or (3 if args.quick else 7)
    bs = args.batch_size

    import torch

    threads = use_threads(args.threads)
    X, y = make_data(samples)
    weights = init_weights(0)
    _check_same_step(weights, X, y, bs)
    print(
        f"CNN (LeNet-5-like), SGD lr {LR} momentum {MOMENTUM}, one epoch of {samples:,} samples (N, 1, 28, 28) "
        f"at batch {bs}, {threads_text(threads)} (PyTorch {torch.__version__}, NumPy {np.__version__}), float32, "
        f"{rounds} rounds, medians; two steps checked equal across chainrule, PyTorch and NumPy",
        flush=True,
    )
    contenders = {name: make_epoch(name, X, y, weights) for name in CONTENDERS}
    times = alternate({k: (lambda r, f=f: f(bs, r)) for k, f in contenders.items()}, rounds)
    rates = {k: samples / median(v) for k, v in times.items()}
    for k, v in rates.items():
        print(
            f"  {k:10s} {v:10,.0f} samples/s   ({v / rates['pytorch']:.2f}x PyTorch's speed, "
            f"chainrule {rates['chainrule'] / v:.2f}x this)",
            flush=True,
        )
    results = {
        "samples": samples,
        "rounds": rounds,
        "threads": threads,
        "batch_size": bs,
        "rates": rates,
        "memory": None,
    }
    if not args.no_memory and bs == memory.BATCH_SIZE["cnn"]:
        print(
            f"CNN peak memory: one epoch of {samples:,} samples at batch {bs}, each contender in a fresh process",
            flush=True,
        )
        results["memory"] = memory.measure_case("cnn", samples=samples, threads=threads)
    return results


def markdown(results):
    rates, mem = results["rates"], results["memory"]
    header = ["contender", "samples/s", "speed vs PyTorch", "chainrule's speed / this"]
    if mem:
        header += ["peak RSS", "peak growth"]
    rows = []
    for k, v in rates.items():
        row = [NAMES[k], rate(v), ratio(v / rates["pytorch"]), ratio(rates["chainrule"] / v)]
        if mem:
            row += memory.columns(mem, k)
        rows.append(row)
    return (
        f"One epoch of {results['samples']:,} random (N, 1, 28, 28) images, 10 classes, batch "
        f"{results['batch_size']}, through Conv2d(1, 6, 5, padding=2) - ReLU - MaxPool2d(2) - Conv2d(6, 16, 5) - "
        f"ReLU - MaxPool2d(2) - Flatten - Linear(400, 120) - ReLU - Linear(120, 84) - ReLU - Linear(84, 10), "
        f"cross-entropy, SGD lr {LR} momentum {MOMENTUM}; {threads_text(results['threads'])}; median of "
        f"{results['rounds']} rounds. Peak memory: the same epoch, each contender in a fresh process.\n\n"
        + table(header, rows)
    )


if __name__ == "__main__":
    main()
