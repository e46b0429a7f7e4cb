"""What every explanation method shares: the inputs, the output explained, batching, feature groups, and
``Explanation``, the result.

* ``X``: an array or a Tensor, a batch (rows first). float64 stays float64 (for exact checks); anything else
  is computed in float32, chainrule's default.
* The output explained: ``model(x)`` of shape (n,), (n, 1) or (n, k). ``target`` picks a column: an int, or
  one int per row; ``None`` is allowed for a single output. ``output="probability"`` explains the sigmoid of a
  single logit or the softmax of several (``"logit"`` / None: what the model returns).
* The model runs in eval mode (dropout off, batch norm on its running statistics) and gets its mode back;
  gradients are taken with ``chainrule.grad`` with respect to the inputs only, so nothing is written to the
  ``.grad`` of the model's parameters.
* Memory: methods that evaluate the model on many points (integrated gradients' steps, Shapley coalitions)
  split them into batches of ``batch_size`` points; by default that is sized from a measured forward and
  backward on a few rows so that one batch stays under ``MEMORY_BUDGET`` bytes.
* Groups (``groups=``): a ``Preprocessor`` (its ``feature_groups()``: each CSV column -> the matrix columns
  it became), a dict ``name -> column indices``, or a list of index lists. Columns in no group are groups of
  their own. Gradient methods sum their values within a group; perturbation methods switch a group as one.
"""

import math
import tracemalloc
from contextlib import contextmanager

import numpy as np

from ..autograd import grad, no_grad
from ..errors import ArgumentError, ArgumentTypeError, ShapeError
from ..tensor import Tensor

MEMORY_BUDGET = 256 * 2**20
OUTPUTS = (None, "logit", "probability")


# ---- inputs and outputs -------------------------------------------------------------------------------------


def as_inputs(X, op):
    """``X`` as a floating NumPy array with rows first (float64 kept, anything else float32)."""
    a = X.numpy() if isinstance(X, Tensor) else np.asarray(X)
    if a.dtype.kind not in "biuf":
        raise ArgumentTypeError(f"{op}: X must hold numbers, got dtype {a.dtype} (transform a table with its "
                                "Preprocessor first)")
    if a.ndim == 0:
        raise ShapeError(f"{op}: X must be a batch (rows first), got a scalar")
    return np.ascontiguousarray(a, dtype=np.float64 if a.dtype == np.float64 else np.float32)


def check_output(output, op):
    if output not in OUTPUTS:
        raise ArgumentError(f"{op}: output must be 'logit', 'probability' or None, got {output!r}")


@contextmanager
def evaluating(model):
    """The model in eval mode, its parameters out of the graph, for the duration (a Module; any other callable as
    it is), both restored: the gradients wanted are the inputs', and a backward that skips the weights' is 2-10x
    faster. Nested uses are safe (the inner one finds nothing to change)."""
    training = getattr(model, "training", None)
    params = [p for p in model.parameters() if p.requires_grad] if hasattr(model, "parameters") else []
    if training:
        model.eval()
    for p in params:
        p.requires_grad = False
    try:
        yield
    finally:
        for p in params:
            p.requires_grad = True
        if training:
            model.train()


def select(out, target, output, op, n):
    """The explained output, shape (n,), from the model's output ``out`` (a Tensor)."""
    if out.ndim == 0 or out.shape[0] != n or out.ndim > 2:
        raise ShapeError(f"{op}: the model must return (n,), (n, 1) or (n, k) for n = {n} rows, got shape "
                         f"{tuple(out.shape)}")
    k = 1 if out.ndim == 1 else out.shape[1]
    if output == "probability":
        out = out.sigmoid() if k == 1 else out.softmax(dim=1)
    if out.ndim == 1:
        if target not in (None, 0):
            raise ArgumentError(f"{op}: the model has one output, so target must be None or 0, got {target!r}")
        return out
    if target is None:
        if k != 1:
            raise ArgumentError(f"{op}: the model has {k} outputs: say which to explain with target= (an index, "
                                "or one per row)")
        return out[:, 0]
    t = np.asarray(target.numpy() if isinstance(target, Tensor) else target)
    if t.dtype.kind not in "iu" or t.ndim > 1 or (t.ndim == 1 and t.shape[0] != n):
        raise ArgumentError(f"{op}: target must be an int or one int per row ({n}), got {target!r}"[:200])
    if t.size and (t.min() < -k or t.max() >= k):
        raise ArgumentError(f"{op}: target {t.max() if t.max() >= k else t.min()} is out of range for {k} outputs")
    return out[:, int(t)] if t.ndim == 0 else out[np.arange(n), t]


def row_targets(target, rows):
    """The part of ``target`` that belongs to ``rows`` (an index array or slice): per-row targets are cut."""
    if target is None or np.ndim(target.numpy() if isinstance(target, Tensor) else target) == 0:
        return target
    t = np.asarray(target.numpy() if isinstance(target, Tensor) else target)
    return t[rows]


def forward(model, X, target=None, output=None, op="explain"):
    """The explained output for the rows of ``X`` (an array), as a float64 array, without recording."""
    with no_grad(), evaluating(model):
        out = model(Tensor(X, dtype=X.dtype))
        return select(out, target, output, op, X.shape[0]).numpy().astype(np.float64)


def gradient(model, X, target=None, output=None, op="explain"):
    """(outputs, d outputs / d X) for the rows of ``X``: each output's gradient with respect to its own row."""
    with evaluating(model):
        x = Tensor(X, dtype=X.dtype, requires_grad=True)
        y = select(model(x), target, output, op, X.shape[0])
        g = grad(y.sum(), [x], allow_unused=True)[0] if y.requires_grad else None  # (an output that ignores x)
    gx = np.zeros_like(X) if g is None else g.numpy()
    return y.numpy().astype(np.float64), gx


def batched(fn, X, batch_size, target=None):
    """``fn(X[rows], target[rows])`` over batches of rows, results concatenated along the first axis (tuples of
    results concatenated item by item)."""
    parts = []
    for start in range(0, X.shape[0], batch_size):
        rows = slice(start, start + batch_size)
        parts.append(fn(X[rows], row_targets(target, rows)))
    if not parts:
        raise ShapeError("explain: X has no rows")
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate(p, axis=0) for p in zip(*parts))
    return np.concatenate(parts, axis=0)


def default_batch_size(model, X, target=None, output=None, budget=MEMORY_BUDGET, probe_rows=4, op="explain"):
    """How many rows of ``X``'s shape one forward and backward can take within ``budget`` bytes: measured with
    tracemalloc (NumPy reports its allocations to it) on ``probe_rows`` rows, with room to spare."""
    rows = X[: max(1, min(probe_rows, X.shape[0]))]
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        probe = 0 if target is None else row_targets(target, slice(0, rows.shape[0]))  # (any output will do)
        gradient(model, rows, probe, output, op)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if not tracing:
            tracemalloc.stop()
    per_row = max(peak / rows.shape[0], X[0].nbytes, 1)
    return int(max(1, min(2**20, budget // (2 * per_row))))


def resolve_batch_size(batch_size, model, X, target, output, op):
    if batch_size is None:
        return default_batch_size(model, X, target, output, op=op)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ArgumentError(f"{op}: batch_size must be a positive int, got {batch_size!r}")
    return int(batch_size)


# ---- baselines ----------------------------------------------------------------------------------------------


def baselines_for(baselines, X, op):
    """The baselines and how they pair with the rows of ``X``: ``(array, kind)``, kind ``"row"`` (one row for
    every input: zeros for None, a number, or one row), ``"paired"`` (one row per input: as many rows as ``X``)
    or ``"background"`` (any other number of rows: a table to average over)."""
    shape = X.shape[1:]
    if baselines is None:
        return np.zeros((1, *shape), dtype=X.dtype), "row"
    if isinstance(baselines, int | float) and not isinstance(baselines, bool):
        return np.full((1, *shape), baselines, dtype=X.dtype), "row"
    b = as_inputs(baselines, op).astype(X.dtype, copy=False)
    if b.shape == shape:
        b = b[None]
    if b.shape[1:] != shape:
        raise ShapeError(f"{op}: baselines of shape {b.shape} do not fit inputs of shape {X.shape}: give one row "
                         f"of shape {shape}, one row per input, or a table of background rows")
    return b, "row" if b.shape[0] == 1 else "paired" if b.shape[0] == X.shape[0] else "background"


# ---- feature groups -----------------------------------------------------------------------------------------


class Groups:
    """Named sets of matrix columns that cover every column exactly once (see the module docstring)."""

    def __init__(self, names, columns, preprocessor=None):
        self.names = list(names)
        self.columns = [np.asarray(c, dtype=np.int64) for c in columns]
        self.preprocessor = preprocessor

    def __len__(self):
        return len(self.names)

    @property
    def trivial(self):
        """True when every group is one column, in order (so values need no summing)."""
        return all(c.size == 1 and c[0] == j for j, c in enumerate(self.columns))

    def sum(self, values):
        """Per-column values (rows x columns) summed within each group: rows x groups."""
        if self.trivial:
            return values
        return np.stack([values[:, c].sum(axis=1) for c in self.columns], axis=1)

    def mask(self, coalitions):
        """Boolean coalitions over groups (m x groups) as masks over columns (m x columns)."""
        width = sum(c.size for c in self.columns)
        out = np.zeros((coalitions.shape[0], width), dtype=bool)
        for g, c in enumerate(self.columns):
            out[:, c] = coalitions[:, g : g + 1]
        return out

    def data(self, X):
        """The inputs as each group's value: original units with a Preprocessor, else the column (or, for a group
        of several columns, the list of their values)."""
        if self.preprocessor is not None:
            return self.preprocessor.inverse_transform_features(X)
        out = np.empty((X.shape[0], len(self)), dtype=object)
        for g, c in enumerate(self.columns):
            out[:, g] = list(X[:, c[0]]) if c.size == 1 else [list(r) for r in X[:, c]]
        return out


def resolve_groups(groups, n_features, op, names=None):
    """``groups`` (None, a Preprocessor, a dict name -> columns, or a list of column lists) as ``Groups`` over
    ``n_features`` columns; ``names``: the columns' names, for None and for columns left out of every group."""
    pre = None
    if groups is not None and hasattr(groups, "feature_groups"):
        pre = groups
        if len(pre.feature_names_) != n_features:
            raise ShapeError(f"{op}: the Preprocessor makes {len(pre.feature_names_)} columns but X has {n_features}")
        groups = pre.feature_groups()
    col_names = list(names) if names is not None else [f"x{j}" for j in range(n_features)]
    if len(col_names) != n_features:
        raise ShapeError(f"{op}: {len(col_names)} names for {n_features} columns")
    if groups is None:
        return Groups(col_names, [[j] for j in range(n_features)])
    if isinstance(groups, dict):
        items = list(groups.items())
    elif isinstance(groups, list | tuple):
        items = [(f"group{g}", cols) for g, cols in enumerate(groups)]
    else:
        raise ArgumentTypeError(f"{op}: groups must be a Preprocessor, a dict of name -> columns or a list of "
                                f"column lists, got {type(groups).__name__}")
    seen = np.full(n_features, -1)
    out_names, out_cols = [], []
    for g, (name, cols) in enumerate(items):
        idx = np.asarray([col_names.index(c) if isinstance(c, str) and c in col_names else c for c in cols])
        if idx.size == 0 or idx.dtype.kind not in "iu" or idx.min() < 0 or idx.max() >= n_features:
            raise ArgumentError(f"{op}: group {name!r} must list column indices in [0, {n_features}), got {cols!r}"
                                [:200])
        again = idx[seen[idx] >= 0]
        if again.size:
            raise ArgumentError(f"{op}: column {int(again[0])} is in two groups; groups must not overlap")
        seen[idx] = g
        out_names.append(str(name))
        out_cols.append(idx)
    for j in np.flatnonzero(seen < 0):  # columns in no group: groups of their own, in column order
        out_names.append(col_names[j])
        out_cols.append(np.array([j]))
    return Groups(out_names, out_cols, pre)


# ---- the result -------------------------------------------------------------------------------------------------


class Explanation:
    """The attributions of a batch: what each feature (or group) contributed to each row's output.

    * ``values``: rows x features (or groups), or the inputs' shape for images;
    * ``names``: the features' (groups') names; ``data``: the inputs as those features, in original units where
      a Preprocessor says them;
    * ``outputs``: the explained output of each row; ``base_values``: the output at the baseline (the
      expectation over a background); ``delta``: the completeness error, ``sum(values) - (outputs -
      base_values)`` per row (for methods that promise completeness; others report it too);
    * ``method``, ``target``, ``output``, ``info`` (the method's settings: baseline, steps, ...).
    """

    def __init__(self, values, *, names=None, data=None, outputs=None, base_values=None, method="", target=None,
                 output=None, info=None):
        self.values = np.asarray(values, dtype=np.float64)
        n = self.values.shape[0]
        self.names = list(names) if names is not None else None
        self.data = data
        self.outputs = None if outputs is None else np.broadcast_to(np.asarray(outputs, np.float64), (n,)).copy()
        self.base_values = None if base_values is None else np.broadcast_to(
            np.asarray(base_values, np.float64), (n,)).copy()
        self.method = method
        self.target = target
        self.output = output
        self.info = dict(info or {})

    @property
    def delta(self):
        """``sum(values) - (outputs - base_values)`` per row; None without outputs or base values."""
        if self.outputs is None or self.base_values is None:
            return None
        return self.values.reshape(self.values.shape[0], -1).sum(axis=1) - (self.outputs - self.base_values)

    def __len__(self):
        return self.values.shape[0]

    def __getitem__(self, rows):
        """The explanation of some rows (an int keeps the row axis: ``e[3].values`` is 1 x features)."""
        rows = [rows] if isinstance(rows, int | np.integer) else rows

        def cut(a):
            return None if a is None else np.asarray(a)[rows]

        return Explanation(self.values[rows], names=self.names, data=cut(self.data), outputs=cut(self.outputs),
                           base_values=cut(self.base_values), method=self.method,
                           target=self.target if np.ndim(self.target) == 0 else cut(self.target),
                           output=self.output, info=self.info)

    def __repr__(self):
        delta = self.delta
        worst = "" if delta is None or not delta.size else f", max |delta| {np.abs(delta).max():.3g}"
        return f"Explanation({self.method}: {len(self)} rows x {self.values.shape[1:]}{worst})"

    def ranked(self, row):
        """(name, value, data) of one row's features, largest |value| first."""
        v = self.values[row].reshape(-1)
        names = self.names or [f"x{j}" for j in range(v.size)]
        data = None if self.data is None else np.asarray(self.data, dtype=object)[row].reshape(-1)
        order = np.argsort(-np.abs(v), kind="stable")
        return [(names[j], float(v[j]), None if data is None else data[j]) for j in order]

    def to_dict(self):
        """Everything as JSON-able data (lists, numbers, strings)."""

        def plain(a):
            if a is None:
                return None
            return [plain(x) for x in a] if isinstance(a, list | tuple | np.ndarray) else _scalar(a)

        delta = self.delta
        return {"method": self.method, "output": self.output, "target": plain(self.target),
                "names": self.names, "values": self.values.tolist(), "data": plain(self.data),
                "outputs": plain(self.outputs), "base_values": plain(self.base_values),
                "delta": plain(delta), "info": {k: plain(v) if isinstance(v, np.ndarray) else v
                                                for k, v in self.info.items()}}

    def to_frame(self):
        """The values as a pandas DataFrame (rows x names); needs pandas (``pip install chainrule[pandas]``)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is in the test extras
            raise ArgumentError("Explanation.to_frame needs pandas: pip install 'chainrule[pandas]'") from None
        values = self.values.reshape(len(self), -1)
        return pd.DataFrame(values, columns=self.names or [f"x{j}" for j in range(values.shape[1])])

    def plot(self, row=0, ax=None, max_features=12):
        """One row: for a table, bars of the largest contributions (``name = value``), red pushing the output up
        and blue down, waterfall-ordered from the base value; for an image, a heat map of the values summed over
        channels. Returns the matplotlib Axes."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(7, 0.4 * max_features + 1.2))
        v = self.values[row]
        if v.ndim >= 2:  # an image: (C, H, W) or (H, W)
            heat = v.sum(axis=0) if v.ndim == 3 else v
            lim = float(np.abs(heat).max()) or 1.0
            im = ax.imshow(heat, cmap="bwr", vmin=-lim, vmax=lim)
            ax.figure.colorbar(im, ax=ax)
            ax.set_axis_off()
            ax.set_title(f"{self.method}: row {row}")
            return ax
        top = self.ranked(row)[:max_features][::-1]
        labels = [name if d is None else f"{name} = {_short(d)}" for name, _, d in top]
        vals = [value for _, value, _ in top]
        ax.barh(range(len(vals)), vals, color=["#d62728" if x > 0 else "#1f77b4" for x in vals])
        ax.set_yticks(range(len(vals)), labels)
        ax.axvline(0, color="black", linewidth=0.8)
        title = f"{self.method}: row {row}"
        if self.outputs is not None and self.base_values is not None:
            title += f" (output {self.outputs[row]:.3g}, base {self.base_values[row]:.3g})"
        ax.set_title(title)
        ax.set_xlabel("contribution to the output")
        ax.figure.tight_layout()
        return ax

    def plot_summary(self, ax=None, max_features=12):
        """All rows: one dot per row and feature at its value, features ordered by mean |value|, coloured by the
        feature's input value where it is a number. Returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        values = self.values.reshape(len(self), -1)
        names = self.names or [f"x{j}" for j in range(values.shape[1])]
        order = np.argsort(-np.abs(values).mean(axis=0), kind="stable")[:max_features][::-1]
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.4 * len(order) + 1.2))
        rng = np.random.default_rng(0)  # vertical jitter only, the same on every call
        for y, j in enumerate(order):
            colour = None
            if self.data is not None:
                col = np.asarray(self.data, dtype=object).reshape(len(self), -1)[:, j]
                if all(isinstance(c, int | float | np.number) for c in col):
                    colour = np.asarray(col, dtype=np.float64)
            style = {"c": colour, "cmap": "coolwarm"} if colour is not None else {"color": "#555555"}
            ax.scatter(values[:, j], y + rng.uniform(-0.2, 0.2, len(self)), s=8, **style)
        ax.set_yticks(range(len(order)), [names[j] for j in order])
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel("contribution to the output")
        ax.set_title(f"{self.method}: {len(self)} rows")
        ax.figure.tight_layout()
        return ax


def _scalar(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def _short(x):
    return f"{x:.4g}" if isinstance(x, float) else repr(x) if isinstance(x, str) else str(x)
