"""The subcommands: ``train``, ``evaluate``, ``predict``, ``info``."""

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from ..errors import ArgumentError, DataError

# --------------------------------------------------------------------------- argument parsing


def _int(value):
    if isinstance(value, float) and not value.is_integer():  # a TOML 1.5 is not an integer
        raise ValueError(value)
    return int(value)


def _number(parse, ok, expected):
    """A converter for an option's value: parse it, check it, or say what was expected."""

    def convert(value):
        try:
            v = parse(value)
        except (TypeError, ValueError):
            v = None
        if v is None or not ok(v):
            raise ArgumentError(f"expected {expected}, got {value!r}")
        return v

    return convert


_positive_int = _number(_int, lambda v: v >= 1, "a positive integer")
_seed = _number(_int, lambda v: v >= 0, "a non-negative integer")
_fraction = _number(float, lambda v: 0 <= v < 1, "a number in [0, 1)")
_positive_float = _number(float, lambda v: math.isfinite(v) and v > 0, "a positive number")


def _hidden(text):
    if isinstance(text, list | tuple):
        parts = [str(p) for p in text]
    else:
        parts = [p for p in str(text).replace(" ", "").split(",") if p != ""]
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        raise ArgumentError(f"--hidden takes comma-separated layer sizes like 64,32, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise ArgumentError(f"--hidden sizes must be positive, got {text!r}")
    return sizes


def _typed(fn):
    """Wrap a converter so that argparse reports its message (argparse only shows ArgumentTypeError's)."""
    import argparse

    def convert(text):
        try:
            return fn(text)
        except ArgumentError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    convert.__name__ = fn.__name__
    return convert


TRAIN_DEFAULTS = {
    "target": None, "task": None, "hidden": [64, 32], "activation": "relu", "dropout": 0.1, "epochs": 50,
    "batch_size": 32, "optimizer": "adam", "lr": 1e-3, "val_split": 0.2, "test_split": 0.2, "seed": 0,
    "patience": 10, "output": "model.crm", "checkpoint_dir": None, "resume": False, "metrics_json": None,
    "dataset": None, "data_dir": None, "model": "mlp", "plot": None, "weight_decay": 0.0, "schedule": "none",
}
_CONVERTERS = {"hidden": _hidden, "dropout": _fraction, "epochs": _positive_int, "batch_size": _positive_int,
               "lr": _positive_float, "val_split": _fraction, "test_split": _fraction, "patience": _positive_int,
               "seed": _seed}


def add_train(sub):
    p = sub.add_parser("train", help="train a network on a CSV file (or the embedded German credit data)")
    p.add_argument("data", nargs="?", help="CSV (or Parquet) file; omit it to use the embedded German credit data")
    p.add_argument("--target", help="the column to predict")
    p.add_argument("--task", choices=["classification", "regression"], help="inferred from the target if omitted")
    p.add_argument("--hidden", type=_typed(_hidden), help="hidden layer sizes, e.g. 64,32 (default 64,32)")
    p.add_argument("--activation", help="hidden activation: relu, tanh, sigmoid, gelu, leaky_relu, elu, silu")
    p.add_argument("--dropout", type=_typed(_fraction), help="dropout after each hidden layer (default 0.1)")
    p.add_argument("--epochs", type=_typed(_positive_int), help="at most this many epochs (default 50)")
    p.add_argument("--batch-size", dest="batch_size", type=_typed(_positive_int), help="mini-batch size (default 32)")
    p.add_argument("--optimizer", help="sgd, adam, adamw, rmsprop or adagrad (default adam)")
    p.add_argument("--lr", type=_typed(_positive_float), help="learning rate (default 1e-3)")
    p.add_argument("--weight-decay", dest="weight_decay", type=float, help="L2 penalty (default 0)")
    p.add_argument("--schedule", choices=["none", "cosine", "plateau"],
                   help="learning-rate schedule: cosine annealing over --epochs, or halve on a plateau (default none)")
    p.add_argument("--val-split", dest="val_split", type=_typed(_fraction), help="validation fraction (default 0.2)")
    p.add_argument("--test-split", dest="test_split", type=_typed(_fraction), help="test fraction (default 0.2)")
    p.add_argument("--seed", type=_typed(_seed), help="seed for splits, initial weights and batch order (default 0)")
    p.add_argument("--patience", type=_typed(_positive_int), help="early-stopping patience in epochs (default 10)")
    p.add_argument("--output", help="model file to write (default model.crm)")
    p.add_argument("--checkpoint-dir", dest="checkpoint_dir", help="save a checkpoint after every epoch here")
    p.add_argument("--resume", action="store_true", default=None, help="continue from --checkpoint-dir's checkpoint")
    p.add_argument("--config", help="a TOML file with any of these options (command-line options win)")
    p.add_argument("--metrics-json", dest="metrics_json", help="write the final validation and test metrics here")
    p.add_argument("--dataset", choices=["mnist", "fashion_mnist"], help="train on an image dataset from --data-dir")
    p.add_argument("--data-dir", dest="data_dir", help="folder with the dataset's IDX files")
    p.add_argument("--model", choices=["mlp", "cnn"], help="network for --dataset (default mlp)")
    p.add_argument("--plot", help="PNG of the training curves (default: next to --output)")
    p.set_defaults(run=run_train)


def add_evaluate(sub):
    p = sub.add_parser("evaluate", help="metrics of a trained model on a CSV file with the target column")
    p.add_argument("model", help="model file written by `chainrule train`")
    p.add_argument("data", help="CSV (or Parquet) file")
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    p.set_defaults(run=run_evaluate)


def add_predict(sub):
    p = sub.add_parser("predict", help="predictions of a trained model for a CSV file")
    p.add_argument("model", help="model file written by `chainrule train`")
    p.add_argument("data", help="CSV (or Parquet) file")
    p.add_argument("--output", help="CSV file to write (default: print to standard output)")
    p.set_defaults(run=run_predict)


def add_info(sub):
    p = sub.add_parser("info", help="architecture, parameters, preprocessing and training metadata of a model file")
    p.add_argument("model", help="model file")
    p.set_defaults(run=run_info)


def _options(args):
    """The train options: defaults, then the --config file, then the command line."""
    opts = dict(TRAIN_DEFAULTS)
    if args.config:
        try:
            import tomllib
        except ImportError:  # Python 3.10
            raise ArgumentError("--config needs Python 3.11 or newer (tomllib)") from None
        try:
            with open(args.config, "rb") as f:
                cfg = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise ArgumentError(f"--config {args.config}: not valid TOML: {e}") from None
        for k, v in cfg.items():
            key = k.replace("-", "_")
            if key not in TRAIN_DEFAULTS or key in ("config",):
                raise ArgumentError(f"--config {args.config}: unknown option {k!r}")
            try:
                opts[key] = _CONVERTERS[key](v) if key in _CONVERTERS and not isinstance(v, bool) else v
            except ArgumentError as e:
                raise ArgumentError(f"--config {args.config}: {k}: {e}") from None
    for k in TRAIN_DEFAULTS:
        v = getattr(args, k, None)
        if v is not None:
            opts[k] = v
    if args.data is not None:
        opts["data"] = args.data
    for key in ("output", "metrics_json", "plot"):
        if opts[key]:
            _check_output(opts[key], "--" + key.replace("_", "-"))
    if opts["val_split"] + opts["test_split"] >= 0.9:
        raise ArgumentError("--val-split plus --test-split must leave at least 10% of the rows for training")
    return opts


def _check_output(path, option):
    """Fail before any work when an output path cannot be written (no folder, or a folder given)."""
    p = Path(path)
    if p.is_dir():
        raise ArgumentError(f"{option} {path}: is a folder; give a file name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ArgumentError(f"{option} {path}: folder {parent} does not exist")


# --------------------------------------------------------------------------- building blocks


def build_mlp(in_features, out_features, hidden, activation="relu", dropout=0.0):
    """Linear layers of the given hidden sizes with an activation (and dropout) after each."""
    from .. import nn, registry

    try:
        act_cls = registry.get(activation)
    except Exception:
        raise ArgumentError(
            f"--activation: unknown activation {activation!r}; use relu, tanh, sigmoid, gelu, leaky_relu, elu or silu"
        ) from None
    layers, width = [], in_features
    for h in hidden:
        layers += [nn.Linear(width, h), act_cls()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


def build_cnn(n_classes):
    """A small LeNet-like CNN for 28x28 grey images."""
    from .. import nn

    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, n_classes),
    )


def _optimizer(name, params, lr, weight_decay):
    from .. import registry

    try:
        cls = registry.get(name, kind="optimizer")
    except Exception:
        valid = ", ".join(registry.names("optimizer"))
        raise ArgumentError(f"--optimizer: unknown optimizer {name!r}; use {valid}") from None
    return cls(params, lr=lr, weight_decay=weight_decay)


def _split(n, val, test, seed):
    perm = np.random.default_rng(seed).permutation(n)
    n_test, n_val = int(round(n * test)), int(round(n * val))
    return perm[n_test + n_val :], perm[n_test : n_test + n_val], perm[:n_test]


def _metric_names(task, n_classes):
    if task == "regression":
        return ["mse", "mae", "r2"]
    return ["accuracy", "roc_auc", "f1"] if n_classes == 2 else ["accuracy", "f1"]


def _baseline(task, y_train, y_test, n_classes):
    from .. import metrics as M

    if task == "regression":
        pred = np.full(len(y_test), float(np.mean(y_train)), dtype=np.float64)
        return {"mse": M.mse(y_test, pred), "mae": M.mae(y_test, pred), "r2": M.r2(y_test, pred)}
    majority = int(np.bincount(y_train, minlength=n_classes).argmax())
    pred = np.full(len(y_test), majority)
    out = {"accuracy": M.accuracy(y_test, pred)}
    if n_classes == 2:
        out["roc_auc"] = 0.5
    out["f1"] = M.f1(y_test, pred) if n_classes == 2 else M.f1(y_test, pred, average="macro")
    return out


def _fmt(metrics):
    return "  ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, int | float))


def _plot(history, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no plot (pip install 'chainrule[plot]')"
    h = history.history
    keys = [k for k in h if not k.startswith("val_") and k != "lr" and f"val_{k}" in h] or ["loss"]
    fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.5), squeeze=False)
    for ax, k in zip(axes[0], keys):
        epochs = range(1, len(h[k]) + 1)
        ax.plot(epochs, h[k], label=f"train {k}")
        if f"val_{k}" in h:
            ax.plot(epochs, h[f"val_{k}"], label=f"validation {k}")
        ax.set_xlabel("epoch")
        ax.set_title(k)
        ax.legend()
    fig.tight_layout()
    import io as _io

    from ..io import write_atomic

    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    write_atomic(path, buf.getvalue())
    return None


# --------------------------------------------------------------------------- train


def _load_images(opts):
    from ..data import datasets

    if not opts["data_dir"]:
        raise ArgumentError(f"--dataset {opts['dataset']} needs --data-dir, the folder with its IDX files")
    reader = getattr(datasets, opts["dataset"])
    Xtr, ytr = reader(opts["data_dir"], split="train")
    Xte, yte = reader(opts["data_dir"], split="test")
    shape = (-1, 1, 28, 28) if opts["model"] == "cnn" else (-1, 28 * 28)
    scale = np.float32(1 / 255)
    return (Xtr.reshape(shape) * scale, ytr.astype(np.int64)), (Xte.reshape(shape) * scale, yte.astype(np.int64))


def run_train(args):
    import chainrule as cr

    from .. import nn, optim
    from ..errors import TrainingError
    from ..train import EarlyStopping, ProgressBar, TerminateOnNaN, Trainer

    opts = _options(args)
    started = time.perf_counter()
    seed = int(opts["seed"])
    cr.manual_seed(seed)
    output = Path(opts["output"])
    plot = Path(opts["plot"]) if opts["plot"] else output.with_suffix(".png")
    if plot == output:  # a model named *.png: its curves must not overwrite it
        plot = output.with_name(output.stem + ".curves.png")
    meta = {"seed": seed, "options": {k: v for k, v in opts.items() if k not in ("resume",)}}

    if opts["dataset"]:
        (Xfull, yfull), (Xte, yte) = _load_images(opts)
        n_val = int(round(len(Xfull) * opts["val_split"]))
        perm = np.random.default_rng(seed).permutation(len(Xfull))
        Xtr, ytr, Xva, yva = Xfull[perm[n_val:]], yfull[perm[n_val:]], Xfull[perm[:n_val]], yfull[perm[:n_val]]
        task, n_classes, classes = "classification", 10, list(range(10))
        model = build_cnn(10) if opts["model"] == "cnn" else build_mlp(784, 10, opts["hidden"], opts["activation"],
                                                                            opts["dropout"])
        meta.update({"task": task, "dataset": opts["dataset"], "classes": classes, "input": "image 28x28 / 255"})
        source = f"{opts['dataset']} ({len(Xtr)} train / {len(Xva)} validation / {len(Xte)} test images)"
    else:
        from ..data import Preprocessor, datasets, read_table

        if opts.get("data") is None:
            table, target = datasets.german_credit(), opts["target"] or "credit_risk"
            source = "the embedded German credit data (UCI Statlog, CC BY 4.0)"
        else:
            if not opts["target"]:
                raise ArgumentError("--target is needed with a data file: the column to predict")
            table, target = read_table(opts["data"]), opts["target"]
            source = str(opts["data"])
        if len(table) < 10:
            raise DataError(f"{source}: only {len(table)} rows; at least 10 are needed to train and test")
        tr, va, te = _split(len(table), opts["val_split"], opts["test_split"], seed)
        pre = Preprocessor(target=target, task=opts["task"]).fit(table.select(tr))
        Xtr, ytr = pre.transform(table.select(tr))
        Xva, yva = pre.transform(table.select(va)) if len(va) else (None, None)
        Xte, yte = pre.transform(table.select(te)) if len(te) else (None, None)
        task = pre.task_
        classes = list(pre.classes_) if task == "classification" else None
        n_classes = len(classes) if classes else 0
        out = n_classes if task == "classification" else 1
        model = build_mlp(Xtr.shape[1], out, opts["hidden"], opts["activation"], opts["dropout"])
        meta.update({"task": task, "target": target, "classes": classes, "preprocessor": pre.to_json()})
        source = f"{source}: {len(tr)} train / {len(va)} validation / {len(te)} test rows, {Xtr.shape[1]} features"

    if task == "regression":
        loss = nn.MSELoss()
        ytr, yva, yte = (None if y is None else y.reshape(-1, 1).astype(np.float32) for y in (ytr, yva, yte))
    else:
        loss = nn.CrossEntropyLoss()
    names = _metric_names(task, n_classes)
    opt = _optimizer(opts["optimizer"], model.parameters(), opts["lr"], opts["weight_decay"] or 0.0)
    monitor = "val_loss" if Xva is not None else "loss"
    callbacks = [ProgressBar(), TerminateOnNaN(),
                 EarlyStopping(monitor=monitor, patience=opts["patience"], restore_best_weights=True)]
    scheduler = None
    if opts["schedule"] == "cosine":
        scheduler = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=opts["epochs"])
    elif opts["schedule"] == "plateau":
        scheduler = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2)
    elif opts["schedule"] != "none":
        raise ArgumentError(f"--schedule: unknown schedule {opts['schedule']!r}; use none, cosine or plateau")
    trainer = Trainer(model, loss, opt, metrics=names, callbacks=callbacks, scheduler=scheduler)
    print(f"Training a {task} network on {source}")
    print(repr(model))
    history = trainer.fit(
        (Xtr, ytr), val=None if Xva is None else (Xva, yva), epochs=opts["epochs"], batch_size=opts["batch_size"],
        seed=seed, checkpoint=opts["checkpoint_dir"], resume=bool(opts["resume"]),
    )
    if history.stop_reason and history.stop_reason.startswith("TerminateOnNaN"):
        raise TrainingError(f"training diverged, no model written. {history.stop_reason}")
    result = {"validation": trainer.evaluate((Xva, yva)) if Xva is not None else None}
    if Xte is not None:
        result["test"] = trainer.evaluate((Xte, yte))
        ref = ytr.ravel() if task == "classification" else ytr.ravel()
        result["baseline"] = _baseline(task, ref, yte.ravel(), n_classes)
    seconds = time.perf_counter() - started
    meta.update({"history": history.history, "metrics": result, "train_seconds": round(seconds, 2),
                 "chainrule_version": cr.__version__})
    cr.save(model, output, metadata=meta)
    print()
    if "test" in result:
        print(f"Test        {_fmt(result['test'])}")
        print(f"Baseline    {_fmt(result['baseline'])}   ({'majority class' if task == 'classification' else 'mean'})")
    print(f"Trained in {seconds:.1f} s. Model written to {output}")
    note = _plot(history, plot)
    print(note if note else f"Training curves written to {plot}")
    if opts["metrics_json"]:
        from ..io import write_atomic

        write_atomic(opts["metrics_json"], json.dumps(result, indent=2).encode())
    return 0


# --------------------------------------------------------------------------- evaluate, predict, info


def _load(path):
    from ..io import read_model_file

    model, meta = read_model_file(path)
    if not meta or "preprocessor" not in meta:
        raise DataError(f"{path}: this model has no tabular preprocessing (not trained by `chainrule train` on a CSV)")
    from ..data import Preprocessor

    return model.eval(), meta, Preprocessor.from_json(meta["preprocessor"])


def _outputs(model, X, batch=1024):
    from ..autograd import no_grad
    from ..tensor import Tensor

    with no_grad():
        return np.concatenate([model(Tensor._wrap(X[i : i + batch])).numpy() for i in range(0, len(X), batch)])


def _probabilities(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _metrics_for(meta, out, y):
    from .. import metrics as M

    if meta["task"] == "regression":
        p = out.ravel()
        return {"mse": M.mse(y, p), "mae": M.mae(y, p), "r2": M.r2(y, p), "n": int(len(y))}
    proba = _probabilities(out)
    pred = proba.argmax(axis=1)
    res = {"accuracy": M.accuracy(y, pred)}
    if proba.shape[1] == 2:
        res["roc_auc"] = M.roc_auc(y, proba[:, 1]) if len(np.unique(y)) == 2 else float("nan")
        res["f1"] = M.f1(y, pred)
    else:
        res["f1"] = M.f1(y, pred, average="macro")
    res["log_loss"] = M.log_loss(y, proba, labels=list(range(proba.shape[1])))
    res["n"] = int(len(y))
    return res


def run_evaluate(args):
    from ..data import read_table

    model, meta, pre = _load(args.model)
    table = read_table(args.data)
    if meta["target"] not in table.columns:
        raise DataError(f"{args.data}: no target column {meta['target']!r}; columns: {', '.join(table.columns)}")
    X, y = pre.transform(table)
    res = _metrics_for(meta, _outputs(model, X), y)
    if args.json:  # NaN (an undefined metric) is not JSON: null
        print(json.dumps({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in res.items()}))
    else:
        print(f"{args.data}: {res['n']} rows")
        print(_fmt({k: v for k, v in res.items() if k != "n"}))
    return 0


def run_predict(args):
    import csv
    import io as _io

    from ..data import read_table

    if args.output:
        _check_output(args.output, "--output")
    model, meta, pre = _load(args.model)
    table = read_table(args.data)
    X = pre.transform_features(table)
    out = _outputs(model, X)
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if meta["task"] == "regression":
        w.writerow(["prediction"])
        w.writerows([[float(v)] for v in out.ravel()])
    else:
        proba = _probabilities(out)
        labels = pre.inverse_transform_target(proba.argmax(axis=1))
        w.writerow(["prediction"] + [f"proba_{c}" for c in meta["classes"]])
        for label, row in zip(labels, proba):
            w.writerow([label] + [f"{p:.6f}" for p in row])
    if args.output:
        from ..io import write_atomic

        write_atomic(args.output, buf.getvalue().encode())
        print(f"{len(X)} predictions written to {args.output}")
    else:
        sys.stdout.write(buf.getvalue())
    return 0


def run_info(args):
    from ..io import read_model_file

    model, meta = read_model_file(args.model)
    meta = meta or {}
    n = sum(p.size for p in model.parameters())
    print(f"{args.model}")
    print(repr(model))
    print(f"Parameters: {n:,}")
    if "task" in meta:
        print(f"Task: {meta['task']}" + (f", target {meta['target']!r}" if meta.get("target") else ""))
    if meta.get("classes") is not None:
        print(f"Classes: {', '.join(str(c) for c in meta['classes'])}")
    pre = meta.get("preprocessor")
    if pre:
        from ..data import Preprocessor

        names = Preprocessor.from_json(pre).feature_names_
        print(f"Preprocessing: {len(names)} features: {', '.join(names[:12])}{' ...' if len(names) > 12 else ''}")
    if "history" in meta:
        epochs = len(next(iter(meta["history"].values()), []))
        print(f"Trained for {epochs} epochs in {meta.get('train_seconds', '?')} s with options {meta.get('options')}")
    metrics = (meta.get("metrics") or {}).get("test")
    if metrics:
        print(f"Test metrics: {_fmt(metrics)}")
    return 0
