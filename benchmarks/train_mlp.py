"""Training speed: one epoch of an MLP on MNIST-shaped data, chainrule's Trainer against PyTorch,
scikit-learn's MLPClassifier and a hand-written NumPy loop, with SGD (momentum) and with Adam.

The data are random, MNIST-shaped: 60,000 x 784 float32 inputs and 10 classes (``--samples``
takes fewer). The network is 784-256-128-10 with ReLUs, trained with cross-entropy in shuffled
mini-batches of 32, 128 and 1024, with SGD (lr 0.01, momentum 0.9, no weight decay) and with Adam
(lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay):

* chainrule: ``Trainer.fit(..., epochs=1)`` (the whole fit loop: DataLoader, callbacks, history);
* PyTorch (CPU), the usual loop over ``randperm`` batches, same thread count as NumPy's BLAS;
* scikit-learn: ``MLPClassifier(solver='sgd' or 'adam').partial_fit`` (one pass over the data; float32
  kept). Its Adam adds eps to sqrt(v) before the bias correction, PyTorch after: a negligible difference;
* NumPy: forward, backward and the optimizer update written by hand, no autograd: the floor for
  any NumPy library. Its Adam is PyTorch's (bias-corrected moments, eps added to sqrt(v_hat)).

First two SGD steps (three Adam steps) of chainrule, PyTorch and the NumPy loop, from the same weights
on the same batches, are checked to give the same weights. Then the contenders alternate, round by round
(the order reversed every other round), and the median samples per second over rounds is printed with
the ratio to PyTorch. Unless ``--no-memory``, the peak memory of one SGD epoch at batch 128 is measured
for each contender in a fresh process (``benchmarks.memory``).

    python -m benchmarks.train_mlp [--optimizer sgd|adam|both] [--samples 60000] [--rounds 7]
                                   [--batch-sizes 32,128,1024] [--threads N] [--quick]
    OPENBLAS_NUM_THREADS=1 python -m benchmarks.train_mlp     # one thread each
"""

import argparse
import math
import warnings

import numpy as np

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

SIZES = (784, 256, 128, 10)
KEYS = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
LR = {"sgd": 0.01, "adam": 1e-3}
MOMENTUM = 0.9
BETAS, EPS = (0.9, 0.999), 1e-8
NAMES = {"chainrule": "chainrule Trainer", "pytorch": "PyTorch", "numpy": "NumPy by hand", "sklearn": "scikit-learn"}


def make_data(samples, seed=0):
    """Random MNIST-shaped data: (samples, 784) float32 inputs, int64 labels in 0..9."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((samples, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], samples)
    return X, y


def init_weights(seed=0):
    """PyTorch's default Linear initialisation (uniform in +-1/sqrt(fan_in)), as a state dict of float32 arrays."""
    rng = np.random.default_rng(seed)
    out = {}
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        bound = 1 / np.sqrt(n_in)
        out[f"{2 * i}.weight"] = rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32)
        out[f"{2 * i}.bias"] = rng.uniform(-bound, bound, n_out).astype(np.float32)
    return out


def _chainrule_contender(X, y, weights, optimizer):
    import chainrule as cr
    from chainrule import nn, optim
    from chainrule.train import Trainer

    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    model.load_state_dict(weights)
    if optimizer == "sgd":
        opt = optim.SGD(model.parameters(), lr=LR["sgd"], momentum=MOMENTUM)
    else:
        opt = optim.Adam(model.parameters(), lr=LR["adam"], betas=BETAS, eps=EPS)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt)

    def epoch(batch_size, seed):
        trainer.fit((X, y), epochs=1, batch_size=batch_size, shuffle=True, seed=seed, verbose=0)

    def step(xb, yb):
        trainer.train_step((cr.tensor(xb), cr.tensor(yb)))
        return dict(model.state_dict())  # copies

    return epoch, step


def _torch_contender(X, y, weights, optimizer):
    import torch

    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)
    )
    model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=LR["sgd"], momentum=MOMENTUM)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=LR["adam"], betas=BETAS, eps=EPS)
    loss_fn = torch.nn.CrossEntropyLoss()
    return torch_training(model, opt, loss_fn, X, y)


def numpy_updater(params, optimizer, lr=None):
    """``update(grads)``: one SGD-momentum or Adam step, in place, with PyTorch's semantics."""
    lr = LR[optimizer] if lr is None else lr
    state = {"t": 0, "a": [None] * len(params), "b": [None] * len(params)}
    if optimizer == "sgd":

        def update(grads):
            velocity = state["a"]
            for i, (w, g) in enumerate(zip(params, grads)):
                if velocity[i] is None:
                    velocity[i] = g  # torch's momentum buffer starts as the first gradient
                else:
                    velocity[i] *= MOMENTUM
                    velocity[i] += g
                w -= lr * velocity[i]

        return update
    beta1, beta2 = BETAS

    def update(grads):
        state["t"] = t = state["t"] + 1
        bias1, bias2_sqrt = 1 - beta1**t, math.sqrt(1 - beta2**t)
        for i, (w, g) in enumerate(zip(params, grads)):
            if state["a"][i] is None:
                state["a"][i], state["b"][i] = np.zeros_like(w), np.zeros_like(w)
            m, v = state["a"][i], state["b"][i]
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * (g * g)
            denom = np.sqrt(v)
            denom /= bias2_sqrt
            denom += EPS
            w -= (lr / bias1) * m / denom

    return update


def _numpy_contender(X, y, weights, optimizer):
    params = [np.array(weights[k], dtype=np.float32) for k in KEYS]
    update = numpy_updater(params, optimizer)

    def one(xb, yb):
        W1, b1, W2, b2, W3, b3 = params
        m = len(xb)
        h1 = xb @ W1.T
        h1 += b1
        a1 = np.maximum(h1, 0)
        h2 = a1 @ W2.T
        h2 += b2
        a2 = np.maximum(h2, 0)
        z = a2 @ W3.T
        z += b3
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(m), yb] -= 1
        g3 = p / np.float32(m)  # d loss / d logits (mean cross-entropy)
        g2 = g3 @ W3
        g2[h2 <= 0] = 0
        g1 = g2 @ W2
        g1[h1 <= 0] = 0
        update([g1.T @ xb, g1.sum(axis=0), g2.T @ a1, g2.sum(axis=0), g3.T @ a2, g3.sum(axis=0)])

    def epoch(batch_size, seed):
        order = np.random.default_rng(seed).permutation(len(X))
        for s in range(0, len(X), batch_size):
            idx = order[s : s + batch_size]
            one(X[idx], y[idx])

    def step(xb, yb):
        one(xb, yb)
        return dict(zip(KEYS, (w.copy() for w in params)))

    return epoch, step


def _sklearn_contender(X, y, batch_size, optimizer):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    if optimizer == "sgd":
        options = {"solver": "sgd", "momentum": MOMENTUM, "nesterovs_momentum": False}
    else:
        options = {"solver": "adam", "beta_1": BETAS[0], "beta_2": BETAS[1], "epsilon": EPS}
    clf = MLPClassifier(
        hidden_layer_sizes=SIZES[1:-1],
        learning_rate_init=LR[optimizer],
        alpha=0.0,
        batch_size=batch_size,
        shuffle=True,
        random_state=0,
        **options,
    )
    classes = np.arange(SIZES[-1])

    def epoch(batch_size_, seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.partial_fit(X, y, classes=classes)

    return epoch


CONTENDERS = {"chainrule": _chainrule_contender, "pytorch": _torch_contender, "numpy": _numpy_contender}


def make_epoch(name, X, y, weights, batch_size, optimizer):
    """The function ``epoch(batch_size, seed)`` of contender ``name`` (used by ``benchmarks.memory`` too)."""
    if name == "sklearn":
        return _sklearn_contender(X, y, batch_size, optimizer)
    return CONTENDERS[name](X, y, weights, optimizer)[0]


def _check_same_step(weights, X, y, optimizer):
    """A few steps from the same weights on the same batches: chainrule, PyTorch and NumPy agree."""
    steps = 2 if optimizer == "sgd" else 3
    results = {}
    for name, make in CONTENDERS.items():
        step = make(X[:0], y[:0], weights, optimizer)[1]
        for i in range(steps):
            out = step(X[32 * i : 32 * (i + 1)], y[32 * i : 32 * (i + 1)])
        results[name] = out
    check_same(results, weights, optimizer, LR[optimizer])


def check_same(results, weights, optimizer, lr):
    """Each contender's weights after the same steps equal PyTorch's, and so do the changes from ``weights``.

    SGD: the weights to rtol 1e-4, and the changes (lr times the gradients) to 1% of the largest change,
    so that a wrong gradient cannot hide behind a small learning rate. Adam moves every weight by about
    lr in its first steps, whatever the size of its gradient: a gradient of 1e-9 that rounds differently
    in another summation order moves its weight by a different fraction of lr, so there the weights and
    changes are compared to lr / 10.
    """
    want = results["pytorch"]
    for name, got in results.items():
        for k, w in want.items():
            change, want_change = got[k] - weights[k], w - weights[k]
            if optimizer == "sgd":
                np.testing.assert_allclose(got[k], w, rtol=1e-4, atol=1e-6, err_msg=f"{name} {k}")
                atol = 1e-2 * float(np.abs(want_change).max())
            else:
                atol = lr / 10
                np.testing.assert_allclose(got[k], w, rtol=1e-4, atol=atol, err_msg=f"{name} {k}")
            np.testing.assert_allclose(change, want_change, rtol=1e-2, atol=atol, err_msg=f"{name} {k} change")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--optimizer", choices=("sgd", "adam", "both"), default="both")
    parser.add_argument("--samples", type=int, default=0, help="samples per epoch (default 60,000; quick 6,000)")
    parser.add_argument("--rounds", type=int, default=0, help="rounds (default 7)")
    parser.add_argument("--batch-sizes", default="32,128,1024")
    parser.add_argument("--no-sklearn", action="store_true", help="leave scikit-learn out")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    parser.add_argument("--quick", action="store_true", help="a short run: fewer samples")
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    samples = args.samples or (6_000 if args.quick else 60_000)
    rounds = args.rounds or 7
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    optimizers = ["sgd", "adam"] if args.optimizer == "both" else [args.optimizer]

    import torch

    threads = use_threads(args.threads)
    X, y = make_data(samples)
    weights = init_weights(0)
    have_sklearn = not args.no_sklearn
    if have_sklearn:
        try:
            import sklearn  # noqa: F401
        except ImportError:
            have_sklearn = False

    results = {
        "samples": samples,
        "rounds": rounds,
        "threads": threads,
        "batch_sizes": batch_sizes,
        "optimizers": {},
        "memory": None,
    }
    for optimizer in optimizers:
        _check_same_step(weights, X, y, optimizer)
        what = (
            f"SGD lr {LR['sgd']} momentum {MOMENTUM}"
            if optimizer == "sgd"
            else f"Adam lr {LR['adam']} betas {BETAS} eps {EPS}"
        )
        print(
            f"MLP 784-256-128-10, {what}, one epoch of {samples:,} samples, {threads_text(threads)} "
            f"(PyTorch {torch.__version__}, NumPy {np.__version__}), float32, {rounds} rounds, medians; "
            f"{2 if optimizer == 'sgd' else 3} steps checked equal across chainrule, PyTorch and NumPy",
            flush=True,
        )
        rates = results["optimizers"][optimizer] = {}
        for bs in batch_sizes:
            contenders = {
                name: make_epoch(name, X, y, weights, bs, optimizer)
                for name in ("chainrule", "pytorch", "numpy", *(("sklearn",) if have_sklearn else ()))
            }
            times = alternate({k: (lambda r, f=f, bs=bs: f(bs, r)) for k, f in contenders.items()}, rounds)
            rate_ = rates[bs] = {k: samples / median(v) for k, v in times.items()}
            print(f"  batch {bs}:")
            for k, v in rate_.items():
                print(
                    f"    {k:10s} {v:12,.0f} samples/s   ({v / rate_['pytorch']:.2f}x PyTorch's speed, "
                    f"chainrule {rate_['chainrule'] / v:.2f}x this)",
                    flush=True,
                )
    if not args.no_memory:
        names = ["chainrule", "pytorch", "numpy", *(["sklearn"] if have_sklearn else [])]
        print(
            f"MLP peak memory: one SGD epoch of {samples:,} samples at batch {memory.BATCH_SIZE['mlp']}, "
            "each contender in a fresh process",
            flush=True,
        )
        results["memory"] = memory.measure_case("mlp", names, samples=samples, threads=threads)
    return results


def markdown(results):
    """The results as Markdown tables: samples/s and speed relative to PyTorch, per optimizer."""
    parts = [
        f"One epoch of {results['samples']:,} random MNIST-shaped samples (784 float32 features, 10 classes) "
        f"through 784-256-128-10 ReLU, cross-entropy, shuffled; {threads_text(results['threads'])}; median of "
        f"{results['rounds']} rounds. Cells: samples/s (speed relative to PyTorch). Peak memory: one SGD epoch "
        f"at batch {memory.BATCH_SIZE['mlp']}, each contender in a fresh process."
    ]
    for optimizer, rates in results["optimizers"].items():
        what = (
            f"SGD, lr {LR['sgd']}, momentum {MOMENTUM}"
            if optimizer == "sgd"
            else f"Adam, lr {LR['adam']}, betas {BETAS}, eps {EPS}"
        )
        names = list(next(iter(rates.values())))
        mem = results["memory"] if optimizer == "sgd" else None
        header = ["contender", *(f"batch {bs}" for bs in rates), "chainrule's speed / this"]
        if mem:
            header += ["peak RSS", "peak growth"]
        rows = []
        for k in names:
            row = [
                NAMES[k],
                *(f"{rate(r[k])} ({ratio(r[k] / r['pytorch'])})" for r in rates.values()),
                " / ".join(ratio(r["chainrule"] / r[k]) for r in rates.values()),
            ]
            if mem:
                row += memory.columns(mem, k)
            rows.append(row)
        parts.append(f"**{what}**\n\n" + table(header, rows))
    return "\n\n".join(parts)


if __name__ == "__main__":
    main()
