"""Exact and estimated Shapley values: against SHAP's ExactExplainer, efficiency, groups of one-hot columns."""

import importlib
import math
import time
import tracemalloc

import numpy as np
import pytest
import shap

import chainrule as cr
from chainrule import nn
from chainrule.data import Preprocessor, datasets
from chainrule.errors import ArgumentError, ShapeError
from chainrule.explain import _core

S = importlib.import_module("chainrule.explain.shapley")  # (the package's name shapley is the function)


def _mlp(d, k=2, hidden=8, seed=0):
    cr.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, hidden), nn.Tanh(), nn.Linear(hidden, k)).double()


def _reference(model, X, background, target):
    """SHAP's exact values over the same background (its Independent masker, every background row)."""
    def f(a):
        return _core.forward(model, np.asarray(a, np.float64), target)

    explainer = shap.ExactExplainer(f, shap.maskers.Independent(background, max_samples=len(background)))
    return explainer(X)


def _brute_force(model, x, background, target, groups):
    """Shapley values of one row from the definition: every ordering's marginal contributions (k! orders)."""
    import itertools

    k = len(groups)

    def v(S):
        Z = background.copy()
        for g in S:
            Z[:, groups[g]] = x[groups[g]]
        return _core.forward(model, Z, target).mean()

    phi = np.zeros(k)
    orders = list(itertools.permutations(range(k)))
    for order in orders:
        before = []
        for g in order:
            phi[g] += v(before + [g]) - v(before)
            before.append(g)
    return phi / len(orders)


@pytest.fixture(scope="module")
def credit():
    table = datasets.german_credit()
    pre = Preprocessor(target="credit_risk")
    X, y = pre.fit_transform(table)
    return table, pre, X.astype(np.float64), y


def _valid_onehot(pre, seen):
    """A model wrapper's check: every row it evaluates holds exactly one category of each one-hot group."""
    onehot = [c for c in pre.feature_groups().values() if len(c) > 1]

    def check(x):
        a = x.numpy()
        for cols in onehot:
            block = a[:, cols]
            assert np.all((block == 0) | (block == 1)) and np.all(block.sum(axis=1) == 1), "an invalid one-hot row"
        seen.append(a.shape[0])

    return check


# ---- exact ----------------------------------------------------------------------------------------------------


def test_exact_equals_shap_exact_explainer():
    rng = np.random.default_rng(0)
    model = _mlp(7)
    X, bg = rng.standard_normal((4, 7)), rng.standard_normal((6, 7))
    X[1, [2, 5]] = bg[0, [2, 5]]  # some cells equal to one background row (still in play)
    e = S.shapley(model, X, target=1, background=bg, batch_size=50)
    ref = _reference(model, X, bg, 1)
    np.testing.assert_allclose(e.values, ref.values, rtol=0, atol=1e-13)
    np.testing.assert_allclose(e.base_values, ref.base_values, rtol=0, atol=1e-14)
    np.testing.assert_allclose(e.outputs, _core.forward(model, X, 1), rtol=0, atol=1e-14)
    assert np.abs(e.delta).max() <= 1e-10
    assert e.names == [f"x{j}" for j in range(7)] and e.method == "shapley" and e.info["n_coalitions"] == 128


def test_exact_null_players_and_one_background_row():
    rng = np.random.default_rng(1)
    model = _mlp(6)
    bg = rng.standard_normal((1, 6))
    X = rng.standard_normal((3, 6))
    X[0, [1, 4]] = bg[0, [1, 4]]  # out of play in row 0: value 0, the rest as without them
    X[2] = bg[0]  # the background row itself: all zero
    e = S.shapley(model, X, target=0, background=bg)
    ref = _reference(model, X[:2], bg, 0)  # (SHAP fails on a row with nothing in play)
    np.testing.assert_allclose(e.values[:2], ref.values, rtol=0, atol=1e-13)
    assert np.all(e.values[0, [1, 4]] == 0) and np.all(e.values[2] == 0)
    assert e.info["n_coalitions_evaluated"] == 2**4 + 2**6 + 1
    assert np.abs(e.delta).max() <= 1e-10


def test_exact_groups_by_definition_and_default_background():
    rng = np.random.default_rng(2)
    model = _mlp(8, k=1)
    X = rng.standard_normal((2, 8))
    groups = {"a": [0, 5], "b": [1, 2, 3]}  # 4, 6, 7 alone
    e = S.shapley(model, X, groups=groups)  # background: a row of zeros
    cols = [[0, 5], [1, 2, 3], [4], [6], [7]]
    for i in range(2):
        np.testing.assert_allclose(e.values[i], _brute_force(model, X[i], np.zeros((1, 8)), None, cols), atol=1e-13)
    assert e.names == ["a", "b", "x4", "x6", "x7"]
    np.testing.assert_allclose(e.base_values, _core.forward(model, np.zeros((1, 8)))[0], atol=1e-15)
    assert np.abs(e.delta).max() <= 1e-10


def test_exact_per_row_targets_probability_weights_and_float32():
    rng = np.random.default_rng(3)
    model = _mlp(5, k=3)
    X, bg = rng.standard_normal((4, 5)), rng.standard_normal((3, 5))
    target = np.array([2, 0, 1, 2])
    e = S.shapley(model, X, target=target, background=bg, output="probability")
    for i in range(4):
        one = S.shapley(model, X[i : i + 1], target=int(target[i]), background=bg, output="probability")
        np.testing.assert_allclose(e.values[i], one.values[0], rtol=0, atol=1e-15)
    # integer weights are repeated rows
    w = np.array([1.0, 3.0, 2.0])
    weighted = S.shapley(model, X, target=target, background=bg, background_weights=w)
    repeated = S.shapley(model, X, target=target, background=np.repeat(bg, [1, 3, 2], axis=0))
    np.testing.assert_allclose(weighted.values, repeated.values, rtol=0, atol=1e-14)
    np.testing.assert_allclose(weighted.base_values, repeated.base_values, rtol=0, atol=1e-14)
    # a float32 model: values in float64, efficient to the rounding of its float32 outputs
    m32 = _mlp(5, k=3).float()
    e32 = S.shapley(m32, X.astype(np.float32), target=1, background=bg.astype(np.float32))
    assert e32.values.dtype == np.float64 and np.abs(e32.delta).max() <= 1e-12
    with pytest.raises(ArgumentError, match="shapley: background_weights must be 3"):
        S.shapley(model, X, target=0, background=bg, background_weights=[1.0, -1.0, 1.0])


def test_exact_refuses_more_than_20_groups():
    model = _mlp(21, k=1)
    with pytest.raises(ArgumentError, match="shapley: exact Shapley values over 21 .* use shapley_sampling or "
                                            "kernel_shap"):
        S.shapley(model, np.ones((1, 21)))
    with pytest.raises(ShapeError, match="shapley: X must be a table"):
        S.shapley(model, np.ones((1, 3, 7)))


def test_exact_ten_groups_fast():
    rng = np.random.default_rng(4)
    cr.manual_seed(4)
    model = nn.Sequential(nn.Linear(30, 16), nn.ReLU(), nn.Linear(16, 1))
    X, bg = rng.standard_normal((3, 30)).astype(np.float32), rng.standard_normal((2, 30)).astype(np.float32)
    groups = [list(range(3 * g, 3 * g + 3)) for g in range(10)]
    e = S.shapley(model, X, background=bg, groups=groups)
    assert e.values.shape == (3, 10) and e.info["n_coalitions"] == 1024
    assert np.abs(e.delta).max() <= 1e-5 * np.abs(e.outputs).max()
    # kernel SHAP with every coalition is exact too: compared in float64, where the two batchings of the same
    # coalitions round alike to 1e-9 whatever the BLAS kernel (in float32 they differ by ~1e-8 of the outputs)
    model.double()
    X, bg = X.astype(np.float64), bg.astype(np.float64)
    exact = S.shapley(model, X, background=bg, groups=groups)
    ks = S.kernel_shap(model, X, background=bg, groups=groups, n_samples=1022)
    np.testing.assert_allclose(ks.values, exact.values, rtol=0, atol=1e-9)


@pytest.mark.slow
def test_exact_twenty_groups_time_and_memory():
    rng = np.random.default_rng(5)
    cr.manual_seed(5)
    model = nn.Sequential(nn.Linear(61, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 2))
    X = rng.standard_normal((2, 61)).astype(np.float32)
    bg = rng.standard_normal((1, 61)).astype(np.float32)  # differs everywhere: all 2^20 coalitions in play
    groups = [list(range(3 * g, 3 * g + 3)) for g in range(19)] + [list(range(57, 61))]
    tracemalloc.start()
    try:
        start = time.perf_counter()
        e = S.shapley(model, X, target=1, background=bg, groups=groups)
        per_row = (time.perf_counter() - start) / 2
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert e.info["n_coalitions_evaluated"] == 2 * 2**20
    assert np.abs(e.delta).max() <= 1e-5 * max(1.0, np.abs(e.outputs).max())
    assert peak < _core.MEMORY_BUDGET, f"peak {peak / 2**20:.0f} MB"
    assert per_row < 15, f"{per_row:.1f} s per row"  # about 1 s on a laptop core; generous for loaded machines


# ---- German credit: groups of one-hot columns -------------------------------------------------------------------


def test_groups_on_german_credit_are_valid_and_efficient(credit):
    table, pre, X, _ = credit
    model = _mlp(X.shape[1], hidden=12, seed=6)
    seen = []
    check = _valid_onehot(pre, seen)

    def guarded(x):
        check(x)
        return model(x)

    rows, bg = X[:3], X[[10, 20, 30]]
    names = [c for c in table.columns if c != "credit_risk"]
    e = S.shapley(guarded, rows, target=1, background=bg, groups=pre, output="probability")
    assert e.names == names and e.values.shape == (3, 20) and sum(seen) > 0
    assert np.abs(e.delta).max() <= 1e-10
    np.testing.assert_allclose(e.outputs, _core.forward(model, rows, 1, "probability"), atol=1e-15)
    assert list(e.data[0]) == list(pre.inverse_transform_features(rows[:1])[0])
    # a CSV column on which the row equals every background row is out of play: 0
    same = [g for g, c in enumerate(pre.feature_groups().values()) if np.all(bg[:, c] == rows[0, c])]
    assert same and np.all(e.values[0, same] == 0)
    seen.clear()
    s = S.shapley_sampling(guarded, rows, target=1, background=bg, groups=pre, output="probability",
                           n_permutations=20)
    k = S.kernel_shap(guarded, rows, target=1, background=bg, groups=pre, output="probability", n_samples=300)
    assert sum(seen) > 0 and s.names == names and k.names == names
    assert np.abs(s.delta).max() <= 1e-10 and np.abs(k.delta).max() <= 1e-10


def test_summarize_background_keeps_valid_categories(credit):
    _, pre, X, _ = credit
    centres, weights = S.summarize_background(X[:300], k=6, seed=0, groups=pre)
    assert centres.shape == (6, X.shape[1]) and weights.sum() == 300 and np.all(weights > 0)
    for c in (c for c in pre.feature_groups().values() if len(c) > 1):
        block = centres[:, c]
        assert np.all((block == 0) | (block == 1)) and np.all(block.sum(axis=1) == 1)
    model = _mlp(X.shape[1], seed=7)
    e = S.shapley_sampling(model, X[:2], target=1, background=centres, background_weights=weights, groups=pre,
                           n_permutations=10)
    expected = (_core.forward(model, centres, 1) * weights).sum() / weights.sum()
    np.testing.assert_allclose(e.base_values, expected, rtol=1e-12)
    assert np.abs(e.delta).max() <= 1e-10


def test_summarize_background_kmeans():
    rng = np.random.default_rng(8)
    means = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    X = np.concatenate([m + 0.1 * rng.standard_normal((n, 2)) for m, n in zip(means, (20, 30, 50))])
    centres, weights = S.summarize_background(X, k=3, seed=1)
    order = np.argsort(weights)
    np.testing.assert_array_equal(weights[order], [20, 30, 50])
    for c, n in zip(centres[order], (20, 30, 50)):
        part = {20: X[:20], 30: X[20:50], 50: X[50:]}[n]
        np.testing.assert_allclose(c, part.mean(axis=0), atol=1e-12)
    few, counts = S.summarize_background(np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 4.0]]), k=5)
    np.testing.assert_array_equal(few, [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(counts, [2, 1])
    with pytest.raises(ArgumentError, match="summarize_background: k must be"):
        S.summarize_background(X, k=0)


# ---- estimates --------------------------------------------------------------------------------------------------


def test_sampling_within_three_standard_errors_of_exact():
    rng = np.random.default_rng(9)
    model = _mlp(8, seed=9)
    X, bg = rng.standard_normal((5, 8)), rng.standard_normal((4, 8))
    exact = S.shapley(model, X, target=1, background=bg)
    for antithetic in (True, False):
        s = S.shapley_sampling(model, X, target=1, background=bg, n_permutations=2000, seed=3, antithetic=antithetic)
        stderr = s.info["stderr"]
        assert stderr.shape == (5, 8) and np.all(stderr > 0) and s.info["n_permutations"] == 2000
        within = np.abs(s.values - exact.values) <= 3 * stderr
        assert within.mean() >= 0.95, within
        assert np.abs(s.delta).max() <= 1e-10
        np.testing.assert_allclose(s.base_values, exact.base_values, atol=1e-15)
    # the same seed, the same estimate; another seed, another
    again = S.shapley_sampling(model, X, target=1, background=bg, n_permutations=2000, seed=3, antithetic=False)
    np.testing.assert_array_equal(again.values, s.values)
    other = S.shapley_sampling(model, X, target=1, background=bg, n_permutations=50, seed=4)
    assert not np.array_equal(other.values, s.values)
    with pytest.raises(ArgumentError, match="shapley_sampling: n_permutations must be an int >= 2"):
        S.shapley_sampling(model, X, target=1, n_permutations=1)


def test_kernel_shap_exact_with_every_coalition_and_close_with_fewer():
    rng = np.random.default_rng(10)
    model = _mlp(8, seed=10)
    X, bg = rng.standard_normal((4, 8)), rng.standard_normal((3, 8))
    exact = S.shapley(model, X, target=0, background=bg)
    for n_samples in (254, 5000):  # 2^8 - 2 coalitions: all of them
        k = S.kernel_shap(model, X, target=0, background=bg, n_samples=n_samples)
        assert k.info["exact"] and k.info["n_samples"] == 254
        np.testing.assert_allclose(k.values, exact.values, rtol=0, atol=1e-12)
    k = S.kernel_shap(model, X, target=0, background=bg, n_samples=180, seed=1)
    assert not k.info["exact"] and k.info["n_samples"] <= 180
    scale = np.abs(exact.values).max()
    assert np.abs(k.values - exact.values).max() <= 0.05 * scale
    assert np.abs(k.delta).max() <= 1e-10
    # every feature gets a value (no l1_reg selection), and few samples still give an efficient answer
    few = S.kernel_shap(model, X, target=0, background=bg, n_samples=20, seed=2)
    assert np.all(few.values != 0) and np.abs(few.delta).max() <= 1e-10
    one = S.kernel_shap(_mlp(1, seed=11), X[:, :1], target=0, background=bg[:, :1])
    np.testing.assert_allclose(one.values[:, 0], one.outputs - one.base_values, atol=1e-15)


def test_kernel_shap_design_follows_the_shapley_kernel():
    rng = np.random.default_rng(0)
    k = 10
    coalitions, weights = S._kernel_design(k, 400, rng)
    sizes = coalitions.sum(axis=1)
    assert np.all((sizes > 0) & (sizes < k)) and weights.sum() == pytest.approx(1.0, abs=1e-12)
    kernel = (k - 1) / (np.arange(1, k) * (k - np.arange(1, k)))
    kernel /= kernel.sum()
    # sizes 1, 9 (20 coalitions) and 2, 8 (90) fit in 400 and are enumerated at the kernel's weight
    for s in (1, 2, 8, 9):
        assert (sizes == s).sum() == math.comb(k, s)
        np.testing.assert_allclose(weights[sizes == s].sum(), kernel[s - 1], rtol=1e-12)
    assert len(np.unique(coalitions, axis=0)) == len(coalitions)
