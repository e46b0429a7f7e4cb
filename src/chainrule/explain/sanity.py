"""Sanity checks for an attribution method: does it depend on what the model learned, and does its ranking of
the features say which ones the output needs?

    result = sanity_check(model, X_test, saliency, n_rows=100)
    result.passed, result["randomisation"]["final"], result["deletion"]["auc_attribution"]

* Model-parameter randomisation (Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018), cascading:
  a deep copy of the model has its parameterised layers re-initialised one by one from the top (the output
  layer) down, cumulatively; after each step the method explains the same rows again and the rank
  correlation of each row's attributions with the trained model's is averaged over the rows. A method that
  explains the model ends far from the trained model's attributions once every layer is random: the check
  passes when the final mean correlation is below 0.5. Layers with a ``reset_parameters(generator=...)`` are
  re-initialised that way (their own initialisation, seeded); other parameters get normal values of the
  trained values' root mean square.
* Deletion and insertion curves: the features of each row are removed (set to the baseline 0) one by one in
  the order of their attribution, largest (most positive) first, and the explained output recorded after
  each step; insertion starts from the baseline and puts the features back in that order. The same is done
  in a random order per row. Deletion passes when the attribution order lowers the mean output faster (a
  smaller area under the curve, over the fraction of features removed, 0 to 1) than the random order;
  insertion when it raises it faster (a larger area).

``metric``: ``"spearman"`` (rank correlation of |attributions|, Adebayo et al.'s main figure),
``"spearman_signed"`` (of the signed attributions) or ``"pearson"`` (of |attributions|). A row whose
attributions are all equal in either model has no ranking: it counts as correlation 0.
"""

import copy
import inspect

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError, ShapeError
from . import _core
from ._core import as_inputs, forward, resolve_groups, row_targets

__all__ = ["SanityCheck", "sanity_check", "spearman"]

METRICS = ("spearman", "spearman_signed", "pearson")
RANDOMISATION_THRESHOLD = 0.5
CURVE_POINTS = 64
CHUNK = 2**22  # elements of X evaluated at once on the curves


class SanityCheck(dict):
    """The figures of ``sanity_check`` (a dict; keys are also attributes): ``randomisation`` (``layers``
    re-initialised top first, the mean ``correlation`` after each step, the ``final`` one, the per-row
    ``final_rows``, ``threshold`` and ``passed``), ``deletion`` and ``insertion`` (``fractions`` of the
    features moved, the mean output along the ``attribution`` and ``random`` orders, the areas
    ``auc_attribution`` and ``auc_random``, ``passed``), and ``passed`` (all three), ``method``, ``metric``,
    ``rows`` (the rows of X used)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"SanityCheck has no {name!r}; it has {list(self)}") from None

    def __str__(self):
        r, d, i = self["randomisation"], self["deletion"], self["insertion"]

        def verdict(ok):
            return "passed" if ok else "FAILED"

        return "\n".join([
            f"sanity check of {self['method']} on {len(self['rows'])} rows:",
            f"  randomisation: mean {self['metric']} {r['final']:.3f} after re-initialising "
            f"{len(r['layers'])} layers (< {r['threshold']} to pass): {verdict(r['passed'])}",
            f"  deletion: AUC {d['auc_attribution']:.4g} by attribution vs {d['auc_random']:.4g} random (smaller "
            f"is better): {verdict(d['passed'])}",
            f"  insertion: AUC {i['auc_attribution']:.4g} by attribution vs {i['auc_random']:.4g} random (larger "
            f"is better): {verdict(i['passed'])}",
        ])

    def __repr__(self):
        return f"SanityCheck({self['method']}: {'passed' if self['passed'] else 'failed'})"


def spearman(a, b, signed=False):
    """Row-wise Spearman rank correlation of two (rows x features) arrays (average ranks for ties; ``signed``
    False ranks |values|); a row that is constant in either array gives 0."""
    a, b = _flat(a), _flat(b)
    if a.shape != b.shape:
        raise ShapeError(f"spearman: the two attributions differ in shape, {a.shape} and {b.shape}")
    if not signed:
        a, b = np.abs(a), np.abs(b)
    return _pearson(np.stack([_ranks(r) for r in a]), np.stack([_ranks(r) for r in b]))


def _flat(a):
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(a.shape[0], -1)


def _ranks(row):
    """Ranks 0..n-1 of a vector, ties sharing their average rank."""
    _, inverse, counts = np.unique(row, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return ((ends - counts + ends - 1) / 2.0)[inverse]


def _pearson(a, b):
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    num = (a * b).sum(axis=1)
    out = np.zeros(a.shape[0])
    ok = den > 0
    out[ok] = num[ok] / den[ok]
    return np.clip(out, -1.0, 1.0)


def _correlation(a, b, metric):
    if metric == "pearson":
        return _pearson(np.abs(_flat(a)), np.abs(_flat(b)))
    return spearman(a, b, signed=metric == "spearman_signed")


def _layers(model, layers, op):
    """(name, module) of the layers with parameters of their own, in the model's order."""
    own = [(name, m) for name, m in model.named_modules() if any(True for _ in m.parameters(recurse=False))]
    if not own:
        raise ArgumentError(f"{op}: the model has no parameters to randomise")
    if layers is None:
        return own
    names = [layers] if isinstance(layers, str) else list(layers)
    valid = [name for name, _ in own]
    for name in names:
        if name not in valid:
            raise ArgumentError(f"{op}: no layer {name!r} with parameters; the layers are {valid}"[:400])
    return [(name, m) for name, m in own if name in names]


def _reinitialise(module, rng):
    reset = getattr(module, "reset_parameters", None)
    if reset is not None and "generator" in inspect.signature(reset).parameters:
        reset(generator=rng)
        return
    from ..nn import init

    for p in module.parameters(recurse=False):
        scale = float(np.sqrt(np.mean(np.square(p._data, dtype=np.float64)))) if p._data.size else 1.0
        init.normal_(p, 0.0, scale if scale > 0 else 1.0, generator=rng)


def _values(method, model, X, target, kwargs, op):
    e = method(model, X, target=target, **kwargs)
    values = getattr(e, "values", None)
    if values is None:
        raise ArgumentTypeError(f"{op}: the method must return an Explanation (with .values), got "
                                f"{type(e).__name__}")
    values = np.asarray(values, dtype=np.float64)
    if values.ndim < 2 or values.shape[0] != X.shape[0]:
        raise ShapeError(f"{op}: the method returned values of shape {values.shape} for {X.shape[0]} rows")
    if not np.all(np.isfinite(values)):
        raise ArgumentError(f"{op}: the method returned attributions that are not finite")
    return values


def _feature_columns(values, X, kwargs, op):
    """For each attributed feature, the elements of a flattened row of X it stands for."""
    m, width = int(np.prod(values.shape[1:])), int(np.prod(X.shape[1:]))
    if m == width:
        return [np.array([j]) for j in range(m)]
    groups = kwargs.get("groups")
    if groups is not None and X.ndim == 2:
        g = resolve_groups(groups, X.shape[1], op)
        if len(g) == m:
            return g.columns
    raise ShapeError(f"{op}: the method returned {m} values per row for inputs of {width} features (and no "
                     "groups= that would explain the difference)")


def _curves(model, X, target, output, order, columns, points, op):
    """Mean explained output over the rows as features are deleted (and inserted) in ``order`` (rows x
    features): two arrays over ``points`` (numbers of features moved)."""
    n, m = order.shape
    flat = X.reshape(n, -1)
    width = flat.shape[1]
    position = np.empty_like(order)
    np.put_along_axis(position, order, np.arange(m)[None].repeat(n, axis=0), axis=1)
    col_of = np.empty(width, dtype=np.int64)  # the feature of each element
    for f, cols in enumerate(columns):
        col_of[cols] = f
    k = points.size
    rows_at_once = max(1, CHUNK // max(1, k * width))
    deleted, inserted = np.zeros((n, k)), np.zeros((n, k))
    for start in range(0, n, rows_at_once):
        rows = np.arange(start, min(n, start + rows_at_once))
        moved = position[rows][:, None, col_of] < points[None, :, None]  # rows x points x elements
        x = flat[rows][:, None, :]
        dele = np.where(moved, 0.0, x).astype(X.dtype).reshape(-1, *X.shape[1:])
        ins = np.where(moved, x, 0.0).astype(X.dtype).reshape(-1, *X.shape[1:])
        t = row_targets(target, rows)
        t = t if t is None or np.ndim(t) == 0 else np.repeat(np.asarray(t), k)
        deleted[rows] = forward(model, dele, t, output, op).reshape(rows.size, k)
        inserted[rows] = forward(model, ins, t, output, op).reshape(rows.size, k)
    return deleted.mean(axis=0), inserted.mean(axis=0)


def sanity_check(model, X, method, target=None, layers=None, n_rows=100, seed=0, metric="spearman", *,
                 curve_points=CURVE_POINTS, **method_kwargs):
    """Adebayo et al.'s cascading model-parameter randomisation test and the deletion and insertion curves of
    an attribution ``method`` on ``model`` (see the module docstring); returns a ``SanityCheck``.

    method: any callable ``method(model, X, target=..., **method_kwargs)`` returning an Explanation (its
    ``values`` are used; with ``groups=`` in ``method_kwargs``, one value per group); X: inputs, of which
    ``n_rows`` are drawn (seeded; all when there are no more); layers: names (as ``named_modules`` gives them)
    of the layers to randomise, by default every layer with parameters; metric: "spearman", "spearman_signed"
    or "pearson"; curve_points: at most this many points on each curve (evenly spaced numbers of features);
    ``method_kwargs["output"]``, if given, is also the output the curves follow. The model itself is never
    changed: the randomised layers are those of a deep copy.
    """
    op = "sanity_check"
    if not callable(method):
        raise ArgumentTypeError(f"{op}: method must be a callable returning an Explanation, got "
                                f"{type(method).__name__}")
    if not hasattr(model, "named_modules"):
        raise ArgumentTypeError(f"{op}: the randomisation test needs a chainrule Module (its layers' parameters "
                                f"are re-initialised), got {type(model).__name__}")
    if metric not in METRICS:
        raise ArgumentError(f"{op}: metric must be one of {', '.join(map(repr, METRICS))}, got {metric!r}")
    for name, value, low in (("n_rows", n_rows, 1), ("seed", seed, 0), ("curve_points", curve_points, 2)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ArgumentError(f"{op}: {name} must be an int >= {low}, got {value!r}")
    output = method_kwargs.get("output")
    _core.check_output(output, op)
    X = as_inputs(X, op)
    if X.ndim < 2 or X.shape[0] == 0:
        raise ShapeError(f"{op}: X must be a batch of rows with features, got shape {X.shape}")
    rng = np.random.default_rng(seed)
    rows = np.arange(X.shape[0]) if X.shape[0] <= n_rows else np.sort(rng.choice(X.shape[0], n_rows, replace=False))
    Xs = X[rows]
    target_s = row_targets(target, rows)
    chosen = _layers(model, layers, op)

    trained = _values(method, model, Xs, target_s, method_kwargs, op)

    # cascading randomisation, top layer first, on a copy
    copied = copy.deepcopy(model)
    modules = dict(copied.named_modules())
    names, means, per_row = [], [], None
    for name, _ in reversed(chosen):
        _reinitialise(modules[name], rng)
        per_row = _correlation(trained, _values(method, copied, Xs, target_s, method_kwargs, op), metric)
        names.append(name)
        means.append(float(per_row.mean()))
    randomisation = {"layers": names, "correlation": means, "final": means[-1], "final_rows": per_row,
                     "threshold": RANDOMISATION_THRESHOLD, "passed": bool(means[-1] < RANDOMISATION_THRESHOLD)}

    # deletion and insertion, by attribution and at random
    columns = _feature_columns(trained, Xs, method_kwargs, op)
    m = len(columns)
    points = np.arange(m + 1) if m + 1 <= curve_points else np.unique(np.round(np.linspace(0, m, curve_points)))
    points = points.astype(np.int64)
    flat_values = trained.reshape(trained.shape[0], -1)
    by_attribution = np.argsort(-flat_values, axis=1, kind="stable")
    at_random = np.stack([rng.permutation(m) for _ in range(Xs.shape[0])])
    del_a, ins_a = _curves(model, Xs, target_s, output, by_attribution, columns, points, op)
    del_r, ins_r = _curves(model, Xs, target_s, output, at_random, columns, points, op)
    fractions = points / m

    def curve(attr, rand, smaller):
        auc_a, auc_r = float(np.trapezoid(attr, fractions)), float(np.trapezoid(rand, fractions))
        return {"fractions": fractions, "attribution": attr, "random": rand, "auc_attribution": auc_a,
                "auc_random": auc_r, "passed": bool(auc_a < auc_r if smaller else auc_a > auc_r)}

    deletion, insertion = curve(del_a, del_r, True), curve(ins_a, ins_r, False)
    return SanityCheck(randomisation=randomisation, deletion=deletion, insertion=insertion,
                       passed=randomisation["passed"] and deletion["passed"] and insertion["passed"],
                       method=getattr(method, "__name__", type(method).__name__), metric=metric, rows=rows)
