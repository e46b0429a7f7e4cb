"""The subcommands: ``train``, ``evaluate``, ``predict``, ``info``."""

import json
import math
import re
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


_non_negative_float = _number(float, lambda v: math.isfinite(v) and v >= 0, "a non-negative number")

#: The hidden activations `train` offers (registered module names).
ACTIVATIONS = ("relu", "leaky_relu", "gelu", "silu", "elu", "tanh", "sigmoid", "softplus")
SCHEDULES = ("none", "cosine", "plateau")
TASKS = ("classification", "regression")


def _hidden(text):
    """Layer sizes: a list (from a --config file) or text like ``64,32``, ``"64 32"`` or ``"64, 32"``."""
    if isinstance(text, list | tuple):
        parts = [p if isinstance(p, str) else str(p) for p in text]
        if any(isinstance(p, bool | float) for p in text):
            parts = ["?"]
    else:
        parts = [p for p in re.split(r"[,\s]+", str(text).strip()) if p != ""]
    if not parts or not all(re.fullmatch(r"[0-9]+", p) for p in parts):
        raise ArgumentError(f"--hidden takes layer sizes separated by commas or spaces, like 64,32, got {text!r}")
    sizes = [int(p) for p in parts]
    if any(s < 1 for s in sizes):
        raise ArgumentError(f"--hidden sizes must be positive, got {text!r}")
    return sizes


def _choice(option, valid, what):
    def convert(value):
        if not isinstance(value, str) or value not in valid:
            raise ArgumentError(f"unknown {what} {value!r}; use {', '.join(valid)}")
        return value

    convert.__name__ = option
    return convert


def _optimizer_name(value):
    from .. import registry

    valid = registry.names("optimizer")
    return _choice("optimizer", valid, "optimizer")(value)


def _names(option):
    """A comma-separated list of column names (or a list from a --config file)."""

    def convert(value):
        parts = value if isinstance(value, list | tuple) else str(value).split(",")
        if not all(isinstance(p, str) for p in parts):
            raise ArgumentError(f"{option} takes column names separated by commas, got {value!r}")
        names = [p.strip() for p in parts if p.strip()]
        if not names:
            raise ArgumentError(f"{option} takes column names separated by commas, got {value!r}")
        return names

    return convert


def _na_values(value):
    """Texts meaning a missing value, separated by commas (or a list from a --config file)."""
    parts = value if isinstance(value, list | tuple) else str(value).split(",")
    if not all(isinstance(p, str) for p in parts) or not any(p.strip() for p in parts):
        raise ArgumentError(f"--na-values takes texts separated by commas, like 'n/a?,-', got {value!r}")
    return [p.strip() for p in parts if p.strip()]


def _sep(value):
    """The CSV delimiter: one character, or the words tab, comma, semicolon (``\\t`` means a tab too)."""
    words = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    if not isinstance(value, str):
        raise ArgumentError(f"--sep takes one character (or tab), got {value!r}")
    d = words.get(value.lower(), value)
    if len(d) != 1 or d in "\"\r\n " or d.isalnum():
        raise ArgumentError(f"--sep takes one character other than a quote, a letter, a digit or a space"
                            f" (or the word tab), got {value!r}")
    return d


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
    "target": None, "task": None, "hidden": [64, 32], "activation": None, "dropout": None, "epochs": 50,
    "batch_size": 32, "optimizer": "adam", "lr": 1e-3, "val_split": 0.2, "test_split": 0.2, "seed": 0,
    "patience": 10, "output": "model.crm", "checkpoint_dir": None, "resume": False, "metrics_json": None,
    "dataset": None, "data_dir": None, "model": "mlp", "plot": None, "weight_decay": 0.0, "schedule": "none",
    "sep": None, "na_values": None, "drop": None, "no_plot": False,
}
_CONVERTERS = {
    "hidden": _hidden, "dropout": _fraction, "epochs": _positive_int, "batch_size": _positive_int,
    "lr": _positive_float, "val_split": _fraction, "test_split": _fraction, "patience": _positive_int, "seed": _seed,
    "weight_decay": _non_negative_float, "activation": _choice("activation", ACTIVATIONS, "activation"),
    "optimizer": _optimizer_name, "schedule": _choice("schedule", SCHEDULES, "schedule"),
    "task": _choice("task", TASKS, "task"), "sep": _sep, "na_values": _na_values, "drop": _names("--drop"),
    "model": _choice("model", ("mlp", "cnn"), "model"),
    "dataset": _choice("dataset", ("mnist", "fashion_mnist"), "dataset"),
}
_FLAGS = ("resume", "no_plot")  # true/false options

# Defaults that depend on the task (an option given on the command line or in --config wins). On
# regression a smooth activation and no dropout fit best: dropout's noise biases a least-squares fit,
# and on scikit-learn's diabetes table (defaults, seeds 0-5) ELU without dropout reaches linear
# regression's R² (0.528 vs 0.522 at seed 0) where ReLU with dropout 0.1 got 0.48.
TASK_DEFAULTS = {
    "classification": {"activation": "relu", "dropout": 0.1},
    "regression": {"activation": "elu", "dropout": 0.0},
}


def add_train(sub):
    p = sub.add_parser("train", help="train a network on a CSV file (or the embedded German credit data)")
    p.add_argument("data", nargs="?", help="CSV (or Parquet) file; omit it to use the embedded German credit data")
    p.add_argument("--target", help="the column to predict")
    p.add_argument("--task", choices=TASKS, help="inferred from the target if omitted")
    p.add_argument("--drop", type=_typed(_names("--drop")), metavar="COL,...",
                   help="columns not to use as features (an id, a leak of the target, ...)")
    p.add_argument("--sep", type=_typed(_sep), help="the CSV delimiter (default: detects ',', ';' or tab)")
    p.add_argument("--na-values", dest="na_values", type=_typed(_na_values), metavar="TEXT,...",
                   help="texts that mean a missing value, besides '', NA, NaN and ?, e.g. 'n/a?,-'")
    p.add_argument("--hidden", type=_typed(_hidden), help="hidden layer sizes, e.g. 64,32 or '64 32' (default 64,32)")
    p.add_argument("--activation", type=_typed(_CONVERTERS["activation"]),
                   help=f"hidden activation: {', '.join(ACTIVATIONS)} (default relu; elu for regression)")
    p.add_argument("--dropout", type=_typed(_fraction),
                   help="dropout after each hidden layer (default 0.1; 0 for regression)")
    p.add_argument("--epochs", type=_typed(_positive_int), help="at most this many epochs (default 50)")
    p.add_argument("--batch-size", dest="batch_size", type=_typed(_positive_int), help="mini-batch size (default 32)")
    p.add_argument("--optimizer", type=_typed(_optimizer_name),
                   help="sgd, adam, adamw, rmsprop or adagrad (default adam)")
    p.add_argument("--lr", type=_typed(_positive_float), help="learning rate (default 1e-3)")
    p.add_argument("--weight-decay", dest="weight_decay", type=_typed(_non_negative_float),
                   help="L2 penalty (default 0)")
    p.add_argument("--schedule", choices=SCHEDULES,
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
    p.add_argument("--no-plot", dest="no_plot", action="store_true", default=None, help="do not draw the curves")
    p.set_defaults(run=run_train)


def _add_reading(p):
    p.add_argument("--sep", type=_typed(_sep), help="the CSV delimiter (default: detects ',', ';' or tab)")
    p.add_argument("--na-values", dest="na_values", type=_typed(_na_values), metavar="TEXT,...",
                   help="texts that mean a missing value (default: those the model was trained with)")


def add_evaluate(sub):
    p = sub.add_parser("evaluate", help="metrics of a trained model on a CSV file with the target column")
    p.add_argument("model", help="model file written by `chainrule train`")
    p.add_argument("data", help="CSV (or Parquet) file")
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    _add_reading(p)
    p.set_defaults(run=run_evaluate)


def add_predict(sub):
    p = sub.add_parser("predict", help="predictions of a trained model for a CSV file")
    p.add_argument("model", help="model file written by `chainrule train`")
    p.add_argument("data", help="CSV (or Parquet) file")
    p.add_argument("--output", help="CSV file to write (default: print to standard output)")
    p.add_argument("--keep", type=_typed(_names("--keep")), metavar="COL,...",
                   help="columns of the input to copy into the output, before the predictions (an id, ...)")
    _add_reading(p)
    p.set_defaults(run=run_predict)


def add_info(sub):
    p = sub.add_parser("info", help="architecture, parameters, preprocessing and training metadata of a model file")
    p.add_argument("model", help="model file")
    p.set_defaults(run=run_info)


def _options(args):
    """The train options: defaults, then the --config file, then the command line; all checked before any work."""
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
                if key in _FLAGS:
                    if not isinstance(v, bool):
                        raise ArgumentError(f"expected true or false, got {v!r}")
                elif isinstance(v, bool) or isinstance(v, dict):
                    raise ArgumentError(f"unexpected value {v!r}")
                elif key in _CONVERTERS:
                    v = _CONVERTERS[key](v)
                elif not isinstance(v, str):
                    raise ArgumentError(f"expected text, got {v!r}")
                opts[key] = v
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
    if opts["resume"] and not opts["checkpoint_dir"]:
        raise ArgumentError("--resume needs --checkpoint-dir, the folder whose checkpoint to continue from")
    if opts["dataset"]:
        if not opts["data_dir"]:
            raise ArgumentError(f"--dataset {opts['dataset']} needs --data-dir, the folder with its IDX files")
        if opts.get("data") is not None:
            raise ArgumentError(f"give a data file or --dataset {opts['dataset']}, not both")
    elif opts.get("data") is not None and not opts["target"]:
        raise ArgumentError("--target is needed with a data file: the column to predict")
    if opts["drop"] and opts["target"] in opts["drop"]:
        raise ArgumentError(f"--drop {','.join(opts['drop'])}: the target {opts['target']!r} cannot be dropped")
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

    return registry.get(_optimizer_name(name), kind="optimizer")(params, lr=lr, weight_decay=weight_decay)


def _split(n, val, test, seed, source):
    """Row indices (train, validation, test): every split asked for (fraction > 0) gets at least one row."""
    n_test = max(1, int(round(n * test))) if test > 0 else 0
    n_val = max(1, int(round(n * val))) if val > 0 else 0
    if n - n_test - n_val < 1:
        asked = " and ".join(w for w, f in (("a validation row", val), ("a test row", test)) if f > 0)
        raise DataError(
            f"{source}: {n} row{'s' if n != 1 else ''} cannot give {asked} and still leave one to train on;"
            " ask for fewer splits (--val-split 0, --test-split 0)"
        )
    perm = np.random.default_rng(seed).permutation(n)
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


def _same_file(a, b):
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return Path(a) == Path(b)


def _plot(history, path, titles=None):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no plot (pip install 'chainrule[train]', or --no-plot)"
    h = history.history
    keys = [k for k in h if not k.startswith("val_") and k != "lr" and f"val_{k}" in h] or ["loss"]
    fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.5), squeeze=False)
    for ax, k in zip(axes[0], keys):
        epochs = range(1, len(h[k]) + 1)
        ax.plot(epochs, h[k], label=f"train {k}")
        if f"val_{k}" in h:
            ax.plot(epochs, h[f"val_{k}"], label=f"validation {k}")
        ax.set_xlabel("epoch")
        ax.set_title((titles or {}).get(k, k))
        ax.legend()
    fig.tight_layout()
    import io as _io

    from ..io import write_atomic

    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    write_atomic(path, buf.getvalue())
    return None


def _read(path, sep=None, na_values=None, usecols=None):
    """A Table of the data file, with the reading options; returns (table, the names of all its columns)."""
    from ..data import read_table

    seen = []

    def use(name):
        seen.append(name)
        return usecols is None or usecols(name)

    table = read_table(path, delimiter=sep, na_values=na_values, usecols=use)
    return table, seen


# --------------------------------------------------------------------------- train


def _load_images(opts):
    from ..data import datasets

    reader = getattr(datasets, opts["dataset"])
    Xtr, ytr = reader(opts["data_dir"], split="train")
    Xte, yte = reader(opts["data_dir"], split="test")
    shape = (-1, 1, 28, 28) if opts["model"] == "cnn" else (-1, 28 * 28)
    scale = np.float32(1 / 255)
    return (Xtr.reshape(shape) * scale, ytr.astype(np.int64)), (Xte.reshape(shape) * scale, yte.astype(np.int64))


def _task_defaults(opts, task):
    for k, v in TASK_DEFAULTS[task].items():
        if opts[k] is None:
            opts[k] = v


def _load_tabular(opts, seed):
    """The table, split and preprocessed: a dict of what run_train needs."""
    from ..data import Preprocessor, datasets
    from ..data.preprocess import check_target

    drop = opts["drop"] or []
    if opts.get("data") is None:
        table, target = datasets.german_credit(), opts["target"] or "credit_risk"
        source = "the embedded German credit data (UCI Statlog, CC BY 4.0)"
        names = table.columns
        if drop:
            table = table.drop([c for c in drop if c in table])
    else:
        target, source = opts["target"], str(opts["data"])
        table, names = _read(opts["data"], opts["sep"], opts["na_values"], lambda name: name not in drop)
    absent = [c for c in drop if c not in names]
    if absent:
        raise DataError(f"--drop: {source} has no column {absent[0]!r}; its columns are {', '.join(names)}"[:600])
    if target not in table:
        raise DataError(f"{source}: no target column {target!r}; the columns are {', '.join(table.columns)}"[:600])
    task, classes = check_target(table, target, opts["task"])
    tr, va, te = _split(len(table), opts["val_split"], opts["test_split"], seed, source)
    train = table.select(tr)
    pre = Preprocessor(target=target, task=task, scale_target=task == "regression").fit(train, classes=classes)
    parts = {"train": train, "val": table.select(va), "test": table.select(te)}
    data = {"pre": pre, "target": target, "task": task, "parts": parts,
            "source": f"{source}: {len(tr)} train / {len(va)} validation / {len(te)} test rows, "
                      f"{pre.n_features_} features"}
    for key, part in parts.items():
        data[key] = pre.transform(part) if len(part) else (None, None)
    return data


def _regression_metrics(model, X, y_true, pre):
    """MSE, MAE and R² in the target's units (the network predicts the standardised target)."""
    from .. import metrics as M

    pred = pre.inverse_transform_target(_outputs(model, X).ravel())
    return {"mse": M.mse(y_true, pred), "mae": M.mae(y_true, pred), "r2": M.r2(y_true, pred)}


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
    plot = None
    if not opts["no_plot"]:
        plot = Path(opts["plot"]) if opts["plot"] else output.with_suffix(".png")
        if _same_file(plot, output):  # a model named *.png: its curves must not overwrite it
            if opts["plot"]:
                raise ArgumentError(f"--plot {opts['plot']} is the model file (--output): give another name")
            plot = output.with_name(output.stem + ".curves.png")
    pre = None

    if opts["dataset"]:
        (Xfull, yfull), (Xte, yte) = _load_images(opts)
        n_val = int(round(len(Xfull) * opts["val_split"]))
        perm = np.random.default_rng(seed).permutation(len(Xfull))
        Xtr, ytr, Xva, yva = Xfull[perm[n_val:]], yfull[perm[n_val:]], Xfull[perm[:n_val]], yfull[perm[:n_val]]
        if not n_val:
            Xva = yva = None
        task, n_classes, classes = "classification", 10, list(range(10))
        _task_defaults(opts, task)
        model = build_cnn(10) if opts["model"] == "cnn" else nn.mlp(784, opts["hidden"], 10, opts["activation"],
                                                                         opts["dropout"])
        meta = {"task": task, "dataset": opts["dataset"], "classes": classes, "input": "image 28x28 / 255"}
        source = f"{opts['dataset']} ({len(Xtr)} train / {n_val} validation / {len(Xte)} test images)"
    else:
        d = _load_tabular(opts, seed)
        pre, task, source = d["pre"], d["task"], d["source"]
        (Xtr, ytr), (Xva, yva), (Xte, yte) = d["train"], d["val"], d["test"]
        classes = list(pre.classes_) if task == "classification" else None
        n_classes = len(classes) if classes else 0
        out = n_classes if task == "classification" else 1
        _task_defaults(opts, task)
        model = nn.mlp(Xtr.shape[1], opts["hidden"], out, opts["activation"], opts["dropout"])
        meta = {"task": task, "target": d["target"], "classes": classes, "preprocessor": pre.to_json()}
    meta.update({"seed": seed, "options": {k: v for k, v in opts.items() if k not in ("resume",)}})

    if task == "regression":
        loss = nn.MSELoss()
        ytr, yva, yte = (None if y is None else y.reshape(-1, 1).astype(np.float32) for y in (ytr, yva, yte))
        names = ["r2"]  # the history is in standardised units, where R² (unchanged by scaling) still reads
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
    trainer = Trainer(model, loss, opt, metrics=names, callbacks=callbacks, scheduler=scheduler)
    print(f"Training a {task} network on {source}")
    if task == "regression":
        print(f"The target is standardised for training (mean {pre.target_mean_:.6g}, std {pre.target_std_:.6g});"
              " metrics and predictions are in its units")
    print(repr(model))
    history = trainer.fit(
        (Xtr, ytr), val=None if Xva is None else (Xva, yva), epochs=opts["epochs"], batch_size=opts["batch_size"],
        seed=seed, checkpoint=opts["checkpoint_dir"], resume=bool(opts["resume"]),
    )
    if history.stop_reason and history.stop_reason.startswith("TerminateOnNaN"):
        raise TrainingError(f"training diverged, no model written. {history.stop_reason}")
    if task == "regression":
        parts = d["parts"]
        result = {"validation": _regression_metrics(model, Xva, pre.target_values(parts["val"]), pre)
                  if Xva is not None else None}
        if Xte is not None:
            y_test = pre.target_values(parts["test"])
            result["test"] = _regression_metrics(model, Xte, y_test, pre)
            result["baseline"] = _baseline(task, pre.target_values(parts["train"]), y_test, 0)
    else:
        result = {"validation": trainer.evaluate((Xva, yva)) if Xva is not None else None}
        if Xte is not None:
            result["test"] = trainer.evaluate((Xte, yte))
            result["baseline"] = _baseline(task, ytr.ravel(), yte.ravel(), n_classes)
    if pre is not None and task == "classification" and n_classes == 2:
        meta["explain"] = _reference_applicants(model, pre, Xtr)
    seconds = time.perf_counter() - started
    meta.update({"history": history.history, "metrics": result, "train_seconds": round(seconds, 2),
                 "chainrule_version": cr.__version__})
    cr.save(model, output, metadata=meta)
    print()
    if "test" in result:
        print(f"Test        {_fmt(result['test'])}")
        print(f"Baseline    {_fmt(result['baseline'])}   ({'majority class' if task == 'classification' else 'mean'})")
    print(f"Trained in {seconds:.1f} s. Model written to {output}")
    if plot is not None:
        titles = {"loss": "loss (MSE, standardised target)"} if task == "regression" else None
        note = _plot(history, plot, titles)
        print(note if note else f"Training curves written to {plot}")
    if opts["metrics_json"]:
        from ..io import write_atomic

        write_atomic(opts["metrics_json"], json.dumps(result, indent=2).encode())
    if pre is not None and task == "classification" and n_classes == 2 and len(d["parts"]["test"]):
        print()
        print(_one_refusal_explained(model, pre, d["parts"]))
    return 0


def _reference_applicants(model, pre, X, n=50, threshold=0.5):
    """What `chainrule explain` needs of the training data, kept in the model file: the ``n`` approved training
    applicants nearest the cutoff (the baseline of the principal reasons, and the ranges of counterfactuals when
    the file to explain is small), as preprocessed rows."""
    from ..errors import ArgumentError
    from ..explain.reasons import near_cutoff_background
    from ..explain.report import favourable_class

    try:
        rows = near_cutoff_background(model, X, threshold=threshold, target=favourable_class(pre.classes_), n=n)
    except ArgumentError:  # the model approves nobody: explanations will need --background
        return {"background": None, "threshold": threshold}
    return {"background": np.round(rows.astype(np.float64), 6).tolist(), "threshold": threshold}


def _one_refusal_explained(model, pre, parts):
    """The first test applicant the model refuses: the decision, the principal reasons (DeepLIFT against the
    approved training applicants nearest the cutoff) and one counterfactual, in a few lines."""
    from ..explain.report import applicant_reports, favourable_class, format_report

    test = parts["test"]
    good = favourable_class(pre.classes_)
    from ..explain._core import forward

    proba = forward(model, pre.transform_features(test), good, "probability")
    refused = np.flatnonzero(proba < 0.5)
    if not refused.size:
        return f"The model approves every applicant of the test split (P({pre.classes_[good]}) >= 0.5)."
    (rep,) = applicant_reports(model, pre, test, [int(refused[0])], background=parts["train"], k=4,
                               n_counterfactuals=1, data=parts["train"])
    head = (f"Why one refused applicant was refused ({len(refused)} of the {len(test)} test applicants are refused;"
            " `chainrule explain` explains any of them):")
    return head + "\n" + format_report(rep).replace("row ", "test row ", 1)


# --------------------------------------------------------------------------- evaluate, predict, info


def _load(path):
    from ..io import read_model_file

    return _tabular(path, *read_model_file(path))


def _tabular(path, model, meta):
    """The model, its metadata and its Preprocessor, from a model file already read."""
    if not meta or "preprocessor" not in meta:
        raise DataError(f"{path}: this model has no tabular preprocessing (not trained by `chainrule train` on a CSV)")
    from ..data import Preprocessor

    return model.eval(), meta, Preprocessor.from_json(meta["preprocessor"])


def _read_for(args, meta, pre, extra=()):
    """The data file of evaluate/predict, read as the model was trained (its --na-values unless given).

    Only the columns needed are read (the features, and ``extra``): a column the model does not use
    is neither converted nor checked.
    """
    na = args.na_values if args.na_values is not None else (meta.get("options") or {}).get("na_values")
    needed = {s["name"] for s in pre.columns_} | set(extra)
    table, names = _read(args.data, args.sep, na, lambda name: name in needed)
    absent = [s["name"] for s in pre.columns_ if s["name"] not in table]
    if absent:
        cols = ", ".join(map(repr, absent[:5])) + (", ..." if len(absent) > 5 else "")
        raise DataError(f"{args.data}: column{'s' if len(absent) > 1 else ''} {cols} missing (the model was trained"
                        f" with {'them' if len(absent) > 1 else 'it'}); the file has {', '.join(names)}"[:600])
    return table, names


def _outputs(model, X, batch=1024):
    from ..autograd import no_grad
    from ..tensor import Tensor

    with no_grad():
        return np.concatenate([model(Tensor._wrap(X[i : i + batch])).numpy() for i in range(0, len(X), batch)])


def _metrics_for(meta, out, y, pre):
    from .. import metrics as M

    if meta["task"] == "regression":
        p = pre.inverse_transform_target(out.ravel())
        return {"mse": M.mse(y, p), "mae": M.mae(y, p), "r2": M.r2(y, p), "n": int(len(y))}
    proba = M.softmax(out, axis=1)
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
    model, meta, pre = _load(args.model)
    table, names = _read_for(args, meta, pre, extra=[pre.target_])
    if meta["target"] not in table:
        raise DataError(f"{args.data}: no target column {meta['target']!r}; columns: {', '.join(names)}"[:600])
    X = pre.transform_features(table)
    y = pre.target_values(table)
    res = _metrics_for(meta, _outputs(model, X), y, pre)
    if args.json:  # NaN (an undefined metric) is not JSON: null
        print(json.dumps({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in res.items()}))
    else:
        print(f"{args.data}: {res['n']} rows")
        print(_fmt({k: v for k, v in res.items() if k != "n"}))
    return 0


def _number_text(v, digits=6):
    """A prediction as text: ``digits`` significant digits, never an exponent (152.134, 1234570, 0.000123457)."""
    return np.format_float_positional(float(v), precision=digits, unique=False, fractional=False, trim="-")


def _cell_text(v):
    """An input value as text, as a CSV file would hold it (integers without '.0', missing as '')."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return repr(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)
    return str(v)


def run_predict(args):
    import csv
    import io as _io

    if args.output:
        _check_output(args.output, "--output")
    model, meta, pre = _load(args.model)
    keep = args.keep or []
    table, names = _read_for(args, meta, pre, extra=keep)
    absent = [c for c in keep if c not in table]
    if absent:
        raise DataError(f"--keep: {args.data} has no column {absent[0]!r}; its columns are {', '.join(names)}"[:600])
    X = pre.transform_features(table)
    out = _outputs(model, X)
    if meta["task"] == "regression":
        header = ["prediction"]
        values = [[_number_text(v)] for v in pre.inverse_transform_target(out.ravel())]
    else:
        from ..metrics import softmax

        proba = softmax(out, axis=1)
        labels = pre.inverse_transform_target(proba.argmax(axis=1))
        header = ["prediction"] + [f"proba_{c}" for c in meta["classes"]]
        values = [[_cell_text(label)] + [f"{p:.6f}" for p in row] for label, row in zip(labels, proba)]
    clash = [c for c in keep if c in header]
    if clash:
        raise ArgumentError(f"--keep {clash[0]}: the output has a column of that name already; rename it")
    kept = [[_cell_text(v) for v in table[c].tolist()] for c in keep]
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(keep + header)
    for i, row in enumerate(values):
        w.writerow([k[i] for k in kept] + row)
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
    n = sum(p.numel() for p in model.parameters())
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

        pre = Preprocessor.from_json(pre)
        names = pre.feature_names_
        print(f"Preprocessing: {len(names)} features: {', '.join(names[:12])}{' ...' if len(names) > 12 else ''}")
        if pre.scale_target and pre.target_mean_ is not None:
            print(f"Target standardised for training: mean {pre.target_mean_:.6g}, std {pre.target_std_:.6g}"
                  " (undone for predictions)")
    if "history" in meta:
        epochs = len(next(iter(meta["history"].values()), []))
        print(f"Trained for {epochs} epochs in {meta.get('train_seconds', '?')} s with options {meta.get('options')}")
    metrics = (meta.get("metrics") or {}).get("test")
    if metrics:
        print(f"Test metrics: {_fmt(metrics)}")
    return 0
