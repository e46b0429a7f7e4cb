"""Perturbation methods: what happens to the output when inputs are switched off.

* ``occlusion``: a window slides over the input (an image's pixels, a table's columns) and is replaced by a
  baseline; each cell gets the mean output drop over the windows that covered it (Captum's ``Occlusion``).
* ``feature_ablation``: each feature, or each group of columns as one unit, replaced by the baseline; its value
  is the output drop (Captum's ``FeatureAblation``). A one-hot group takes the baseline row's columns all
  together, so a valid baseline row gives a valid category.
* ``permutation_importance``: a global measure, the drop of a score when a feature's (group's) column(s) are
  shuffled across rows (scikit-learn's ``sklearn.inspection.permutation_importance``).

Every model evaluation runs without recording, in eval mode, in batches of ``batch_size`` rows.
"""

import itertools

import numpy as np

from ..autograd import no_grad
from ..errors import ArgumentError, ArgumentTypeError, ShapeError
from ..tensor import Tensor
from ._core import (
    Explanation,
    as_inputs,
    baselines_for,
    batched,
    check_output,
    evaluating,
    forward,
    resolve_batch_size,
    resolve_groups,
    row_targets,
    select,
)

__all__ = ["occlusion", "feature_ablation", "permutation_importance", "PermutationImportance"]


def _evaluate(model, Z, target, output, batch_size, op):
    """The explained output of every row of ``Z`` (float64), in batches."""
    return batched(lambda z, t: forward(model, z, t, output, op), Z, batch_size, target)


def _tile_target(target, times):
    """``target`` for ``times`` stacked copies of the rows (a per-row target repeated, a scalar kept)."""
    if target is None:
        return None
    t = target.numpy() if isinstance(target, Tensor) else target
    return t if np.ndim(t) == 0 else np.tile(np.asarray(t), times)


def _int_tuple(value, n, what, op):
    """An int (``n`` times) or a tuple of ``n`` positive ints."""
    items = (value,) * n if isinstance(value, int | np.integer) and not isinstance(value, bool) else value
    try:
        items = tuple(items)
    except TypeError:
        raise ArgumentTypeError(f"{op}: {what} must be an int or a tuple of {n} ints, got {value!r}") from None
    if len(items) != n or any(isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1 for v in items):
        raise ArgumentError(f"{op}: {what} must be a positive int or a tuple of {n} positive ints (one per "
                            f"dimension after the batch), got {value!r}")
    return tuple(int(v) for v in items)


# ---- occlusion ----------------------------------------------------------------------------------------------


def _window_shape(window, shape, op):
    if window is None:  # a table: one column at a time; an image: all channels, a 3 x 3 patch
        return (1,) if len(shape) == 1 else (shape[0], *(min(3, s) for s in shape[1:]))
    if isinstance(window, int | np.integer) and not isinstance(window, bool) and len(shape) > 1:
        window = (shape[0], *(int(window),) * (len(shape) - 1))  # an int for an image: all channels, w x w
    win = _int_tuple(window, len(shape), "window", op)
    if any(w > s for w, s in zip(win, shape)):
        raise ShapeError(f"{op}: window {win} is larger than the inputs' shape {shape}")
    return win


def occlusion(model, X, target=None, window=None, stride=1, baseline=0, output=None, batch_size=None):
    """Occlusion (Zeiler & Fergus; Captum's ``Occlusion``): a ``window`` slides over each input with ``stride``
    and its cells are replaced by ``baseline``; a cell's value is the mean, over the windows covering it, of
    ``output(x) - output(x occluded)``.

    ``window``: a tuple over the dimensions after the batch (Captum's ``sliding_window_shapes``), or an int: ``w``
    columns for a table, all channels and a ``w x w`` patch for an image (N, C, H, W); None: one column, or all
    channels and 3 x 3. ``stride``: an int or a tuple (Captum's ``strides``); a window at the far edge is cut to
    fit, as Captum's is. ``baseline``: a number, one input, or one input per row. ``values`` has X's shape.
    """
    op = "occlusion"
    check_output(output, op)
    X = as_inputs(X, op)
    n, shape = X.shape[0], X.shape[1:]
    if not shape:
        raise ShapeError(f"{op}: X must be rows of features (n, d) or images (n, C, H, W), got shape {X.shape}")
    win = _window_shape(window, shape, op)
    strides = _int_tuple(stride, len(shape), "stride", op)
    for w, s, st in zip(win, shape, strides):
        if w < s and st > w:
            raise ArgumentError(f"{op}: stride {strides} is larger than window {win}: cells between windows would "
                                "never be occluded")
    base, kind = baselines_for(baseline, X, op)
    if kind == "background":
        raise ShapeError(f"{op}: baseline of {base.shape[0]} rows for {n} inputs: give one input of shape {shape} "
                         "or one per row")
    batch_size = resolve_batch_size(batch_size, model, X, target, output, op)
    counts = [-(-(s - w) // st) + 1 for s, w, st in zip(shape, win, strides)]
    starts = list(itertools.product(*(range(0, c * st, st) for c, st in zip(counts, strides))))
    with evaluating(model):
        outputs = _evaluate(model, X, target, output, batch_size, op)
        base_values = _evaluate(model, np.broadcast_to(base, X.shape).copy(), target, output, batch_size, op)
        total = np.zeros((n, int(np.prod(shape))), dtype=np.float64)
        covered = np.zeros(int(np.prod(shape)), dtype=np.float64)
        per = max(1, batch_size // n)
        for first in range(0, len(starts), per):
            chunk = starts[first : first + per]
            masks = np.zeros((len(chunk), *shape), dtype=bool)
            for m, start in zip(masks, chunk):
                m[tuple(slice(a, a + w) for a, w in zip(start, win))] = True
            Z = np.where(masks[:, None], base[None], X[None]).reshape(len(chunk) * n, *shape)
            occluded = _evaluate(model, Z, _tile_target(target, len(chunk)), output, batch_size, op)
            drop = outputs[None] - occluded.reshape(len(chunk), n)
            flat = masks.reshape(len(chunk), -1).astype(np.float64)
            total += drop.T @ flat
            covered += flat.sum(axis=0)
    values = (total / covered).reshape(X.shape)
    return Explanation(values, data=X if X.ndim == 2 else None, outputs=outputs, base_values=base_values,
                       method=op, target=target, output=output,
                       info={"window": win, "stride": strides, "baseline": kind, "n_windows": len(starts)})


# ---- feature ablation ---------------------------------------------------------------------------------------


def feature_ablation(model, X, target=None, baselines=None, groups=None, output=None, batch_size=None):
    """Feature ablation (Captum's ``FeatureAblation``): each feature, or each group of columns as one unit, is
    replaced by its baseline value; its value is ``output(x) - output(x ablated)``.

    ``baselines``: None (zeros), a number, one row, one row per input, or a table of background rows (any other
    number of rows: the ablated output is averaged over them, and ``base_values`` is the mean output on them).
    ``groups`` (tables only): a Preprocessor, dict or list (see ``_core``); a group's columns all take the
    baseline row's values, so a one-hot group takes the baseline row's category (with the default zero baseline
    it has none: pass a real row for a valid one). Tables give rows x groups; images keep X's shape (each element
    ablated on its own).
    """
    op = "feature_ablation"
    check_output(output, op)
    X = as_inputs(X, op)
    n, shape = X.shape[0], X.shape[1:]
    if not shape:
        raise ShapeError(f"{op}: X must be rows of features (n, d) or images (n, C, H, W), got shape {X.shape}")
    if len(shape) > 1 and groups is not None:
        raise ArgumentError(f"{op}: groups= is for tables (n, d); X has shape {X.shape}")
    width = int(np.prod(shape))
    G = resolve_groups(groups, width, op)
    base, kind = baselines_for(baselines, X, op)
    # as a background per row: (rows of X or 1, background rows, columns)
    B = base.reshape(n, 1, width) if kind == "paired" else base.reshape(1, -1, width)
    nb = B.shape[1]
    batch_size = resolve_batch_size(batch_size, model, X, target, output, op)
    flat = X.reshape(n, width)
    k = len(G)
    with evaluating(model):
        outputs = _evaluate(model, X, target, output, batch_size, op)
        at_base = _evaluate(model, np.broadcast_to(B, (n, nb, width)).reshape(n * nb, *shape), _repeat(target, nb),
                            output, batch_size, op)
        base_values = at_base.reshape(n, nb).mean(axis=1)
        values = np.empty((n, k), dtype=np.float64)
        per = max(1, batch_size // (n * nb))
        for first in range(0, k, per):
            chunk = np.arange(first, min(k, first + per))
            onehot = np.zeros((chunk.size, k), dtype=bool)
            onehot[np.arange(chunk.size), chunk] = True
            masks = G.mask(onehot)  # (groups in chunk, columns)
            Z = np.where(masks[:, None, None, :], B[None], flat[None, :, None, :])
            ablated = _evaluate(model, Z.reshape(-1, *shape), _tile_target(_repeat(target, nb), chunk.size), output,
                                batch_size, op)
            values[:, chunk] = (outputs[None] - ablated.reshape(chunk.size, n, nb).mean(axis=2)).T
    if len(shape) > 1:
        return Explanation(values.reshape(X.shape), outputs=outputs, base_values=base_values, method=op,
                           target=target, output=output, info={"baselines": kind, "n_baselines": nb})
    return Explanation(values, names=G.names, data=G.data(X), outputs=outputs, base_values=base_values, method=op,
                       target=target, output=output, info={"baselines": kind, "n_baselines": nb})


def _repeat(target, times):
    """A per-row target repeated ``times`` times row by row (for rows each stacked with ``times`` backgrounds)."""
    if target is None:
        return None
    t = target.numpy() if isinstance(target, Tensor) else target
    return t if np.ndim(t) == 0 else np.repeat(np.asarray(t), times)


# ---- permutation importance ---------------------------------------------------------------------------------


class PermutationImportance(dict):
    """The result of ``permutation_importance``, a dict whose keys also read as attributes (as scikit-learn's
    Bunch): ``importances`` (groups x repeats: baseline score - score with the group shuffled),
    ``importances_mean``, ``importances_std`` (over the repeats, ddof 0, as scikit-learn), ``names``,
    ``baseline_score``, ``metric`` (its name) and ``info``."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def ranked(self):
        """(name, mean, std) for every group, the largest mean importance first."""
        order = np.argsort(-self["importances_mean"], kind="stable")
        return [(self["names"][g], float(self["importances_mean"][g]), float(self["importances_std"][g]))
                for g in order]

    def __repr__(self):
        top = ", ".join(f"{name} {mean:.3g}" for name, mean, _ in self.ranked()[:5])
        return f"PermutationImportance({len(self['names'])} features, {self['metric']}: {top})"


def _scores(model, X, target, output, op):
    """What the metric sees: the selected output (n,) with a target or a single output, else all outputs (n, k)."""
    with no_grad(), evaluating(model):
        out = model(Tensor(X, dtype=X.dtype))
        if target is not None or out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1):
            return select(out, target, output, op, X.shape[0]).numpy().astype(np.float64)
        if out.ndim != 2 or out.shape[0] != X.shape[0]:
            raise ShapeError(f"{op}: the model must return (n,), (n, 1) or (n, k) for n = {X.shape[0]} rows, got "
                             f"shape {tuple(out.shape)}")
        if output == "probability":
            out = out.softmax(dim=1)
        return out.numpy().astype(np.float64)


def _default_metric(y, output, op):
    """Accuracy for class labels (integer y), negative mean squared error for numbers (float y)."""
    if y.dtype.kind in "biu":
        threshold = 0.5 if output == "probability" else 0.0

        def accuracy(y_true, scores):
            pred = scores.argmax(axis=1) if scores.ndim == 2 else (scores > threshold).astype(np.int64)
            return float(np.mean(pred == y_true))

        return accuracy, "accuracy"

    def neg_mse(y_true, scores):
        if scores.ndim != 1:
            raise ArgumentError(f"{op}: the default metric for numeric y (negative mean squared error) needs one "
                                f"output; the model gives {scores.shape[1]}: pass target= or metric=")
        return -float(np.mean((np.asarray(y_true, np.float64).reshape(-1) - scores) ** 2))

    return neg_mse, "neg_mean_squared_error"


def permutation_importance(model, data, metric=None, n_repeats=5, seed=0, groups=None, target=None, output=None,
                           batch_size=None):
    """Permutation importance (Breiman; scikit-learn's ``permutation_importance``): how much a score drops when a
    feature's column, or a group's columns together (one row permutation for the whole group, so a one-hot
    group keeps valid rows), is shuffled across the rows of ``data = (X, y)``.

    ``metric(y_true, scores) -> float``, higher is better; ``scores`` is the selected output (n,) with
    ``target`` or a single output, else all outputs (n, k) (after ``output="probability"``: sigmoid / softmax).
    Default: accuracy when ``y`` holds integer class labels (the argmax of several outputs, or one output above 0,
    or above 0.5 for probabilities), negative mean squared error when ``y`` holds floats (one output).
    ``seed``: an int or a ``np.random.Generator``; for each group in order, ``n_repeats`` permutations
    ``rng.permutation(n)`` are drawn. Returns a ``PermutationImportance``.
    """
    op = "permutation_importance"
    check_output(output, op)
    if hasattr(data, "columns") and hasattr(data, "select"):  # a Table, with the target column: its Preprocessor
        if not hasattr(groups, "transform"):
            raise ArgumentTypeError(f"{op}: a table needs groups= its fitted Preprocessor (to make X and y from it)")
        data = groups.transform(data)
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise ArgumentTypeError(f"{op}: data must be a pair (X, y) or a table, got {type(data).__name__}")
    X = as_inputs(data[0], op)
    y = data[1].numpy() if isinstance(data[1], Tensor) else np.asarray(data[1])
    if X.ndim != 2:
        raise ShapeError(f"{op}: X must be a table (rows x features), got shape {X.shape}")
    n = X.shape[0]
    if y.shape[:1] != (n,):
        raise ShapeError(f"{op}: y must have one entry per row of X ({n}), got shape {y.shape}")
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, int | np.integer) or n_repeats < 1:
        raise ArgumentError(f"{op}: n_repeats must be a positive int, got {n_repeats!r}")
    if metric is None:
        metric, metric_name = _default_metric(y, output, op)
    elif callable(metric):
        metric_name = getattr(metric, "__name__", type(metric).__name__)
    else:
        raise ArgumentTypeError(f"{op}: metric must be a callable (y_true, scores) -> float, got {metric!r}"[:200])
    G = resolve_groups(groups, X.shape[1], op)
    rng = seed if hasattr(seed, "permutation") else np.random.default_rng(seed)
    # the default batch is sized on one output's gradient; which output does not matter for its memory
    batch_size = resolve_batch_size(batch_size, model, X, 0 if target is None else target, output, op)

    def score(Z):
        parts = [_scores(model, Z[s : s + batch_size], row_targets(target, slice(s, s + batch_size)), output, op)
                 for s in range(0, n, batch_size)]
        return float(metric(y, np.concatenate(parts, axis=0)))

    baseline = score(X)
    importances = np.empty((len(G), int(n_repeats)), dtype=np.float64)
    Z = X.copy()
    for g, cols in enumerate(G.columns):
        for r in range(int(n_repeats)):
            perm = np.asarray(rng.permutation(n))
            Z[:, cols] = X[perm[:, None], cols]
            importances[g, r] = baseline - score(Z)
        Z[:, cols] = X[:, cols]
    return PermutationImportance(importances_mean=importances.mean(axis=1), importances_std=importances.std(axis=1),
                                 importances=importances, names=G.names, baseline_score=baseline, metric=metric_name,
                                 info={"n_repeats": int(n_repeats), "seed": seed if np.ndim(seed) == 0 and
                                       not hasattr(seed, "permutation") else None, "output": output,
                                       "target": target})
