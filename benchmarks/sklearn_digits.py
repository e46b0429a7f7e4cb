"""scikit-learn digits: chainrule's ``NeuralNetClassifier`` against scikit-learn's ``MLPClassifier``.

Both with their default settings (one hidden layer of 100 ReLU units, Adam at lr 1e-3, batches
of min(200, n), stopping when the training loss has not improved by 1e-4 for 10 epochs, at
most 200 epochs) on the same split: ``load_digits``, ``train_test_split(test_size=0.25,
random_state=0)``, inputs standardised on the training part. Round ``r`` fits both with
``random_state=r``; the contenders alternate who goes first. Prints each round, then the
medians of test accuracy and fit wall time and the ratio of times. Both do their matrix
products in NumPy's BLAS, limited to ``--threads`` threads (1 by default: on a small shared
machine multi-threaded OpenBLAS on these small matrices makes times swing by 10x; 0 leaves
BLAS at its own thread count).

    python -m benchmarks.sklearn_digits [--rounds 5] [--threads 1] [--quick]
"""

import argparse
import time
import warnings

import numpy as np

from .common import table


def _data():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _run(make, seed, data):
    X_train, X_test, y_train, y_test = data
    est = make(seed)
    start = time.perf_counter()
    est.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return est.score(X_test, y_test), seconds, est.n_iter_


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=0, help="rounds (default 5; quick 2)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (0: BLAS's own default)")
    parser.add_argument("--quick", action="store_true", help="a short run: fewer rounds")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 5)
    if args.threads > 0:
        from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

        with threadpool_limits(limits=args.threads, user_api="blas"):
            return _main(args)
    return _main(args)


def _main(args):

    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from chainrule.sklearn import NeuralNetClassifier

    warnings.simplefilter("ignore", ConvergenceWarning)
    data = _data()
    contenders = {
        "chainrule NeuralNetClassifier": lambda seed: NeuralNetClassifier(random_state=seed),
        f"scikit-learn {sklearn.__version__} MLPClassifier": lambda seed: MLPClassifier(random_state=seed),
    }
    names = list(contenders)
    print(
        f"digits: {len(data[0])} training and {len(data[1])} test samples, 64 features, 10 classes; "
        f"NumPy {np.__version__}, {args.rounds} rounds, BLAS threads: {args.threads or 'default'}"
    )
    for make in contenders.values():  # warm up (imports, first BLAS calls): one epoch each
        est = make(0)
        est.set_params(**{"max_epochs" if "max_epochs" in est.get_params() else "max_iter": 1})
        est.fit(data[0], data[2])
    results = {k: [] for k in names}
    for r in range(args.rounds):
        order = names if r % 2 == 0 else names[::-1]
        for k in order:
            results[k].append(_run(contenders[k], r, data))
        line = "; ".join(
            f"{k.split()[-1]} acc {results[k][-1][0]:.4f} {results[k][-1][1]:.3f} s ({results[k][-1][2]} epochs)"
            for k in names
        )
        print(f"  round {r} (random_state={r}): {line}")
    med = {
        k: (
            float(np.median([a for a, _, _ in v])),
            float(np.median([t for _, t, _ in v])),
            float(np.median([n for _, _, n in v])),
        )
        for k, v in results.items()
    }
    ref = med[names[1]][1]
    print("medians:")
    for k, (acc, seconds, epochs) in med.items():
        print(
            f"  {k:40s} accuracy {acc:.4f}   fit {seconds:.3f} s   {epochs:.0f} epochs   "
            f"({seconds / ref:.2f}x MLPClassifier's time)",
            flush=True,
        )
    return {
        "rounds": args.rounds,
        "threads": args.threads,
        "names": names,
        "medians": med,
        "accuracy_range": {k: (min(a for a, _, _ in v), max(a for a, _, _ in v)) for k, v in results.items()},
    }


def markdown(results):
    med, names = results["medians"], results["names"]
    ref = med[names[1]][1]
    rows = [
        (
            k,
            f"{acc:.4f}",
            "{:.4f} - {:.4f}".format(*results["accuracy_range"][k]),
            f"{seconds:.3f} s",
            f"{epochs:.0f}",
            f"{ref / seconds:.2f}x",
        )
        for k, (acc, seconds, epochs) in med.items()
    ]
    return (
        f"load_digits, 25% test split, inputs standardised; both estimators with their defaults (100 ReLU units, "
        f"Adam, early stop on the training loss); round r fits both with random_state=r; BLAS threads: "
        f"{results['threads'] or 'default'}; medians of {results['rounds']} rounds.\n\n"
        + table(["estimator", "test accuracy", "accuracy range", "fit time", "epochs", "speed vs MLPClassifier"], rows)
    )


if __name__ == "__main__":
    main()
