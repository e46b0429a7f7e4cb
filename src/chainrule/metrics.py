"""Evaluation metrics with scikit-learn's names, argument orders and results.

Every function takes ``(y_true, y_pred)`` (or ``(y_true, y_score)`` / ``(y_true, y_proba)``
for the ranking and probability metrics), as NumPy arrays, lists or Tensors, and returns a
Python float (or an array for per-class / per-output results). The results agree with
``sklearn.metrics`` (the test oracle), including its edge cases: a precision, recall or F1
whose denominator is zero is ``zero_division`` (0 by default, sklearn's
``zero_division=0``, without the warning), an R^2 of a constant target is 1 when the
prediction is exact and 0 otherwise, a ROC AUC with a single class in ``y_true`` is nan
(sklearn >= 1.8 also warns), and a log loss with a single class in ``y_true`` and no
``labels`` is an error, as there.

Classification: ``accuracy``, ``precision``, ``recall``, ``f1``, ``fbeta``, ``confusion_matrix``,
``roc_auc`` (binary, and multiclass one-vs-rest), ``log_loss``.
Regression: ``mse`` (``mean_squared_error``), ``rmse``, ``mae`` (``mean_absolute_error``), ``r2``.
Each also answers to scikit-learn's long name (``accuracy_score``, ``f1_score``, ``r2_score``, ...);
``get(name)`` resolves these names through ``chainrule.registry`` (kind ``"metric"``).
Probabilities from a model's outputs, on arrays: ``softmax``, ``log_softmax``, ``sigmoid``.
"""

import numpy as np

from . import functional as _F
from .errors import ArgumentError, ShapeError
from .registry import get as _registry_get
from .registry import register
from .tensor import Tensor

__all__ = [
    "accuracy",
    "accuracy_score",
    "confusion_matrix",
    "f1",
    "f1_score",
    "fbeta",
    "fbeta_score",
    "get",
    "log_loss",
    "log_softmax",
    "mae",
    "mean_absolute_error",
    "mean_squared_error",
    "mse",
    "precision",
    "precision_score",
    "r2",
    "r2_score",
    "recall",
    "recall_score",
    "rmse",
    "roc_auc",
    "roc_auc_score",
    "sigmoid",
    "softmax",
]


def _array(x, name):
    data = getattr(x, "data", None)
    if data is not None and not isinstance(x, np.ndarray):  # a chainrule Tensor
        x = data
    a = np.asarray(x)
    if a.dtype == object:
        raise ArgumentError(f"metrics: {name} must be an array of numbers or labels, got ragged or mixed data")
    return a


def _labels_1d(a, name, where):
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ShapeError(
            f"{where}: {name} must be one label per sample (shape (n,)), got shape {a.shape}; "
            "for scores or probabilities use roc_auc/log_loss, for class scores take argmax first"
        )
    return a


def _pair(y_true, y_pred, where):
    t = _labels_1d(_array(y_true, "y_true"), "y_true", where)
    p = _labels_1d(_array(y_pred, "y_pred"), "y_pred", where)
    if len(t) != len(p):
        raise ShapeError(f"{where}: y_true has {len(t)} samples but y_pred has {len(p)}")
    return t, p


def _divide(num, den, zero_division):
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, float(zero_division))
    np.divide(num, den, out=out, where=den != 0)
    return out


# ---- classification -----------------------------------------------------------------------


def accuracy(y_true, y_pred, normalize=True):
    """The fraction (or, with ``normalize=False``, the number) of samples whose label is predicted exactly.

    2-D label-indicator arrays count a sample as right only if every label is (subset accuracy).
    """
    t, p = _array(y_true, "y_true"), _array(y_pred, "y_pred")
    if t.ndim == 2 and p.ndim == 2 and t.shape[1] > 1:
        if t.shape != p.shape:
            raise ShapeError(f"accuracy: y_true has shape {t.shape} but y_pred has {p.shape}")
        right = np.all(t == p, axis=1)
    else:
        t, p = _pair(t, p, "accuracy")
        right = t == p
    if not normalize:
        return float(np.sum(right))
    return float(np.mean(right)) if len(right) else 0.0


def confusion_matrix(y_true, y_pred, labels=None, normalize=None):
    """Counts ``C[i, j]`` of samples of true class ``labels[i]`` predicted as ``labels[j]``.

    ``labels`` default to the sorted union of both arrays' labels. ``normalize`` in
    ``{'true', 'pred', 'all'}`` divides by row sums, column sums or the total (0/0 gives 0).
    """
    t, p = _pair(y_true, y_pred, "confusion_matrix")
    labels = np.union1d(t, p) if labels is None else np.asarray(labels)
    if labels.size == 0:
        raise ArgumentError("confusion_matrix: 'labels' should contain at least one label")
    if normalize not in (None, "true", "pred", "all"):
        raise ArgumentError(
            f"confusion_matrix: normalize must be one of None, 'true', 'pred', 'all', got {normalize!r}"
        )
    n = len(labels)
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    ti = np.searchsorted(sorted_labels, t)
    pi = np.searchsorted(sorted_labels, p)
    ti_c, pi_c = np.minimum(ti, n - 1), np.minimum(pi, n - 1)
    keep = (sorted_labels[ti_c] == t) & (sorted_labels[pi_c] == p)  # samples outside `labels` are ignored
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (order[ti_c[keep]], order[pi_c[keep]]), 1)
    if normalize is None:
        return cm
    cm = cm.astype(np.float64)
    if normalize == "true":
        return _divide(cm, cm.sum(axis=1, keepdims=True), 0.0)
    if normalize == "pred":
        return _divide(cm, cm.sum(axis=0, keepdims=True), 0.0)
    return _divide(cm, cm.sum(), 0.0)


_AVERAGES = ("binary", "macro", "micro", "weighted", None)


def _counts(y_true, y_pred, average, pos_label, labels, where):
    """Per-label (tp, fp, fn, support) for the labels ``average`` asks about."""
    t, p = _pair(y_true, y_pred, where)
    if average not in _AVERAGES:
        raise ArgumentError(f"{where}: average must be one of {_AVERAGES}, got {average!r}")
    present = np.union1d(t, p)
    if average == "binary":
        if len(present) > 2:
            raise ArgumentError(
                f"{where}: the targets have {len(present)} classes ({present.tolist()[:10]}) but average='binary'; "
                "choose average='macro', 'micro', 'weighted' or None"
            )
        if len(present) == 2 and pos_label not in present.tolist():
            raise ArgumentError(f"{where}: pos_label={pos_label!r} is not a valid label: it should be one of "
                                f"{present.tolist()}")
        labels = np.asarray([pos_label])
    elif labels is None:
        labels = present
    else:
        labels = np.asarray(labels)
    tp = np.array([np.sum((t == c) & (p == c)) for c in labels], dtype=np.float64)
    pred = np.array([np.sum(p == c) for c in labels], dtype=np.float64)
    true = np.array([np.sum(t == c) for c in labels], dtype=np.float64)
    return tp, pred - tp, true - tp, true


def _average(scores, num, den, support, average, zero_division):
    if average == "micro":
        return float(_divide(num.sum(), den.sum(), zero_division))
    if average is None:
        return scores
    if average == "weighted":
        if support.sum() == 0:
            return float(zero_division)
        return float(np.average(scores, weights=support))
    if scores.size == 0:
        return float(zero_division)
    return float(np.mean(scores))  # 'macro', or the one score of 'binary'


def precision(y_true, y_pred, average="binary", pos_label=1, labels=None, zero_division=0.0):
    """tp / (tp + fp): of the samples predicted as a class, the fraction that belong to it.

    ``average='binary'`` reports ``pos_label`` only; ``'macro'`` the unweighted mean over labels,
    ``'weighted'`` the mean weighted by support, ``'micro'`` the global ratio, ``None`` one per label.
    """
    tp, fp, fn, support = _counts(y_true, y_pred, average, pos_label, labels, "precision")
    scores = _divide(tp, tp + fp, zero_division)
    return _average(scores, tp, tp + fp, support, average, zero_division)


def recall(y_true, y_pred, average="binary", pos_label=1, labels=None, zero_division=0.0):
    """tp / (tp + fn): of the samples of a class, the fraction predicted as it (see ``precision`` for ``average``)."""
    tp, fp, fn, support = _counts(y_true, y_pred, average, pos_label, labels, "recall")
    scores = _divide(tp, tp + fn, zero_division)
    return _average(scores, tp, tp + fn, support, average, zero_division)


def fbeta(y_true, y_pred, beta, average="binary", pos_label=1, labels=None, zero_division=0.0):
    """The F-beta score ``(1 + b^2) tp / ((1 + b^2) tp + b^2 fn + fp)`` (see ``precision`` for ``average``)."""
    if not beta >= 0:
        raise ArgumentError(f"fbeta: beta must be >= 0, got {beta!r}")
    tp, fp, fn, support = _counts(y_true, y_pred, average, pos_label, labels, "fbeta")
    b2 = beta * beta
    if average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    scores = _divide((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp, zero_division)
    if average == "micro":
        return float(scores[0])
    return _average(scores, None, None, support, average, zero_division)


def f1(y_true, y_pred, average="binary", pos_label=1, labels=None, zero_division=0.0):
    """The F1 score ``2 tp / (2 tp + fp + fn)``, the harmonic mean of precision and recall."""
    return fbeta(y_true, y_pred, 1.0, average, pos_label, labels, zero_division)


def _binary_auc(is_pos, score):
    """Area under the ROC curve: the probability that a random positive outranks a random negative
    (ties count one half), from average ranks (the Mann-Whitney U statistic)."""
    n_pos = int(np.sum(is_pos))
    n_neg = len(is_pos) - n_pos
    if n_pos == 0 or n_neg == 0:  # undefined: nan, as scikit-learn (>= 1.8; it also warns)
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    ranks = np.empty(len(s), dtype=np.float64)
    # average rank of each run of tied scores (1-based)
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    ends = np.r_[starts[1:], len(s)]
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    u = ranks[is_pos].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def roc_auc(y_true, y_score, average="macro", multi_class="ovr", labels=None):
    """Area under the ROC curve.

    Binary: ``y_score`` is one score per sample for the greater label (or a two-column
    probability array, whose second column is used). Multiclass: ``y_score`` has one column
    per class (in sorted label order, or ``labels``) and each class is scored one-vs-rest,
    then averaged (``average='macro'``, or ``'weighted'`` by prevalence, or ``None``).
    """
    t = _labels_1d(_array(y_true, "y_true"), "y_true", "roc_auc")
    s = np.asarray(_array(y_score, "y_score"), dtype=np.float64)
    if len(s) != len(t):
        raise ShapeError(f"roc_auc: y_true has {len(t)} samples but y_score has {len(s)}")
    classes = np.unique(t) if labels is None else np.asarray(labels)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if s.ndim == 2 and s.shape[1] == 2 and len(classes) <= 2:
        s = s[:, 1]
    if s.ndim == 1:
        if len(classes) < 2:
            return float("nan")  # one class present: undefined
        if len(classes) > 2:
            raise ArgumentError(
                f"roc_auc: y_true has {len(classes)} classes but y_score has one column; pass one column per class"
            )
        return _binary_auc(t == classes[1], s)
    if s.ndim != 2:
        raise ShapeError(f"roc_auc: y_score must have shape (n,) or (n, n_classes), got {s.shape}")
    if multi_class != "ovr":
        raise ArgumentError(f"roc_auc: only multi_class='ovr' (one-vs-rest) is supported, got {multi_class!r}")
    if average not in ("macro", "weighted", None):
        raise ArgumentError(f"roc_auc: average must be 'macro', 'weighted' or None, got {average!r}")
    if s.shape[1] != len(classes):
        raise ArgumentError(
            f"roc_auc: y_score has {s.shape[1]} columns but y_true has {len(classes)} classes "
            f"({classes.tolist()[:10]}); pass labels= to name one class per column"
        )
    if labels is not None and not np.all(np.isin(t, classes)):
        raise ArgumentError("roc_auc: y_true contains labels that are not in 'labels'")
    scores = np.array([_binary_auc(t == c, s[:, j]) for j, c in enumerate(classes)])
    if average is None:
        return scores
    if average == "weighted":
        return float(np.average(scores, weights=[np.sum(t == c) for c in classes]))
    return float(np.mean(scores))


def log_loss(y_true, y_proba, labels=None, normalize=True):
    """Cross-entropy of predicted probabilities: ``-mean(log p[true class])``.

    ``y_proba`` has one column per class (sorted labels, or ``labels``), or, for two classes,
    one column / a vector with the probability of the greater label. Probabilities are
    clipped to ``[eps, 1 - eps]`` (eps of their float type) as in scikit-learn.
    """
    t = _labels_1d(_array(y_true, "y_true"), "y_true", "log_loss")
    p = _array(y_proba, "y_proba")
    if not np.issubdtype(p.dtype, np.floating):
        p = p.astype(np.float64)
    if len(p) != len(t):
        raise ShapeError(f"log_loss: y_true has {len(t)} samples but y_proba has {len(p)}")
    if p.size and (p.max() > 1 or p.min() < 0):
        raise ArgumentError(f"log_loss: y_proba must be probabilities in [0, 1], got values in [{p.min()}, {p.max()}]")
    classes = np.unique(t) if labels is None else np.unique(np.asarray(labels))
    if len(classes) < 2:
        raise ArgumentError(
            f"log_loss: y_true contains only one label ({classes.tolist()}); pass every expected class via labels="
            if labels is None
            else "log_loss: labels must name at least two classes"
        )
    if labels is not None and not np.all(np.isin(t, classes)):
        raise ArgumentError(f"log_loss: y_true contains labels not in labels={classes.tolist()}")
    if p.ndim == 1:
        p = p[:, None]
    if p.shape[1] == 1:
        p = np.concatenate([1 - p, p], axis=1)
    if p.shape[1] != len(classes):
        raise ArgumentError(
            f"log_loss: y_true and y_proba have different numbers of classes: {len(classes)} vs {p.shape[1]}; "
            "pass labels= to name one class per column"
        )
    eps = np.finfo(p.dtype).eps
    p = np.clip(p, eps, 1 - eps)
    idx = np.searchsorted(classes, t)
    losses = -np.log(p[np.arange(len(t)), idx].astype(np.float64))
    return float(losses.mean() if normalize else losses.sum())


# ---- regression ---------------------------------------------------------------------------


def _regression(y_true, y_pred, where, multioutput):
    t = np.asarray(_array(y_true, "y_true"), dtype=np.float64)
    p = np.asarray(_array(y_pred, "y_pred"), dtype=np.float64)
    if t.ndim == 1:
        t = t[:, None]
    if p.ndim == 1:
        p = p[:, None]
    if t.ndim != 2 or t.shape != p.shape:
        raise ShapeError(f"{where}: y_true has shape {np.shape(y_true)} but y_pred has {np.shape(y_pred)}")
    if multioutput not in ("raw_values", "uniform_average", "variance_weighted"):
        raise ArgumentError(
            f"{where}: multioutput must be 'raw_values', 'uniform_average' or 'variance_weighted', got {multioutput!r}"
        )
    return t, p


def _reduce_outputs(per_output, multioutput):
    if multioutput == "raw_values":
        return per_output
    return float(np.mean(per_output))


def mean_squared_error(y_true, y_pred, multioutput="uniform_average"):
    """Mean of ``(y_true - y_pred) ** 2`` (per output with ``multioutput='raw_values'``)."""
    t, p = _regression(y_true, y_pred, "mean_squared_error", multioutput)
    return _reduce_outputs(np.mean((t - p) ** 2, axis=0), multioutput)


def rmse(y_true, y_pred, multioutput="uniform_average"):
    """Root of the mean squared error (per output, then averaged)."""
    t, p = _regression(y_true, y_pred, "rmse", multioutput)
    return _reduce_outputs(np.sqrt(np.mean((t - p) ** 2, axis=0)), multioutput)


def mean_absolute_error(y_true, y_pred, multioutput="uniform_average"):
    """Mean of ``|y_true - y_pred|``."""
    t, p = _regression(y_true, y_pred, "mean_absolute_error", multioutput)
    return _reduce_outputs(np.mean(np.abs(t - p), axis=0), multioutput)


def r2(y_true, y_pred, multioutput="uniform_average"):
    """Coefficient of determination ``1 - SS_res / SS_tot``.

    A constant target gives 1.0 for an exact prediction and 0.0 otherwise (sklearn's
    ``force_finite``); fewer than two samples give nan.
    """
    t, p = _regression(y_true, y_pred, "r2", multioutput)
    if len(t) < 2:
        return float("nan") if multioutput != "raw_values" else np.full(t.shape[1], np.nan)
    num = np.sum((t - p) ** 2, axis=0)
    den = np.sum((t - t.mean(axis=0)) ** 2, axis=0)
    scores = np.ones(t.shape[1])
    ok = (num != 0) & (den != 0)
    scores[ok] = 1 - num[ok] / den[ok]
    scores[(num != 0) & (den == 0)] = 0.0
    if multioutput == "variance_weighted":
        return float(np.average(scores, weights=den)) if den.sum() != 0 else float(np.mean(scores))
    return _reduce_outputs(scores, multioutput)


# short names and scikit-learn's names
mse = mean_squared_error
mae = mean_absolute_error
accuracy_score = accuracy
precision_score = precision
recall_score = recall
f1_score = f1
fbeta_score = fbeta
roc_auc_score = roc_auc
r2_score = r2

# the names a Trainer (or the command line) accepts, resolved by ``chainrule.registry`` (kind "metric"); the first
# name of each function is its registered name, the others are aliases
_NAMES = {
    accuracy: ("accuracy", "acc", "accuracy_score"),
    precision: ("precision", "precision_score"),
    recall: ("recall", "recall_score"),
    f1: ("f1", "f1_score"),
    roc_auc: ("roc_auc", "auc", "roc_auc_score"),
    log_loss: ("log_loss",),
    mean_squared_error: ("mse", "mean_squared_error"),
    rmse: ("rmse",),
    mean_absolute_error: ("mae", "mean_absolute_error"),
    r2: ("r2", "r2_score"),
}
for _fn, _aliases in _NAMES.items():
    for _name in _aliases:
        register(_name, kind="metric")(_fn)
del _fn, _aliases, _name


def get(name):
    """The metric function called ``name`` (``'accuracy'``, ``'f1'``, ``'r2'``, ``'f1_score'``, ...).

    Names resolve through ``chainrule.registry`` (kind ``"metric"``); an unknown name raises
    ``UnknownNameError`` listing the valid ones.
    """
    return _registry_get(name, kind="metric")


# ---- probabilities from a model's outputs ------------------------------------------------------------


def _float_array(x, name):
    a = _array(x, name)
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    return a


def softmax(logits, axis=-1):
    """Class probabilities from logits along ``axis``, as a NumPy array in the logits' floating dtype
    (float32 stays float32, float64 stays float64; integers give float64).

    For arrays of outputs (``Trainer.predict_proba``, the estimators' ``predict_proba``, the command
    line); it runs the forward of the softmax primitive (``chainrule.functional.softmax``) without a
    graph, so the library has one softmax. Tensors and lists are accepted too.
    """
    return _F.softmax(Tensor._wrap(_float_array(logits, "logits")), axis=axis)._data


def log_softmax(logits, axis=-1):
    """Log-probabilities from logits along ``axis``, in the logits' floating dtype: the forward of
    ``chainrule.functional.log_softmax`` (finite for logits of any size, where ``log(softmax)`` is not)."""
    return _F.log_softmax(Tensor._wrap(_float_array(logits, "logits")), axis=axis)._data


def sigmoid(logits):
    """Probabilities from the logits of independent binary outputs, elementwise, in the logits' floating
    dtype: the forward of ``chainrule.functional.sigmoid``."""
    return _F.sigmoid(Tensor._wrap(_float_array(logits, "logits")))._data
