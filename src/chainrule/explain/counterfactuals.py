"""Counterfactuals: the few changes to one applicant that would change the model's decision.

    pre = Preprocessor(target="credit_risk"); X, y = pre.fit_transform(train)      # y: 0 = 'bad', 1 = 'good'
    ...train a one-logit model of P(good)...
    cfs = counterfactuals(model, {"age": 35, "duration_months": 48, ...}, pre, data=train,
                          immutable=["age", "personal_status_sex", "foreign_worker"],
                          outcome_names={"good": "approved", "bad": "refused"})
    print(cfs)      # 1. approved if duration_months were 24 instead of 48 and savings were ... instead of ...

The applicant (``row``) is in the table's own units: a dict column -> value, a one-row Table (or anything
``read_table`` reads), or an int, the index of a row of ``data``. ``data`` is the training table (a Table, or
the feature matrix the Preprocessor made of it): it says the range of each numeric column (its smallest and
largest training value; integer columns stay integers) and is required, so that no proposed value lies
outside what the model saw. Categorical columns take one of the Preprocessor's categories.

The decision: for a model with one output (or one ``target`` column), the explained output (``output``,
the probability by default) at or above ``threshold`` is class 1, below it class 0; with several outputs
and no ``target``, the largest output. ``desired`` (a label or a class index) is the decision wanted;
by default the other class (with several classes: any other class).

The search, deterministic for a ``seed``: every single-column change is tried (numeric columns: a grid of
quantiles of the training values; categorical ones: every category), ranked by how far it moves the
output toward the desired decision; the best change of each of the most promising columns is extended by
a second column, and so on up to ``max_changes``. Each change set that flips the decision is then made
as small as it can be (changes that are not needed are dropped, numeric moves shrunk toward the
applicant's value), and ``n`` of them with different column sets are kept, fewer changes and smaller
normalised moves first (a numeric move counts its share of the column's range, a category change 1).
Every returned row is checked again through ``preprocessor.transform_features`` and the model; a
search that finds nothing within ``budget`` model evaluations returns an empty result saying so.
"""

import numpy as np

from ..autograd import no_grad
from ..data.table import Table, read_table
from ..errors import ArgumentError, ArgumentTypeError, DataError
from ..tensor import Tensor
from ._core import as_inputs, check_output, evaluating, select

__all__ = ["Counterfactual", "Counterfactuals", "counterfactuals"]

DIRECTIONS = ("increase", "decrease")
GRID = 21  # quantiles of the training values tried for a numeric column
FINE = 64  # values tried at most when shrinking a numeric move
BEAM = 12  # change sets extended at each level
BATCH = 4096


# ---- results --------------------------------------------------------------------------------------------------


class Counterfactual:
    """One counterfactual: ``changes`` (column -> (old, new)), the changed ``row`` (every column, original
    units), the model's ``score`` there (the thresholded output, or every output with several), the
    ``probability`` of the new decision (None unless ``output="probability"``), the ``decision`` (its label),
    the normalised ``distance`` and the ``sentence`` that says it."""

    def __init__(self, changes, row, score, probability, decision, distance, sentence):
        self.changes, self.row, self.score = changes, row, score
        self.probability, self.decision, self.distance, self.sentence = probability, decision, distance, sentence

    def __str__(self):
        return self.sentence

    def __repr__(self):
        return f"Counterfactual({self.sentence})"

    def to_dict(self):
        score = self.score.tolist() if isinstance(self.score, np.ndarray) else self.score
        return {"changes": {k: [_plain(a), _plain(b)] for k, (a, b) in self.changes.items()},
                "row": {k: _plain(v) for k, v in self.row.items()}, "score": score,
                "probability": self.probability, "decision": _plain(self.decision), "distance": self.distance,
                "sentence": self.sentence}


class Counterfactuals:
    """The counterfactuals of one applicant, best first (a list-like; empty when none was found), with the
    applicant's ``row``, ``decision`` and ``score``, the ``desired`` decision (None: any other), the number of
    model ``evaluations`` spent and a ``message`` (what was found, or why nothing was)."""

    def __init__(self, items, *, row, decision, score, desired, evaluations, message):
        self.items = list(items)
        self.row, self.decision, self.score, self.desired = row, decision, score, desired
        self.evaluations, self.message = evaluations, message

    def __len__(self):
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def __getitem__(self, i):
        return self.items[i]

    def __str__(self):
        if not self.items:
            return self.message
        return "\n".join(f"{i + 1}. {c.sentence}" for i, c in enumerate(self.items))

    def __repr__(self):
        return f"Counterfactuals({len(self)} found; decision {self.decision!r})"

    def to_dict(self):
        score = self.score.tolist() if isinstance(self.score, np.ndarray) else self.score
        return {"counterfactuals": [c.to_dict() for c in self.items], "row": {k: _plain(v) for k, v in
                                                                             self.row.items()},
                "decision": _plain(self.decision), "score": score, "desired": _plain(self.desired),
                "evaluations": self.evaluations, "message": self.message}


# ---- the columns ------------------------------------------------------------------------------------------------


class _Column:
    """One CSV column: its matrix columns and, from the training data, the values it may take."""

    def __init__(self, spec, cols):
        self.name, self.kind, self.cols = spec["name"], spec["kind"], np.asarray(cols)
        if self.kind == "numeric":
            self.mean, self.std, self.median = spec["mean"], spec["std"], spec["median"]
        else:
            self.categories = list(spec["categories"])

    def fit_numbers(self, values):
        v = np.asarray(values, dtype=np.float64)
        v = v[np.isfinite(v)]
        if v.size == 0:
            raise DataError(f"counterfactuals: column {self.name!r} has no values in data")
        self.integer = bool(np.all(np.abs(v - np.round(v)) <= 1e-3 * np.maximum(1.0, np.abs(v))))
        if self.integer:
            v = np.round(v)
        self.values = np.unique(v)  # sorted
        self.lo, self.hi = float(self.values[0]), float(self.values[-1])
        self.grid = np.unique(np.quantile(v, np.linspace(0.0, 1.0, GRID), method="nearest"))

    def number(self, v):
        return int(round(v)) if self.integer else float(v)

    def effective(self, v):
        """The value the model sees (a missing number is the training median)."""
        return self.median if v is None else float(v)


def _columns(pre, data, op):
    groups = pre.feature_groups()
    cols = [_Column(spec, groups[spec["name"]]) for spec in pre.columns_]
    numeric = [c for c in cols if c.kind == "numeric"]
    if isinstance(data, np.ndarray | Tensor):
        X = as_inputs(data, op)
        if X.ndim != 2 or X.shape[1] != len(pre.feature_names_):
            raise DataError(f"{op}: data as a matrix must have the Preprocessor's {len(pre.feature_names_)} "
                            f"columns, got shape {X.shape}")
        for c in numeric:
            c.fit_numbers(X[:, c.cols[0]].astype(np.float64) * c.std + c.mean)
        return cols, None
    table = read_table(data)
    for c in numeric:
        if c.name not in table:
            raise DataError(f"{op}: column {c.name!r} is missing from data; it has {table.columns}"[:400])
        if table.kind(c.name) != "numeric":
            raise DataError(f"{op}: column {c.name!r} of data holds text, but it was numeric in training")
        c.fit_numbers(table[c.name])
    return cols, table


def _row(row, table, data, cols, pre, op):
    """The applicant as a dict column -> value (numbers as numbers, categories as str, None where missing)."""
    names = [c.name for c in cols]
    if isinstance(row, int | np.integer) and not isinstance(row, bool):
        if table is None:
            X = as_inputs(data, op)
            if not -X.shape[0] <= row < X.shape[0]:
                raise ArgumentError(f"{op}: row {row} is out of range for data of {X.shape[0]} rows")
            values = pre.inverse_transform_features(X[int(row)][None])[0]
            raw = dict(zip(names, values))
        else:
            if not -len(table) <= row < len(table):
                raise ArgumentError(f"{op}: row {row} is out of range for data of {len(table)} rows")
            raw = {name: table[name][int(row)] for name in table.columns}
    elif isinstance(row, dict):
        raw = dict(row)
    else:
        try:
            t = read_table(row)
        except DataError:
            raise ArgumentTypeError(f"{op}: row must be a dict column -> value, a one-row Table or an int (a row "
                                    f"of data), got {type(row).__name__}") from None
        if len(t) != 1:
            raise ArgumentError(f"{op}: row must be one applicant, got a table of {len(t)} rows")
        raw = {name: t[name][0] for name in t.columns}
    missing = [n for n in names if n not in raw]
    if missing:
        raise ArgumentError(f"{op}: row has no value for column{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(map(repr, missing))}"[:400])
    unknown = [k for k in raw if k not in names and k != pre.target_]
    if unknown:
        raise ArgumentError(f"{op}: row has column {unknown[0]!r}, which the Preprocessor does not know; its "
                            f"columns are {names}"[:400])
    out = {}
    for c in cols:
        v = raw[c.name]
        if v is None or (isinstance(v, float | np.floating) and np.isnan(v)):
            out[c.name] = None
        elif c.kind == "numeric":
            try:
                out[c.name] = c.number(float(v)) if c.integer and float(v) == round(float(v)) else float(v)
            except (TypeError, ValueError):
                raise ArgumentError(f"{op}: column {c.name!r} is numeric, got {v!r}") from None
        else:
            out[c.name] = v if isinstance(v, str) else _key(v)
    return out


def _key(v):
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def _names(arg, names, what, op):
    if arg is None:
        return []
    items = [arg] if isinstance(arg, str) else list(arg)
    for k in items:
        if k not in names:
            raise ArgumentError(f"{op}: {what} names column {k!r}, which the Preprocessor does not know; its "
                                f"columns are {names}"[:400])
    return items


# ---- the decision -----------------------------------------------------------------------------------------------


class _Decider:
    """The model's decision on feature matrices: scores, classes and the margin toward the desired class."""

    def __init__(self, model, x0, target, output, threshold, op):
        self.model, self.target, self.output, self.threshold, self.op = model, target, output, threshold, op
        params = list(model.parameters()) if hasattr(model, "parameters") else []
        self.dtype = np.float64 if params and params[0]._data.dtype == np.float64 else np.float32
        with no_grad(), evaluating(model):
            out = model(Tensor(x0.astype(self.dtype), dtype=self.dtype))
        if out.ndim == 0 or out.shape[0] != 1 or out.ndim > 2:
            raise DataError(f"{op}: the model must return (n,), (n, 1) or (n, k), got shape {tuple(out.shape)} for "
                            "one row")
        self.k = 1 if out.ndim == 1 else int(out.shape[1])
        self.binary = self.k == 1 or target is not None
        self.evaluations = 0

    def scores(self, X):
        """(n,) thresholded outputs (binary) or (n, k) outputs, float64."""
        self.evaluations += X.shape[0]
        parts = []
        with no_grad(), evaluating(self.model):
            for i in range(0, X.shape[0], BATCH):
                xb = X[i : i + BATCH].astype(self.dtype)
                out = self.model(Tensor(xb, dtype=self.dtype))
                if self.binary:
                    parts.append(select(out, self.target, self.output, self.op, xb.shape[0]).numpy())
                else:
                    if self.output == "probability":
                        out = out.softmax(dim=1)
                    parts.append(out.numpy())
        return np.concatenate(parts).astype(np.float64)

    def classes(self, s):
        return (s >= self.threshold).astype(np.int64) if self.binary else np.argmax(s, axis=1)

    def flips(self, s, desired, current):
        c = self.classes(s)
        return c != current if desired is None else c == desired

    def margin(self, s, desired, current):
        """How far toward the desired decision (positive where it is reached)."""
        if self.binary:
            return s - self.threshold if (desired == 1 or (desired is None and current == 0)) else self.threshold - s
        if desired is None:
            others = np.delete(s, current, axis=1)
            return others.max(axis=1) - s[:, current]
        others = np.delete(s, desired, axis=1)
        return s[:, desired] - others.max(axis=1)

    def probability(self, s, cls):
        if self.output != "probability":
            return None
        if self.binary:
            return float(s if cls == 1 else 1.0 - s)
        return float(s[cls])


def _labels(labels, pre, decider, op):
    classes = getattr(pre, "classes_", None)
    if decider.binary:
        if labels is None:
            if decider.target is None:
                labels = list(classes) if classes is not None and len(classes) == 2 else [0, 1]
            else:
                t = int(decider.target)
                name = classes[t] if classes is not None and len(classes) == decider.k else t
                labels = [f"not {name}", name]
        want = 2
    else:
        if labels is None:
            labels = list(classes) if classes is not None and len(classes) == decider.k else list(range(decider.k))
        want = decider.k
    labels = list(labels)
    if len(labels) != want:
        raise ArgumentError(f"{op}: labels must name the {want} decisions, got {len(labels)}: {labels}"[:300])
    return labels


def _desired(desired, labels, op):
    if desired is None:
        return None
    for i, lab in enumerate(labels):
        if desired == lab or (isinstance(desired, str) and desired == str(lab)):
            return i
    if isinstance(desired, int | np.integer) and not isinstance(desired, bool) and 0 <= desired < len(labels):
        return int(desired)
    raise ArgumentError(f"{op}: desired must be one of the decisions {labels} (or a class index), got {desired!r}"
                        [:300])


def _outcome_words(outcome_names, labels, op):
    if outcome_names is None:
        return [f"classed {lab!r}" if isinstance(lab, str) else f"classed {lab}" for lab in labels]
    if isinstance(outcome_names, dict):
        unknown = [k for k in outcome_names if k not in labels and k not in [str(x) for x in labels]]
        if unknown:
            raise ArgumentError(f"{op}: outcome_names names decision {unknown[0]!r}, not one of {labels}"[:300])
        return [str(outcome_names.get(lab, outcome_names.get(str(lab), f"classed {lab!r}"))) for lab in labels]
    words = list(outcome_names)
    if len(words) != len(labels):
        raise ArgumentError(f"{op}: outcome_names must give {len(labels)} words (one per decision), got "
                            f"{len(words)}")
    return [str(w) for w in words]


# ---- the search -------------------------------------------------------------------------------------------------


def counterfactuals(model, row, preprocessor, desired=None, immutable=(), monotone=None, max_changes=3, n=3,
                    seed=0, threshold=0.5, target=None, output="probability", budget=20000, *, data=None,
                    labels=None, outcome_names=None):
    """Up to ``n`` diverse, sparse changes of one applicant (at most ``max_changes`` columns each) that turn the
    model's decision into ``desired``; see the module docstring for the search.

    model: a Module or callable on feature matrices; row: a dict column -> value, a one-row table, or the index
    of a row of ``data``; preprocessor: the fitted Preprocessor that made the model's inputs; data: the
    training table (or its feature matrix), required, for the values a column may take; desired: a label or
    class index (default: another decision); immutable: columns never changed; monotone: {column: "increase" |
    "decrease"}, numeric columns that may only move that way; threshold, target, output: the decision (see the
    module docstring); budget: the most model evaluations (rows) the search may spend (the final check of
    each returned row comes on top); labels: the decisions' names (default: the Preprocessor's classes,
    ``[negative, positive]`` for one output); outcome_names: words for the decisions in sentences
    ("approved"), a dict label -> words or a list by class.

    Returns ``Counterfactuals`` (each a ``Counterfactual``; empty, with a ``message`` saying why, when none
    was found). Never returns a change set that does not flip the decision.
    """
    op = "counterfactuals"
    check_output(output, op)
    if not hasattr(preprocessor, "feature_groups") or not hasattr(preprocessor, "columns_"):
        raise ArgumentTypeError(f"{op}: preprocessor must be a fitted chainrule Preprocessor, got "
                                f"{type(preprocessor).__name__}")
    if data is None:
        raise ArgumentError(f"{op}: give data= (the training table or its feature matrix): it says the range of "
                            "values each column may take")
    for name, value, low in (("max_changes", max_changes, 1), ("n", n, 1), ("budget", budget, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ArgumentError(f"{op}: {name} must be an int >= {low}, got {value!r}")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.floating):
        raise ArgumentError(f"{op}: threshold must be a number, got {threshold!r}")
    cols, table = _columns(preprocessor, data, op)
    names = [c.name for c in cols]
    frozen = set(_names(immutable, names, "immutable", op))
    if monotone is not None and not isinstance(monotone, dict):
        raise ArgumentTypeError(f"{op}: monotone must be a dict column -> 'increase' or 'decrease', got "
                                f"{type(monotone).__name__}")
    monotone = dict(monotone or {})
    _names(list(monotone), names, "monotone", op)
    by_name = {c.name: c for c in cols}
    for k, way in monotone.items():
        if way not in DIRECTIONS:
            raise ArgumentError(f"{op}: monotone[{k!r}] must be 'increase' or 'decrease', got {way!r}")
        if by_name[k].kind != "numeric":
            raise ArgumentError(f"{op}: monotone column {k!r} is categorical; only numeric columns have a direction")
    applicant = _row(row, table, data, cols, preprocessor, op)
    x0 = preprocessor.transform_features(_one_row(applicant, names))
    decider = _Decider(model, x0, target, output, float(threshold), op)
    labels = _labels(labels, preprocessor, decider, op)
    want = _desired(desired, labels, op)
    words = _outcome_words(outcome_names, labels, op)
    s0 = decider.scores(x0)
    current = int(decider.classes(s0)[0])
    score0 = float(s0[0]) if decider.binary else s0[0]
    if want is None and len(labels) == 2:
        want = 1 - current

    def result(items, message):
        return Counterfactuals(items, row=applicant, decision=labels[current], score=score0,
                               desired=None if want is None else labels[want], evaluations=decider.evaluations,
                               message=message)

    if want == current:
        return result([], f"no counterfactual needed: the decision is already {labels[current]!r}")
    search = _Search(cols, applicant, x0, decider, want, current, frozen, monotone, int(max_changes),
                     int(budget), np.random.default_rng(seed))
    free = [c.name for c in cols if c.name not in frozen and search.candidates[names.index(c.name)].size]
    goal = repr(labels[want]) if want is not None else f"other than {labels[current]!r}"
    if not free:
        return result([], f"no counterfactual found: no column may change (every column is immutable, or has no "
                          f"allowed value), so the decision stays {labels[current]!r}")
    found = search.run(int(n))
    items = []
    for changes in found:
        new = dict(applicant)
        for j, v in changes:
            new[cols[j].name] = v
        s = decider.scores(preprocessor.transform_features(_one_row(new, names)))  # the real path, once more
        cls = int(decider.classes(s)[0])
        if not decider.flips(s, want, current)[0]:
            continue  # cannot happen (the search used the same columns); never return a non-flipping row
        diff = {cols[j].name: (applicant[cols[j].name], v) for j, v in changes}
        sentence = f"{words[cls]} if " + _join([f"{k} were {_show(b)} instead of {_show(a)}"
                                                 for k, (a, b) in diff.items()])
        items.append(Counterfactual(diff, new, float(s[0]) if decider.binary else s[0],
                                    decider.probability(s[0], cls), labels[cls],
                                    search.distance(changes), sentence))
        if len(items) == n:
            break
    if not items:
        return result([], f"no counterfactual found: no change of at most {max_changes} of the columns "
                          f"{', '.join(free)} makes the decision {goal} within the budget of {budget} model "
                          f"evaluations ({decider.evaluations} used)"[:600])
    return result(items, f"{len(items)} counterfactual{'s' if len(items) > 1 else ''} found in "
                         f"{decider.evaluations} model evaluations")


class _Search:
    def __init__(self, cols, applicant, x0, decider, want, current, frozen, monotone, max_changes, budget, rng):
        self.cols, self.applicant, self.x0, self.decider = cols, applicant, x0[0], decider
        self.want, self.current, self.max_changes, self.budget, self.rng = want, current, max_changes, budget, rng
        self.monotone = monotone
        self.candidates = [np.array([], dtype=object) if c.name in frozen else self._values(c) for c in cols]
        self.tiebreak = rng.permutation(len(cols))  # the seed's order among equally good columns

    # ---- values and distances
    def _values(self, c):
        v = self.applicant[c.name]
        if c.kind == "categorical":
            return np.array([k for k in c.categories if k != v], dtype=object)
        if c.hi <= c.lo:
            return np.array([], dtype=object)
        cur = c.effective(v)
        grid = c.grid[c.grid != cur] if v is not None else c.grid
        way = self.monotone.get(c.name)
        if way == "increase":
            grid = grid[grid > cur]
        elif way == "decrease":
            grid = grid[grid < cur]
        return np.array([c.number(g) for g in grid], dtype=object)

    def move(self, j, v):
        c = self.cols[j]
        if c.kind == "categorical":
            return 1.0
        return abs(float(v) - c.effective(self.applicant[c.name])) / (c.hi - c.lo)

    def distance(self, changes):
        return float(sum(self.move(j, v) for j, v in changes))

    # ---- evaluation
    def matrix(self, states):
        X = np.repeat(self.x0[None], len(states), axis=0)
        for i, state in enumerate(states):
            for j, v in state:
                c = self.cols[j]
                if c.kind == "numeric":
                    X[i, c.cols[0]] = (float(v) - c.mean) / c.std
                else:
                    X[i, c.cols] = 0.0
                    X[i, c.cols[c.categories.index(v)]] = 1.0
        return X

    def left(self):
        return self.budget - self.decider.evaluations

    def evaluate(self, states):
        """(flips, margins) of the change sets (tuples of (column, value) sorted by column)."""
        if not states:
            return np.zeros(0, bool), np.zeros(0)
        s = self.decider.scores(self.matrix(states))
        return self.decider.flips(s, self.want, self.current), self.decider.margin(s, self.want, self.current)

    # ---- the search
    def run(self, n):
        found = {}  # change set -> distance, in the order found
        beam = [()]
        for _level in range(self.max_changes):
            children, seen = [], set()
            for state in beam:
                used = {j for j, _ in state}
                for j, values in enumerate(self.candidates):
                    if j in used:
                        continue
                    for v in values:
                        child = tuple(sorted((*state, (j, v)), key=lambda t: t[0]))
                        if child not in seen:
                            seen.add(child)
                            children.append(child)
            if not children or self.left() <= 0:
                break
            if len(children) > self.left():  # the budget cannot try them all: a seeded sample
                keep = np.sort(self.rng.choice(len(children), size=self.left(), replace=False))
                children = [children[i] for i in keep]
            flips, margins = self.evaluate(children)
            for child, f in zip(children, flips):
                if f:
                    found[child] = self.distance(child)
            best = {}
            for child, f, m in zip(children, flips, margins):
                if not f:
                    key = tuple(j for j, _ in child)
                    if key not in best or m > best[key][1]:
                        best[key] = (child, m)
            ranked = sorted(best.items(), key=lambda kv: (-kv[1][1], [int(self.tiebreak[j]) for j in kv[0]]))
            beam = [child for _, (child, _) in ranked[:BEAM]]
            if len(self.select(self.polished(found), n)) >= n:
                break
        return self.select(self.polished(found), n)

    def polished(self, found):
        """The best change set of each column set, each made as small as it can be, best first."""
        per_set = {}
        for changes, d in found.items():
            key = tuple(j for j, _ in changes)
            if key not in per_set or d < per_set[key][1]:
                per_set[key] = (changes, d)
        if not hasattr(self, "_polish_cache"):
            self._polish_cache = {}
        out = {}
        for changes, _ in sorted(per_set.values(), key=lambda cd: (len(cd[0]), cd[1])):
            if changes not in self._polish_cache:
                self._polish_cache[changes] = self.polish(changes)
            small = self._polish_cache[changes]
            out[small] = self.distance(small)
        return sorted(out, key=lambda c: (len(c), out[c]))

    def polish(self, changes):
        changes = list(changes)
        while 1 < len(changes) <= self.left():  # drop the changes the flip does not need, largest first
            order = sorted(range(len(changes)), key=lambda i: -self.move(*changes[i]))
            trials = [tuple(c for k, c in enumerate(changes) if k != i) for i in order]
            flips, _ = self.evaluate(trials)
            if not flips.any():
                break
            changes = list(trials[int(np.argmax(flips))])
        for i, (j, v) in enumerate(changes):  # shrink each numeric move toward the applicant's value
            c = self.cols[j]
            if c.kind != "numeric" or self.left() <= 0:
                continue
            cur = c.effective(self.applicant[c.name])
            lo, hi = sorted((cur, float(v)))
            between = c.values[(c.values > lo) & (c.values < hi)]
            if between.size > FINE:
                between = np.unique(np.quantile(between, np.linspace(0, 1, FINE), method="nearest"))
            between = between[np.argsort(np.abs(between - cur), kind="stable")][: self.left()]
            if not between.size:
                continue
            trials = [tuple((jj, c.number(b) if jj == j else vv) for jj, vv in changes) for b in between]
            flips, _ = self.evaluate(trials)
            if flips.any():
                changes[i] = (j, c.number(between[int(np.argmax(flips))]))
        return tuple(changes)

    def select(self, ranked, n):
        """``n`` change sets over different columns: first those that contain no chosen column set, then any."""
        chosen, sets = [], []
        for relaxed in (False, True):
            for changes in ranked:
                cs = frozenset(j for j, _ in changes)
                if cs in sets or (not relaxed and any(s <= cs for s in sets)):
                    continue
                chosen.append(changes)
                sets.append(cs)
                if len(chosen) == n:
                    return chosen
        return chosen


# ---- helpers ------------------------------------------------------------------------------------------------------


def _one_row(values, names):
    return Table({k: [values[k]] for k in names})


def _join(parts):
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _show(v):
    if v is None:
        return "missing"
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v
