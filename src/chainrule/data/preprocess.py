"""``Preprocessor``: turn a Table into a float32 feature matrix (and a target vector), fitted on training data.

    pre = Preprocessor(target="credit_risk")
    X_train, y_train = pre.fit_transform(train)     # statistics from the training split only
    X_test, y_test = pre.transform(test)            # the same columns, scaled the same way
    X_new = pre.transform_features(new)             # tables without the target
    pre.inverse_transform_target(pred)              # class indices -> the original labels

Every column except the target is a feature:

* numeric columns: missing values (NaN) are imputed with the training median, then standardised
  with the training mean and standard deviation (a constant column has std 1);
* text columns are categorical and one-hot encoded over the categories seen in training, sorted;
  a missing value counts as the most frequent training category; a category not seen in training
  encodes as all zeros (never an error).

The target, when given, is label-encoded for classification (``y`` holds int64 indices into
``classes_``) or kept as float32 values for regression; with ``scale_target=True`` a regression
target is standardised with the training mean and standard deviation (``target_mean_``,
``target_std_``) and ``inverse_transform_target`` undoes it, so predictions come back in the
target's units. ``classes_`` holds the labels as they appeared (str, or int/float for a numeric
column), text labels sorted as strings, numeric ones by value. With ``task=None`` the task is
inferred: a text target (booleans read as text), or a numeric one whose values are all integers with
at most ``MAX_CLASSES`` (20) distinct values, means classification; anything else means regression.

A missing target value is an error, never silently dropped, and so is a classification target with
more than ``MAX_CLASSES`` classes and fewer than ``MIN_ROWS_PER_CLASS`` (5) rows per class (a
quantity, most likely). ``check_target(table, target, task)`` makes these checks, and the inference,
on a whole table before it is split; ``fit(train, classes=...)`` then takes the classes found there,
so a label that falls only in a validation split is not an error. ``transform`` needs the target
column when there is a target; use ``transform_features`` for tables without it.

The fitted state is plain JSON (``to_json()`` / ``Preprocessor.from_json(d)``), so it can travel inside
a model file and reproduce the same transforms exactly.
"""

import math

import numpy as np

from ..errors import ArgumentError, DataError, OutOfRangeError
from ..tensor import Tensor
from .table import read_table

TASKS = ("classification", "regression")
_FORMAT = "chainrule.Preprocessor"
_VERSION = 2  # 2: scale_target and target_scale (version 1 files read as scale_target=False)
MAX_CLASSES = 20
MIN_ROWS_PER_CLASS = 5


def _key(v):
    """The string form of a label or category: numbers that are integers print without '.0'."""
    if isinstance(v, str):
        return v
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def _plain(v):
    """A JSON-friendly Python scalar (int for integer-valued numbers)."""
    if isinstance(v, str):
        return v
    v = float(v)
    return int(v) if v.is_integer() and abs(v) < 2**53 else v


def _as_numbers(table, name, what):
    """A column as float64; a text column must parse as numbers (error names the row and value)."""
    col = table[name]
    if col.dtype != np.float64:
        out = np.empty(len(col))
        for i, v in enumerate(col):
            if v is None:
                out[i] = np.nan
                continue
            try:
                out[i] = float(v)
            except ValueError:
                raise DataError(f"column {name!r}, {table.where(i)}: {v!r} is not a number ({what})") from None
        col = out
    bad = np.flatnonzero(np.isinf(col))
    if bad.size:
        i = int(bad[0])
        raise DataError(f"column {name!r}, {table.where(i)}: {float(col[i])!r} is not a finite number ({what})")
    return col


def _as_keys(col):
    """A column as a list of category keys (str) with None where missing."""
    if col.dtype == np.float64:
        return [None if math.isnan(v) else _key(v) for v in col.tolist()]
    return list(col)


def _missing_rows(col):
    return np.flatnonzero(np.isnan(col) if col.dtype == np.float64 else col == None)  # noqa: E711


def check_target(table, target, task=None):
    """Check the target column of ``table`` and infer the task: ``(task, classes)`` (``classes`` None for regression).

    Refuses, naming the file line where there is one: a missing target value, a non-numeric
    regression target, and a classification target with too many classes for its rows (more than
    ``MAX_CLASSES`` and fewer than ``MIN_ROWS_PER_CLASS`` rows per class). A single class is left to
    ``fit`` (a split of a two-class table may hold one). Run it on the whole table before splitting.
    """
    table = read_table(table)
    if task not in (None, *TASKS):
        raise ArgumentError(f"task must be None, 'classification' or 'regression', got {task!r}")
    if target not in table:
        raise DataError(f"no target column {target!r}; the columns are {table.columns}"[:600])
    col = table[target]
    missing = _missing_rows(col)
    if missing.size:
        more = f" (and {missing.size - 1} more rows)" if missing.size > 1 else ""
        raise DataError(f"target column {target!r}, {table.where(int(missing[0]))}: the value is missing{more}")
    if task is None:
        if col.dtype != np.float64:
            task = "classification"
        else:
            integral = bool(np.all(col == np.round(col)))
            task = "classification" if integral and len(np.unique(col)) <= MAX_CLASSES else "regression"
    if task == "regression":
        _as_numbers(table, target, "the target of a regression")
        return task, None
    if col.dtype == np.float64:
        classes = [_plain(v) for v in np.unique(col)]  # numeric labels sort numerically
    else:
        classes = sorted(set(col.tolist()))
    k, n = len(classes), len(table)
    if k > MAX_CLASSES and k * MIN_ROWS_PER_CLASS > n:
        hint = "; for a quantity, use the task 'regression' (--task regression)" if col.dtype == np.float64 else ""
        raise DataError(
            f"target column {target!r} has {k} distinct values in {n} rows: too many classes for classification"
            f" (fewer than {MIN_ROWS_PER_CLASS} rows per class){hint}"
        )
    return task, classes


class Preprocessor:
    """Fit on the training table, then transform any table with the same columns. See the module docstring."""

    MAX_CLASSES = MAX_CLASSES

    def __init__(self, target=None, task=None, scale_target=False):
        if task not in (None, *TASKS):
            raise ArgumentError(f"Preprocessor: task must be None, 'classification' or 'regression', got {task!r}")
        self.target = target
        self.task = task
        self.scale_target = bool(scale_target)

    def get_config(self):
        return {"target": self.target, "task": self.task, "scale_target": self.scale_target}

    def __repr__(self):
        scale = ", scale_target=True" if self.scale_target else ""
        return f"Preprocessor(target={self.target!r}, task={self.task!r}{scale})"

    # ---- fitting ------------------------------------------------------------------------------
    def fit(self, table, classes=None):
        """Learn the column statistics, categories and classes from ``table`` (the training split only).

        ``classes``: the class labels to expect (as ``check_target`` gives them for the whole table);
        by default, those present in ``table``.
        """
        table = read_table(table)
        if len(table) == 0:
            raise DataError("Preprocessor.fit: the table has no rows")
        target = self.target
        if target is not None and target not in table:
            raise DataError(f"Preprocessor.fit: no target column {target!r}; the columns are {table.columns}")
        features = [c for c in table.columns if c != target]
        if not features:
            raise DataError(f"Preprocessor.fit: no feature columns (the table has only {table.columns})")
        columns = []
        for name in features:
            if table.kind(name) == "numeric":
                col = _as_numbers(table, name, "the column is numeric")
                median = float(np.median(col[~np.isnan(col)])) if not np.isnan(col).all() else 0.0
                filled = np.where(np.isnan(col), median, col)
                mean, std = float(filled.mean()), float(filled.std())
                std = std if std > 0 and math.isfinite(std) else 1.0
                columns.append({"name": name, "kind": "numeric", "median": median, "mean": mean, "std": std})
            else:
                present = [v for v in table[name] if v is not None]
                cats, counts = np.unique(np.array(present, dtype=object).astype(str), return_counts=True)
                cats = [str(c) for c in cats]
                fill = cats[int(np.argmax(counts))] if cats else None  # ties: the first in sorted order
                columns.append({"name": name, "kind": "categorical", "categories": cats, "most_frequent": fill})
        self.columns_ = columns
        self.target_, self.task_, self.classes_ = target, None, None
        self.target_mean_ = self.target_std_ = None
        if target is not None:
            self.task_, self.classes_ = self._fit_target(table, classes)
        self._finish()
        return self

    def _fit_target(self, table, given=None):
        name = self.target
        task, classes = check_target(table, name, self.task)
        if task == "regression":
            y = _as_numbers(table, name, "the target of a regression")
            mean, std = float(y.mean()), float(y.std())
            self.target_mean_, self.target_std_ = mean, (std if std > 0 and math.isfinite(std) else 1.0)
            return task, None
        if given is not None:
            given = [c if isinstance(c, str) else _plain(c) for c in given]
            known = {_key(c) for c in given}
            for i, k in enumerate(_as_keys(table[name])):
                if k not in known:
                    raise DataError(f"target column {name!r}, {table.where(i)}: label {k!r} is not one of the"
                                    f" classes given, {given}"[:600])
            classes = given
        if len(classes) < 2:
            raise DataError(
                f"target column {name!r} has a single class {classes[0]!r} in the training data;"
                " classification needs at least two"
            )
        return task, classes

    def _finish(self):
        names = []
        for spec in self.columns_:
            if spec["kind"] == "numeric":
                names.append(spec["name"])
            else:
                names.extend(f"{spec['name']}={c}" for c in spec["categories"])
        self.feature_names_ = names
        self._class_index = None if self.classes_ is None else {_key(c): i for i, c in enumerate(self.classes_)}

    @property
    def n_features_(self):
        self._check_fitted()
        return len(self.feature_names_)

    def feature_groups(self):
        """Each original column -> the matrix columns it became (one for a numeric column, one per category for
        a categorical one), in order: what ``chainrule.explain`` sums or switches as one feature (``groups=``)."""
        self._check_fitted()
        groups, j = {}, 0
        for spec in self.columns_:
            width = 1 if spec["kind"] == "numeric" else len(spec["categories"])
            groups[spec["name"]] = list(range(j, j + width))
            j += width
        return groups

    def inverse_transform_features(self, X):
        """The original values of a feature matrix, one object array row per row: numbers for numeric columns
        (unstandardised), the category for categorical ones (the largest one-hot entry; None if all are 0)."""
        self._check_fitted()
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.feature_names_):
            raise DataError(f"Preprocessor.inverse_transform_features: expected a matrix of {len(self.feature_names_)} "
                            f"columns, got shape {X.shape}")
        out = np.empty((X.shape[0], len(self.columns_)), dtype=object)
        for k, (spec, cols) in enumerate(zip(self.columns_, self.feature_groups().values())):
            block = X[:, cols]
            if spec["kind"] == "numeric":
                out[:, k] = [float(v) for v in block[:, 0] * spec["std"] + spec["mean"]]
            else:
                best = block.argmax(axis=1)
                out[:, k] = [spec["categories"][b] if block[i, b] > 0 else None for i, b in enumerate(best)]
        return out

    def _check_fitted(self):
        if not hasattr(self, "columns_"):
            raise DataError("Preprocessor is not fitted: call fit(train_table) first")

    # ---- transforming -------------------------------------------------------------------------
    def transform_features(self, table):
        """The float32 feature matrix ``(n, n_features)`` of ``table`` (the target column, if any, is ignored)."""
        self._check_fitted()
        table = read_table(table)
        absent = [s["name"] for s in self.columns_ if s["name"] not in table]
        if absent:
            raise DataError(
                f"Preprocessor: column{'s' if len(absent) > 1 else ''} {', '.join(map(repr, absent))} missing from"
                f" the table; it has {table.columns}"
            )
        n = len(table)
        X = np.zeros((n, len(self.feature_names_)), dtype=np.float32)
        j = 0
        for spec in self.columns_:
            name = spec["name"]
            if spec["kind"] == "numeric":
                col = _as_numbers(table, name, "the column was numeric in training")
                col = np.where(np.isnan(col), spec["median"], col)
                X[:, j] = (col - spec["mean"]) / spec["std"]
                j += 1
            else:
                index = {c: k for k, c in enumerate(spec["categories"])}
                fill = spec["most_frequent"]
                codes = np.array([index.get(fill if v is None else v, -1) for v in _as_keys(table[name])], np.int64)
                rows = np.flatnonzero(codes >= 0)
                X[rows, j + codes[rows]] = 1.0
                j += len(index)
        return X

    def transform_target(self, table):
        """``y`` of ``table``: int64 class indices (classification) or float32 values (regression)."""
        self._check_fitted()
        table = read_table(table)
        name = self.target_
        if name is None:
            raise DataError("Preprocessor: fitted without a target column; there is no y to transform")
        if name not in table:
            raise DataError(
                f"Preprocessor: no target column {name!r} in the table (it has {table.columns});"
                " use transform_features() for tables without the target"
            )
        if self.task_ == "regression":
            y = _as_numbers(table, name, "the target of a regression")
            missing = np.flatnonzero(np.isnan(y))
            if missing.size:
                raise DataError(f"target column {name!r}, {table.where(int(missing[0]))}: the value is missing")
            if self.scale_target and self.target_mean_ is not None:
                y = (y - self.target_mean_) / self.target_std_
            return y.astype(np.float32)
        y = np.empty(len(table), dtype=np.int64)
        for i, k in enumerate(_as_keys(table[name])):
            if k is None:
                raise DataError(f"target column {name!r}, {table.where(i)}: the value is missing")
            c = self._class_index.get(k)
            if c is None:
                raise DataError(
                    f"target column {name!r}, {table.where(i)}: label {k!r} was not seen in training"
                    f" (the classes are {self.classes_})"
                )
            y[i] = c
        return y

    def target_values(self, table):
        """The target of ``table`` in its own units: float64 values (regression, never scaled) or class indices."""
        if self.task_ != "regression":
            return self.transform_target(table)
        self._check_fitted()
        table = read_table(table)
        if self.target_ not in table:
            self.transform_target(table)  # raises, naming the columns
        y = _as_numbers(table, self.target_, "the target of a regression")
        missing = np.flatnonzero(np.isnan(y))
        if missing.size:
            raise DataError(f"target column {self.target_!r}, {table.where(int(missing[0]))}: the value is missing")
        return y

    def transform(self, table):
        """``(X, y)``; ``X`` alone when the preprocessor has no target. The target column must be present."""
        table = read_table(table)
        X = self.transform_features(table)
        if self.target_ is None:
            return X
        return X, self.transform_target(table)

    def fit_transform(self, table):
        table = read_table(table)
        return self.fit(table).transform(table)

    def inverse_transform_target(self, y):
        """Class indices -> the original labels (an array); for regression, the values as float64 in the
        target's units (the standardisation undone when ``scale_target``)."""
        self._check_fitted()
        y = np.asarray(y._data if isinstance(y, Tensor) else y)
        if self.task_ == "regression":
            y = y.astype(np.float64)
            if self.scale_target and self.target_mean_ is not None:
                y = y * self.target_std_ + self.target_mean_
            return y
        if self.classes_ is None:
            raise DataError("Preprocessor: fitted without a target column; there are no classes")
        if y.size and (y.dtype.kind not in "iu" and not np.all(y == np.round(y))):
            raise ArgumentError(f"inverse_transform_target: expected integer class indices, got dtype {y.dtype}")
        idx = y.astype(np.int64)
        k = len(self.classes_)
        bad = idx[(idx < 0) | (idx >= k)]
        if bad.size:
            raise OutOfRangeError(f"inverse_transform_target: class index {int(bad[0])} is outside 0..{k - 1}")
        labels = np.empty(k, dtype=object) if isinstance(self.classes_[0], str) else np.asarray(self.classes_)
        if labels.dtype == object:
            labels[:] = self.classes_
        return labels[idx]

    # ---- JSON ---------------------------------------------------------------------------------
    def to_json(self):
        """The fitted state as a plain dict (``json.dumps``-able; Python scalars only)."""
        self._check_fitted()
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "config": self.get_config(),
            "target": self.target_,
            "task": self.task_,
            "classes": None if self.classes_ is None else [_plain(c) for c in self.classes_],
            "target_scale": None if self.target_mean_ is None else {"mean": self.target_mean_,
                                                                      "std": self.target_std_},
            "columns": [dict(s) for s in self.columns_],
        }

    @classmethod
    def from_json(cls, d):
        """A fitted Preprocessor from ``to_json()``'s dict."""
        if not isinstance(d, dict) or d.get("format") != _FORMAT:
            raise DataError(
                "Preprocessor.from_json: not a Preprocessor description (no format 'chainrule.Preprocessor')"
            )
        if d.get("version") not in (1, _VERSION):
            raise DataError(
                f"Preprocessor.from_json: unknown version {d.get('version')!r} (this chainrule reads 1 and {_VERSION})"
            )
        try:
            pre = cls(**d["config"])
            columns = [dict(s) for s in d["columns"]]
            for s in columns:
                keys = ("median", "mean", "std") if s["kind"] == "numeric" else ("categories", "most_frequent")
                if s["kind"] not in ("numeric", "categorical") or not isinstance(s["name"], str):
                    raise KeyError("kind")
                [s[k] for k in keys]
            pre.columns_ = columns
            pre.target_, pre.task_, pre.classes_ = d["target"], d["task"], d["classes"]
            scale = d.get("target_scale")
            pre.target_mean_ = pre.target_std_ = None
            if scale is not None:
                mean, std = float(scale["mean"]), float(scale["std"])
                if not (math.isfinite(mean) and math.isfinite(std) and std > 0):
                    raise ValueError(f"target_scale {scale}")
                pre.target_mean_, pre.target_std_ = mean, std
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(f"Preprocessor.from_json: malformed description ({type(e).__name__}: {e})") from None
        pre._finish()
        return pre
