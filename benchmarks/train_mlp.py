"""Training speed: one epoch of an MLP on MNIST-shaped data, chainrule's Trainer against PyTorch,
scikit-learn's MLPClassifier and a hand-written NumPy loop.

The data are random, MNIST-shaped: 60,000 x 784 float32 inputs and 10 classes (``--samples``
takes fewer). The network is 784-256-128-10 with ReLUs, trained with cross-entropy and SGD
(lr 0.01, momentum 0.9, no weight decay) in shuffled mini-batches of 32, 128 and 1024:

* chainrule: ``Trainer.fit(..., epochs=1)`` (the whole fit loop: DataLoader, callbacks, history);
* PyTorch (CPU), the usual loop over ``randperm`` batches, same thread count as NumPy's BLAS;
* scikit-learn: ``MLPClassifier(solver='sgd').partial_fit`` (one pass over the data; float32 kept);
* NumPy: forward, backward and the momentum update written by hand, no autograd: the floor for
  any NumPy library.

First one SGD step of chainrule, PyTorch and the NumPy loop is checked to give the same weights.
Then the contenders alternate, round by round (the order reversed every other round), and the
median samples per second over rounds is printed with the ratio to PyTorch.

    python -m benchmarks.train_mlp [--samples 60000] [--rounds 3] [--batch-sizes 32,128,1024]
    OPENBLAS_NUM_THREADS=1 python -m benchmarks.train_mlp     # one thread each
"""

import argparse
import time
import warnings

import numpy as np

from .layers import _threads

SIZES = (784, 256, 128, 10)
LR, MOMENTUM = 0.01, 0.9


def _chainrule_contender(X, y, weights):
    import chainrule as cr
    from chainrule import nn, optim
    from chainrule.train import Trainer

    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    model.load_state_dict(weights)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM))

    def epoch(batch_size, seed):
        trainer.fit((X, y), epochs=1, batch_size=batch_size, shuffle=True, seed=seed, verbose=0)

    def step(xb, yb):
        trainer.train_step((cr.tensor(xb), cr.tensor(yb)))
        return model.state_dict()

    return epoch, step


def _torch_contender(X, y, weights):
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                torch.nn.ReLU(), torch.nn.Linear(128, 10))
    model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def one(xb, yb):
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()

    def epoch(batch_size, seed):
        g = torch.Generator().manual_seed(seed)
        order = torch.randperm(len(Xt), generator=g)
        for s in range(0, len(Xt), batch_size):
            idx = order[s : s + batch_size]
            one(Xt[idx], yt[idx])

    def step(xb, yb):
        one(torch.from_numpy(xb), torch.from_numpy(yb))
        return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}

    return epoch, step


def _numpy_contender(X, y, weights):
    keys = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    params = [np.array(weights[k], dtype=np.float32) for k in keys]
    velocity = [None] * len(params)

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
        grads = [g1.T @ xb, g1.sum(axis=0), g2.T @ a1, g2.sum(axis=0), g3.T @ a2, g3.sum(axis=0)]
        for i, (w, g) in enumerate(zip(params, grads)):
            if velocity[i] is None:
                velocity[i] = g  # torch's momentum buffer starts as the first gradient
            else:
                velocity[i] *= MOMENTUM
                velocity[i] += g
            w -= LR * velocity[i]

    def epoch(batch_size, seed):
        order = np.random.default_rng(seed).permutation(len(X))
        for s in range(0, len(X), batch_size):
            idx = order[s : s + batch_size]
            one(X[idx], y[idx])

    def step(xb, yb):
        one(xb, yb)
        return dict(zip(keys, (w.copy() for w in params)))

    return epoch, step


def _sklearn_contender(X, y, batch_size):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=SIZES[1:-1], solver="sgd", learning_rate_init=LR, momentum=MOMENTUM,
                        nesterovs_momentum=False, alpha=0.0, batch_size=batch_size, shuffle=True, random_state=0)
    classes = np.arange(SIZES[-1])

    def epoch(batch_size_, seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.partial_fit(X, y, classes=classes)

    return epoch


def _check_same_step(weights, X, y):
    """One SGD step from the same weights on the same batch: chainrule, PyTorch and NumPy agree."""
    xb, yb = X[:32], y[:32]
    results = {name: make(X[:0], y[:0], weights)[1](xb, yb) for name, make in
               (("chainrule", _chainrule_contender), ("pytorch", _torch_contender), ("numpy", _numpy_contender))}
    for name in ("chainrule", "numpy"):
        for k, want in results["pytorch"].items():
            np.testing.assert_allclose(results[name][k], want, rtol=1e-4, atol=1e-6, err_msg=f"{name} {k}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-sizes", default="32,128,1024")
    parser.add_argument("--no-sklearn", action="store_true", help="leave scikit-learn out")
    args = parser.parse_args(argv)
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]

    import torch

    import chainrule as cr
    from chainrule import nn

    threads = _threads()
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.samples, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], args.samples)
    cr.manual_seed(0)
    init = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    weights = init.state_dict()
    _check_same_step(weights, X, y)
    have_sklearn = not args.no_sklearn
    if have_sklearn:
        try:
            import sklearn  # noqa: F401
        except ImportError:
            have_sklearn = False

    print(f"MLP 784-256-128-10, SGD lr {LR} momentum {MOMENTUM}, one epoch of {args.samples:,} samples, "
          f"{threads} threads (PyTorch {torch.__version__}, NumPy {np.__version__}), float32, "
          f"{args.rounds} rounds, medians; one step checked equal across chainrule, PyTorch and NumPy")
    all_results = {}
    for bs in batch_sizes:
        contenders = {
            "chainrule": _chainrule_contender(X, y, weights)[0],
            "pytorch": _torch_contender(X, y, weights)[0],
            "numpy": _numpy_contender(X, y, weights)[0],
        }
        if have_sklearn:
            contenders["sklearn"] = _sklearn_contender(X, y, bs)
        times = {k: [] for k in contenders}
        for r in range(args.rounds):
            order = list(contenders.items())
            if r % 2:
                order.reverse()
            for k, f in order:
                t0 = time.perf_counter()
                f(bs, r)
                times[k].append(time.perf_counter() - t0)
        rate = {k: args.samples / float(np.median(v)) for k, v in times.items()}
        all_results[bs] = rate
        print(f"batch {bs}:")
        for k, v in rate.items():
            print(f"  {k:10s} {v:12,.0f} samples/s   ({v / rate['pytorch']:.2f}x PyTorch's speed, "
                  f"chainrule {rate['chainrule'] / v:.2f}x this)")
    return all_results


if __name__ == "__main__":
    main()
