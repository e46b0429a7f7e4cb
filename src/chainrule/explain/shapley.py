"""Shapley values of a model's output over features or groups of columns, against a background distribution.

The game: for a row ``x`` and a coalition ``S`` of features (groups), ``v(S)`` is the expected output when the
features in ``S`` take ``x``'s values and the others a background row's, over the background rows ``b`` (the
interventional expectation, SHAP's ``Independent`` masker): ``v(S) = sum_b w_b f(x_S, b_notS)``, weights ``w``
uniform unless ``background_weights=`` (e.g. the cluster sizes of ``summarize_background``). The background
defaults to one row of zeros (the column means of standardised data). A group (one CSV column's one-hot
columns, via a Preprocessor) is switched as one unit, so a composite row takes a whole category from ``x`` or
from ``b``, never a mix. Efficiency: the values of a row sum to ``v(all) - v(none) = f(x) - E_b f(b)``,
``outputs - base_values``.

* ``shapley``: exact, all ``2^k`` coalitions (k <= 20 features or groups), evaluated in large batches;
* ``shapley_sampling``: permutation sampling (antithetic pairs), with standard errors;
* ``kernel_shap``: Kernel SHAP (Lundberg & Lee 2017), a weighted regression on sampled coalitions under the
  efficiency constraint; exact when ``n_samples >= 2^k - 2``;
* ``summarize_background``: k-means centres and cluster sizes, a small weighted background.
"""

import itertools
import math

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError, ShapeError
from ..tensor import Tensor
from ._core import (
    MEMORY_BUDGET,
    Explanation,
    as_inputs,
    baselines_for,
    batched,
    check_output,
    evaluating,
    forward,
    resolve_batch_size,
    resolve_groups,
)

__all__ = ["shapley", "shapley_sampling", "kernel_shap", "summarize_background", "MAX_EXACT_GROUPS"]

MAX_EXACT_GROUPS = 20


def _positive_int(value, what, op, least=1):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise ArgumentError(f"{op}: {what} must be an int >= {least}, got {value!r}")
    return int(value)


class _Game:
    """The inputs, background, groups and batching of one call, and ``v(S)`` for rows and coalitions."""

    def __init__(self, model, X, target, background, background_weights, groups, output, batch_size, op):
        check_output(output, op)
        X = as_inputs(X, op)
        if X.ndim != 2:
            raise ShapeError(f"{op}: X must be a table (rows x features), got shape {X.shape}; for images use "
                             "occlusion or a gradient method")
        B, _ = baselines_for(background, X, op)  # any number of rows: all of them are the background
        if B.shape[0] == 0:
            raise ShapeError(f"{op}: the background has no rows")
        if background_weights is None:
            w = np.full(B.shape[0], 1.0 / B.shape[0])
        else:
            w = np.asarray(background_weights.numpy() if isinstance(background_weights, Tensor)
                           else background_weights, dtype=np.float64)
            if w.shape != (B.shape[0],) or not np.all(np.isfinite(w)) or w.min() < 0 or w.sum() <= 0:
                raise ArgumentError(f"{op}: background_weights must be {B.shape[0]} non-negative numbers (one per "
                                    f"background row) with a positive sum, got shape {w.shape}")
            w = w / w.sum()
        self.model, self.X, self.B, self.w = model, X, B, w
        self.target, self.output, self.op = target, output, op
        self.groups = resolve_groups(groups, X.shape[1], op)
        self.batch_size = resolve_batch_size(batch_size, model, X, target, output, op)
        self.t = None if target is None else np.asarray(target.numpy() if isinstance(target, Tensor) else target)
        self.evaluations = 0

    @property
    def k(self):
        return len(self.groups)

    def _targets(self, rows, per_row):
        if self.t is None or self.t.ndim == 0:
            return self.target if self.t is None else int(self.t)
        return np.repeat(self.t[rows], per_row)

    def values(self, rows, masks, count=None):
        """``v`` of ``rows`` (indices into X) for ``count`` coalitions, as column masks: an array (count x
        columns) or a function ``(start, stop) -> masks`` (built block by block). Returns rows x coalitions."""
        get = masks if callable(masks) else (lambda a, b: masks[a:b])
        count = masks.shape[0] if count is None else count
        rows = np.asarray(rows)
        nb, d = self.B.shape
        out = np.empty((rows.size, count), dtype=np.float64)
        per_mask = max(1, min(count, self.batch_size // nb))
        per_row = max(1, self.batch_size // (per_mask * nb))
        with evaluating(self.model):
            for r0 in range(0, rows.size, per_row):
                rr = rows[r0 : r0 + per_row]
                x = self.X[rr][:, None, None, :]
                for c0 in range(0, count, per_mask):
                    m = get(c0, min(count, c0 + per_mask))
                    Z = np.where(m[None, :, None, :], x, self.B[None, None]).reshape(-1, d)
                    f = batched(lambda z, t: forward(self.model, z, t, self.output, self.op), Z, self.batch_size,
                                self._targets(rr, m.shape[0] * nb))
                    out[r0 : r0 + rr.size, c0 : c0 + m.shape[0]] = f.reshape(rr.size, m.shape[0], nb) @ self.w
                    self.evaluations += Z.shape[0]
        return out

    def ends(self):
        """(v(all), v(none)) of every row: f(x), and the expected output over the background."""
        full = np.ones((1, self.X.shape[1]), dtype=bool)
        rows = np.arange(self.X.shape[0])
        return self.values(rows, full)[:, 0], self.values(rows, ~full)[:, 0]

    def explanation(self, values, outputs, base_values, method, info):
        info = {"n_background": int(self.B.shape[0]), "n_evaluations": int(self.evaluations), **info}
        return Explanation(values, names=self.groups.names, data=self.groups.data(self.X), outputs=outputs,
                           base_values=base_values, method=method, target=self.target, output=self.output, info=info)


def _bits(start, stop, k):
    """The coalitions numbered ``start..stop-1`` (bit i of the number: group i is in), as booleans."""
    codes = np.arange(start, stop, dtype=np.int64)
    return ((codes[:, None] >> np.arange(k, dtype=np.int64)) & 1).astype(bool)


# ---- exact ----------------------------------------------------------------------------------------------------


def shapley(model, X, target=None, background=None, groups=None, output=None, batch_size=None,
            background_weights=None):
    """Exact Shapley values of each row of ``X`` over its features, or over ``groups`` (a Preprocessor: one
    value per CSV column), against ``background`` (None: one row of zeros; a row; a table of rows, optionally
    weighted by ``background_weights``): all ``2^k`` coalitions, ``k <= 20``, each composite row evaluated once,
    in batches of ``batch_size`` rows. ``values[i].sum() == outputs[i] - base_values[i]`` to rounding.

    Cost: ``n * 2^k * len(background)`` model evaluations (2^20 rows of a small MLP take about a second); for
    more groups use ``shapley_sampling`` or ``kernel_shap``, or summarise the background first.
    """
    op = "shapley"
    game = _Game(model, X, target, background, background_weights, groups, output, batch_size, op)
    k, n = game.k, game.X.shape[0]
    if k > MAX_EXACT_GROUPS:
        raise ArgumentError(f"{op}: exact Shapley values over {k} features (groups) need 2^{k} coalitions; at most "
                            f"{MAX_EXACT_GROUPS} are allowed: use shapley_sampling or kernel_shap, or pass groups=")
    # a group on which x equals every background row is a null player (its value is 0 exactly, the others' are
    # those of the game without it): rows are solved in sets that share their groups in play
    differs = (game.X[:, None, :] != game.B[None]).any(axis=1)
    playing = np.stack([differs[:, c].any(axis=1) for c in game.groups.columns], axis=1)
    patterns, which = np.unique(playing, axis=0, return_inverse=True)
    values = np.zeros((n, k), dtype=np.float64)
    outputs, base_values = np.empty(n), np.empty(n)
    evaluated = 0
    for p, pattern in enumerate(patterns):
        rows = np.flatnonzero(which.reshape(-1) == p)
        players = np.flatnonzero(pattern)
        values[np.ix_(rows, players)], outputs[rows], base_values[rows] = _exact(game, rows, players)
        evaluated += rows.size * 2**players.size
    return game.explanation(values, outputs, base_values, op,
                            {"n_coalitions": 2**k, "n_coalitions_evaluated": int(evaluated)})


def _exact(game, rows, players):
    """Exact Shapley values of ``rows`` over the groups ``players`` (the others out of play: taken from x, as
    they equal the background there): (values rows x players, v(all), v(none))."""
    k, d = players.size, game.X.shape[1]
    m = 2**k
    # phi_i = sum_S v(S) (in_i(S) a(|S|) - out_i(S) b(|S|)), a(s) = (s-1)!(k-s)!/k!, b(s) = s!(k-s-1)!/k!
    a = np.array([0.0] + [1.0 / (k * math.comb(k - 1, s - 1)) for s in range(1, k + 1)])
    b = np.array([1.0 / (k * math.comb(k - 1, s)) for s in range(k)] + [0.0])
    coalitions = _bits(0, m, k)
    sizes = coalitions.sum(axis=1)

    def masks(start, stop):
        over_all = np.ones((stop - start, len(game.groups)), dtype=bool)
        over_all[:, players] = coalitions[start:stop]
        return game.groups.mask(over_all)

    if m * d <= MEMORY_BUDGET // 2:  # the column masks of all coalitions, built once for all rows
        masks = masks(0, m)
    values = np.empty((rows.size, k), dtype=np.float64)
    outputs, base_values = np.empty(rows.size), np.empty(rows.size)
    rows_per = max(1, 2**22 // m)  # v of the rows in hand: at most 32 MB
    block = 2**16
    for r0 in range(0, rows.size, rows_per):
        part = slice(r0, r0 + rows_per)
        v = game.values(rows[part], masks, m)
        outputs[part], base_values[part] = v[:, -1], v[:, 0]
        if k == 0:
            continue
        ins = v * (a + b)[sizes]
        phi = -(v * b[sizes]).sum(axis=1, keepdims=True)
        for c0 in range(0, m, block):  # in_i(S) = 1 - out_i(S): phi = sum_{S ∋ i} v (a + b) - sum_S v b
            phi = phi + ins[:, c0 : c0 + block] @ coalitions[c0 : c0 + block].astype(np.float64)
        values[part] = phi
    return values, outputs, base_values


# ---- permutation sampling -----------------------------------------------------------------------------------


def shapley_sampling(model, X, target=None, background=None, groups=None, n_permutations=200, seed=0,
                     antithetic=True, output=None, batch_size=None, background_weights=None):
    """Shapley values estimated by permutation sampling (Castro et al. 2009; Strumbelj & Kononenko): for each of
    ``n_permutations`` orders of the features (groups), each one's marginal contribution ``v(before + it) -
    v(before)``, averaged. ``antithetic``: each order is paired with its reverse (the pair's mean is one
    sample; ``n_permutations`` rounded up to even), which cancels much of the noise. The same orders serve every
    row (from ``np.random.default_rng(seed)``). Every order's contributions sum to ``f(x) - E_b f(b)``, so the
    estimates are efficient exactly. ``info["stderr"]``: the standard error of each value (rows x groups).
    """
    op = "shapley_sampling"
    game = _Game(model, X, target, background, background_weights, groups, output, batch_size, op)
    n_permutations = _positive_int(n_permutations, "n_permutations", op, least=2)
    k, n = game.k, game.X.shape[0]
    rng = np.random.default_rng(seed)
    if antithetic:
        half = np.array([rng.permutation(k) for _ in range(-(-n_permutations // 2))], dtype=np.int64)
        orders = np.concatenate([half, half[:, ::-1]], axis=0)
    else:
        orders = np.array([rng.permutation(k) for _ in range(n_permutations)], dtype=np.int64)
    p = orders.shape[0]
    rank = np.empty_like(orders)
    np.put_along_axis(rank, orders, np.arange(k)[None].repeat(p, axis=0), axis=1)
    # the coalitions strictly between none and all along each order: prefix j holds the groups ranked < j
    prefixes = rank[:, None, :] < np.arange(1, k)[None, :, None]  # (p, k-1, k)
    masks = game.groups.mask(prefixes.reshape(-1, k))
    outputs, base_values = game.ends()
    values, stderr = np.empty((n, k)), np.empty((n, k))
    rows_per = max(1, 2**22 // max(1, masks.shape[0]))
    for r0 in range(0, n, rows_per):
        rows = np.arange(r0, min(n, r0 + rows_per))
        mid = game.values(rows, masks).reshape(rows.size, p, k - 1) if k > 1 else np.empty((rows.size, p, 0))
        chain = np.concatenate([np.broadcast_to(base_values[rows, None, None], (rows.size, p, 1)), mid,
                                np.broadcast_to(outputs[rows, None, None], (rows.size, p, 1))], axis=2)
        contrib = np.empty((rows.size, p, k))
        np.put_along_axis(contrib, np.broadcast_to(orders[None], contrib.shape), np.diff(chain, axis=2), axis=2)
        samples = 0.5 * (contrib[:, : p // 2] + contrib[:, p // 2 :]) if antithetic else contrib
        values[rows] = samples.mean(axis=1)
        stderr[rows] = samples.std(axis=1, ddof=1) / math.sqrt(samples.shape[1])
    return game.explanation(values, outputs, base_values, op,
                            {"n_permutations": p, "antithetic": bool(antithetic), "seed": seed, "stderr": stderr})


# ---- Kernel SHAP ------------------------------------------------------------------------------------------------


def _kernel_design(k, n_samples, rng):
    """Coalitions (m x k booleans, neither empty nor full) and their weights, SHAP's KernelExplainer scheme:
    subset sizes s and k - s in turn (smallest first) are enumerated in full, each coalition at its Shapley
    kernel weight, while the budget holds them all; the rest of the budget samples coalitions of the remaining
    sizes (in proportion to the kernel's weight of each size, each with its complement), duplicates counted,
    sharing the kernel weight left. Weights sum to 1."""
    sizes = np.arange(1, k)
    size_weight = (k - 1) / (sizes * (k - sizes))  # the kernel's total weight of all coalitions of size s
    size_weight = size_weight / size_weight.sum()
    n_pairs = (k - 1) // 2
    masks, weights = [], []
    left = n_samples
    full = 0  # sizes 1..full and k-full..k-1 enumerated
    for s in range(1, (k - 1) // 2 + (k - 1) % 2 + 1):
        paired = s <= n_pairs
        count = math.comb(k, s) * (2 if paired else 1)
        if count > left:
            break
        subsets = _subsets(k, s)
        share = size_weight[s - 1] / math.comb(k, s)
        masks.append(subsets)
        weights.append(np.full(subsets.shape[0], share))
        if paired:
            masks.append(~subsets)
            weights.append(np.full(subsets.shape[0], share))
        left -= count
        full = s
    weight_left = 1.0 - sum(w.sum() for w in weights)
    if left > 0 and full < k // 2:
        # the smaller sizes not enumerated, each at the kernel weight of one size: a draw of s < k - s gives a
        # coalition and its complement (one of each size), a draw of s = k - s one coalition
        remaining = np.arange(full + 1, k // 2 + 1)
        p = size_weight[remaining - 1] / size_weight[remaining - 1].sum()
        draws = remaining[rng.choice(remaining.size, size=left, p=p)]
        order = np.argsort(rng.random((left, k)), axis=1)
        picked = np.zeros((left, k), dtype=bool)
        np.put_along_axis(picked, order, np.arange(k)[None] < draws[:, None], axis=1)
        twins = draws != k - draws  # with its complement: two coalitions from one draw
        used = np.cumsum(np.where(twins, 2, 1)) <= left
        picked, twins = picked[used], twins[used]
        drawn = np.concatenate([picked, ~picked[twins]], axis=0)
        if drawn.shape[0]:
            unique, counts = np.unique(drawn, axis=0, return_counts=True)
            masks.append(unique)
            weights.append(counts * (weight_left / counts.sum()))
    if not masks:
        return np.zeros((0, k), dtype=bool), np.zeros(0)
    return np.concatenate(masks, axis=0), np.concatenate(weights)


def _subsets(k, s):
    """All coalitions of ``s`` of ``k`` groups, as rows of booleans."""
    combos = np.array(list(itertools.combinations(range(k), s)), dtype=np.int64)
    out = np.zeros((combos.shape[0], k), dtype=bool)
    np.put_along_axis(out, combos, True, axis=1)
    return out


def kernel_shap(model, X, target=None, background=None, groups=None, n_samples=2048, seed=0, output=None,
                batch_size=None, background_weights=None):
    """Kernel SHAP (Lundberg & Lee 2017): the Shapley values as the weighted least-squares fit of ``v(S) -
    v(none)`` by the sum of the values of ``S``, over about ``n_samples`` coalitions drawn as SHAP's
    KernelExplainer draws them (small and large coalitions enumerated first, at the Shapley kernel's weights),
    with efficiency (values sum to ``f(x) - E_b f(b)``) enforced exactly. No feature selection (SHAP's
    ``l1_reg``) is applied: every feature (group) gets a value. With ``n_samples >= 2^k - 2`` every coalition is
    used and the values are exact. The same coalitions serve every row (``np.random.default_rng(seed)``).
    """
    op = "kernel_shap"
    game = _Game(model, X, target, background, background_weights, groups, output, batch_size, op)
    n_samples = _positive_int(n_samples, "n_samples", op)
    k, n = game.k, game.X.shape[0]
    coalitions, weights = _kernel_design(k, n_samples, np.random.default_rng(seed))
    outputs, base_values = game.ends()
    total = outputs - base_values
    values = np.empty((n, k))
    if k == 1 or coalitions.shape[0] == 0:
        values[:] = total[:, None] / k
    else:
        masks = game.groups.mask(coalitions)
        z = coalitions.astype(np.float64)
        A = (z[:, :-1] - z[:, -1:]) * np.sqrt(weights)[:, None]  # the last value eliminated: phi_k = total - rest
        rows_per = max(1, 2**22 // coalitions.shape[0])
        for r0 in range(0, n, rows_per):
            rows = np.arange(r0, min(n, r0 + rows_per))
            y = game.values(rows, masks).T - base_values[rows] - z[:, -1:] * total[rows]
            rest = np.linalg.lstsq(A, y * np.sqrt(weights)[:, None], rcond=None)[0].T
            values[rows, :-1] = rest
            values[rows, -1] = total[rows] - rest.sum(axis=1)
    exact = coalitions.shape[0] == 2**k - 2
    return game.explanation(values, outputs, base_values, op,
                            {"n_samples": int(coalitions.shape[0]), "exact": bool(exact), "seed": seed})


# ---- a small background -----------------------------------------------------------------------------------------


def summarize_background(X, k=10, seed=0, groups=None, n_iter=100):
    """``k`` k-means centres of ``X`` (k-means++ starts, Lloyd's iterations) and their weights, the cluster sizes:
    a small background standing for the whole table, for ``background=centres, background_weights=weights``.
    ``groups`` (a Preprocessor, dict or list): each group of several columns (a one-hot group) of a centre is
    then replaced by the nearest such block found in ``X``, so a centre keeps one valid category. With ``k`` at
    least the number of distinct rows, those rows and their counts. Returns ``(centres, weights)``."""
    op = "summarize_background"
    X = as_inputs(X, op)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ShapeError(f"{op}: X must be a table with rows (rows x features), got shape {X.shape}")
    k = _positive_int(k, "k", op)
    n_iter = _positive_int(n_iter, "n_iter", op)
    if groups is not None and not hasattr(groups, "feature_groups") and not isinstance(groups, dict | list | tuple):
        raise ArgumentTypeError(f"{op}: groups must be a Preprocessor, a dict or a list, got {type(groups).__name__}")
    data = X.astype(np.float64)
    distinct, counts = np.unique(data, axis=0, return_counts=True)
    if k >= distinct.shape[0]:
        return distinct.astype(X.dtype), counts.astype(np.float64)
    rng = np.random.default_rng(seed)
    centres = [data[rng.integers(data.shape[0])]]
    closest = ((data - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):  # k-means++: each next centre drawn in proportion to the squared distance
        total = closest.sum()
        pick = rng.choice(data.shape[0], p=closest / total) if total > 0 else rng.integers(data.shape[0])
        centres.append(data[pick])
        closest = np.minimum(closest, ((data - data[pick]) ** 2).sum(axis=1))
    C = np.array(centres)
    labels = None
    for _ in range(n_iter):
        dist = (data**2).sum(axis=1)[:, None] - 2 * data @ C.T + (C**2).sum(axis=1)[None]
        new = dist.argmin(axis=1)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        for c in range(k):
            members = labels == c
            if members.any():
                C[c] = data[members].mean(axis=0)
            else:  # an empty cluster restarts at the point farthest from its centre
                far = dist[np.arange(data.shape[0]), labels].argmax()
                C[c] = data[far]
                labels[far] = c
    weights = np.bincount(labels, minlength=k).astype(np.float64)
    if groups is not None:
        for cols in resolve_groups(groups, X.shape[1], op).columns:
            if cols.size > 1:
                blocks = np.unique(data[:, cols], axis=0)
                near = ((C[:, None, cols] - blocks[None]) ** 2).sum(axis=2).argmin(axis=1)
                C[:, cols] = blocks[near]
    keep = weights > 0
    return C[keep].astype(X.dtype), weights[keep]
