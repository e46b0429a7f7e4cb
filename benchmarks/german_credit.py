"""A small tabular network: German credit (bundled with chainrule), one hidden layer, Adam; chainrule's Trainer
against PyTorch, scikit-learn's MLPClassifier and a hand-written NumPy loop: speed and test ROC AUC.

The data: ``chainrule.data.datasets.german_credit()`` (1,000 rows, 20 columns, target ``credit_risk``),
split once at random (seed 0) into 800 training and 200 test rows, turned into float32 features by
``chainrule.data.Preprocessor`` fitted on the training rows (numeric columns standardised, categorical
ones one-hot: 61 features). The network: Linear(61, 32) - ReLU - Linear(32, 1), BCEWithLogitsLoss (target
1 = 'good'), Adam (lr 1e-3, betas (0.9, 0.999), eps 1e-8), batches of 32, shuffled, 20 epochs:

* chainrule: ``Trainer.fit(..., epochs=20)``, the public fit loop;
* PyTorch (CPU): the usual loop, same thread count as NumPy's BLAS;
* NumPy: forward, backward and Adam by hand;
* scikit-learn: ``MLPClassifier(hidden_layer_sizes=(32,), solver='adam', batch_size=32, alpha=0,
  max_iter=20)``, run for all 20 epochs (no early stop). A logistic output with log-loss is the same
  model and loss, but its initial weights are its own and its batch order differs.

chainrule, PyTorch and NumPy start each round from the same weights and visit the batches in the same
order (the permutation of ``(seed, epoch)`` that chainrule's DataLoader documents), so their test AUCs
should agree to about 3 decimals; three Adam steps are checked equal first. Each round trains every
contender afresh (model and optimizer made outside the timing); the contenders alternate, and the
median samples per second (800 x 20 per fit) and median test ROC AUC are printed.

    python -m benchmarks.german_credit [--epochs 20] [--rounds 7] [--batch-size 32] [--threads N] [--quick]
"""

import argparse
import time
import warnings

import numpy as np

from .common import add_threads_argument, median, rate, ratio, table, threads_text, use_threads
from .train_mlp import BETAS, EPS, check_same, numpy_updater

LR, HIDDEN = 1e-3, 32
KEYS = ["0.weight", "0.bias", "2.weight", "2.bias"]
NAMES = {"chainrule": "chainrule Trainer", "pytorch": "PyTorch", "numpy": "NumPy by hand", "sklearn": "scikit-learn"}


def load(seed=0, n_test=200):
    """(X_train, y_train, X_test, y_test): float32 features, float32 0/1 targets (1 = 'good')."""
    from chainrule.data import Preprocessor, datasets

    table_ = datasets.german_credit()
    perm = np.random.default_rng(seed).permutation(len(table_))
    train, test = table_.select(perm[n_test:]), table_.select(perm[:n_test])
    pre = Preprocessor(target="credit_risk")
    X_train, y_train = pre.fit_transform(train)
    X_test, y_test = pre.transform(test)
    good = list(pre.classes_).index("good")
    return (
        X_train.astype(np.float32),
        (y_train == good).astype(np.float32),
        X_test.astype(np.float32),
        (y_test == good).astype(np.float32),
    )


def init_weights(n_features, seed=0):
    """PyTorch's default Linear initialisation (uniform in +-1/sqrt(fan_in)), float32 arrays."""
    rng = np.random.default_rng(seed)
    out = {}
    for key, (n_in, n_out) in zip(("0", "2"), ((n_features, HIDDEN), (HIDDEN, 1))):
        bound = 1 / np.sqrt(n_in)
        out[f"{key}.weight"] = rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32)
        out[f"{key}.bias"] = rng.uniform(-bound, bound, n_out).astype(np.float32)
    return out


def _order(seed, epoch, n):
    return np.random.default_rng([seed, epoch]).permutation(n)


def _chainrule(weights):
    """``fit(X, y, epochs, batch_size, seed)`` -> probability function; ``step(xb, yb)`` -> weights."""
    import chainrule as cr
    from chainrule import nn, optim
    from chainrule.train import Trainer

    model = nn.Sequential(nn.Linear(len(weights["0.weight"][0]), HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 1))
    model.load_state_dict(weights)
    trainer = Trainer(model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=LR, betas=BETAS, eps=EPS))

    def fit(X, y, epochs, batch_size, seed):
        trainer.fit((X, y), epochs=epochs, batch_size=batch_size, shuffle=True, seed=seed, verbose=0)
        return lambda Xt: trainer.predict_proba(Xt).reshape(-1)

    def step(xb, yb):
        trainer.train_step((cr.tensor(xb), cr.tensor(yb)))
        return dict(model.state_dict())

    return fit, step


def _torch(weights):
    import torch

    model = torch.nn.Sequential(
        torch.nn.Linear(len(weights["0.weight"][0]), HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 1)
    )
    model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    opt = torch.optim.Adam(model.parameters(), lr=LR, betas=BETAS, eps=EPS)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def one(xb, yb):
        opt.zero_grad()
        loss_fn(model(xb).reshape(-1), yb).backward()
        opt.step()

    def fit(X, y, epochs, batch_size, seed):
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        model.train()
        for epoch in range(epochs):
            order = torch.from_numpy(_order(seed, epoch, len(Xt)))
            for s in range(0, len(Xt), batch_size):
                idx = order[s : s + batch_size]
                one(Xt[idx], yt[idx])

        def proba(X_test):
            with torch.no_grad():
                return torch.sigmoid(model(torch.from_numpy(X_test))).numpy().reshape(-1)

        return proba

    def step(xb, yb):
        one(torch.from_numpy(xb), torch.from_numpy(yb))
        return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}

    return fit, step


def _numpy(weights):
    params = [np.array(weights[k], dtype=np.float32) for k in KEYS]
    update = numpy_updater(params, "adam", lr=LR)

    def logits(X):
        W1, b1, W2, b2 = params
        return (np.maximum(X @ W1.T + b1, 0) @ W2.T + b2).reshape(-1)

    def one(xb, yb):
        W1, b1, W2, b2 = params
        h = xb @ W1.T
        h += b1
        a = np.maximum(h, 0)
        z = (a @ W2.T).reshape(-1)
        z += b2
        g = (1 / (1 + np.exp(-z)) - yb) / np.float32(len(xb))  # d mean BCE-with-logits / d z
        ga = np.outer(g, W2[0])
        ga *= h > 0
        update([ga.T @ xb, ga.sum(axis=0), (g @ a)[None, :], g.sum(keepdims=True)])

    def fit(X, y, epochs, batch_size, seed):
        for epoch in range(epochs):
            order = _order(seed, epoch, len(X))
            for s in range(0, len(X), batch_size):
                idx = order[s : s + batch_size]
                one(X[idx], y[idx])
        return lambda X_test: 1 / (1 + np.exp(-logits(X_test)))

    def step(xb, yb):
        one(xb, yb)
        return dict(zip(KEYS, (w.copy() for w in params)))

    return fit, step


def _sklearn(weights):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    def fit(X, y, epochs, batch_size, seed):
        clf = MLPClassifier(
            hidden_layer_sizes=(HIDDEN,),
            solver="adam",
            learning_rate_init=LR,
            beta_1=BETAS[0],
            beta_2=BETAS[1],
            epsilon=EPS,
            alpha=0.0,
            batch_size=batch_size,
            max_iter=epochs,
            shuffle=True,
            random_state=seed,
            tol=0.0,
            n_iter_no_change=epochs + 1,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y.astype(np.int64))
        return lambda X_test: clf.predict_proba(X_test)[:, 1]

    return fit, None


CONTENDERS = {"chainrule": _chainrule, "pytorch": _torch, "numpy": _numpy, "sklearn": _sklearn}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=0, help="epochs per fit (default 20; quick 5)")
    parser.add_argument("--rounds", type=int, default=0, help="rounds (default 7; quick 3)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="a short run: fewer epochs and rounds")
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    epochs = args.epochs or (5 if args.quick else 20)
    rounds = args.rounds or (3 if args.quick else 7)
    bs = args.batch_size

    import torch
    from sklearn.metrics import roc_auc_score

    threads = use_threads(args.threads)
    X, y, X_test, y_test = load()
    weights = init_weights(X.shape[1])
    steps = {k: make(weights)[1] for k, make in CONTENDERS.items() if k != "sklearn"}
    check_same(
        {
            k: [step(X[bs * i : bs * (i + 1)], y[bs * i : bs * (i + 1)]) for i in range(3)][-1]
            for k, step in steps.items()
        },
        weights,
        "adam",
        LR,
    )
    print(
        f"German credit: {len(X)} training rows x {X.shape[1]} features, {len(X_test)} test rows; "
        f"Linear({X.shape[1]}, {HIDDEN}) - ReLU - Linear({HIDDEN}, 1), BCE with logits, Adam lr {LR}, batch {bs}, "
        f"{epochs} epochs per fit, {threads_text(threads)} (PyTorch {torch.__version__}, NumPy {np.__version__}), "
        f"{rounds} rounds, medians; three Adam steps checked equal across chainrule, PyTorch and NumPy",
        flush=True,
    )
    names = list(CONTENDERS)
    seconds, aucs = {k: [] for k in names}, {k: [] for k in names}
    for r in range(rounds):
        for k in names if r % 2 == 0 else names[::-1]:
            fit = CONTENDERS[k](weights)[0]  # a fresh model and optimizer, untimed
            t0 = time.perf_counter()
            proba = fit(X, y, epochs, bs, r)
            seconds[k].append(time.perf_counter() - t0)
            aucs[k].append(float(roc_auc_score(y_test, proba(X_test))))
    n = len(X) * epochs
    rates = {k: n / median(v) for k, v in seconds.items()}
    for k in names:
        print(
            f"  {k:10s} {rates[k]:10,.0f} samples/s   ({rates[k] / rates['pytorch']:.2f}x PyTorch's speed, "
            f"chainrule {rates['chainrule'] / rates[k]:.2f}x this)   test ROC AUC median {median(aucs[k]):.4f} "
            f"(rounds: {min(aucs[k]):.4f} to {max(aucs[k]):.4f})",
            flush=True,
        )
    return {
        "n_train": len(X),
        "n_test": len(X_test),
        "features": X.shape[1],
        "epochs": epochs,
        "rounds": rounds,
        "batch_size": bs,
        "threads": threads,
        "rates": rates,
        "auc": aucs,
    }


def markdown(results):
    rates, aucs = results["rates"], results["auc"]
    rows = [
        (
            NAMES[k],
            rate(v),
            ratio(v / rates["pytorch"]),
            ratio(rates["chainrule"] / v),
            f"{median(aucs[k]):.4f}",
            f"{min(aucs[k]):.4f} - {max(aucs[k]):.4f}",
        )
        for k, v in rates.items()
    ]
    return (
        f"German credit (bundled): {results['n_train']} training rows x {results['features']} features "
        f"(chainrule's Preprocessor), {results['n_test']} test rows; Linear({results['features']}, {HIDDEN}) - "
        f"ReLU - Linear({HIDDEN}, 1), BCE with logits, Adam lr {LR}, batch {results['batch_size']}, "
        f"{results['epochs']} epochs per fit, each fit from scratch; {threads_text(results['threads'])}; "
        f"medians of {results['rounds']} rounds. chainrule, PyTorch and NumPy share initial weights and batch "
        "order; scikit-learn uses its own.\n\n"
        + table(
            [
                "contender",
                "samples/s",
                "speed vs PyTorch",
                "chainrule's speed / this",
                "test ROC AUC",
                "AUC range over rounds",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
