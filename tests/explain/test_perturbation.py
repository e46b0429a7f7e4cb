"""Occlusion and feature ablation against Captum, permutation importance against scikit-learn."""

import numpy as np
import pytest
import torch
from captum.attr import FeatureAblation, Occlusion
from sklearn.base import BaseEstimator
from sklearn.inspection import permutation_importance as sk_permutation_importance

import chainrule as cr
from chainrule import nn
from chainrule.data import Preprocessor, datasets
from chainrule.errors import ArgumentError, ArgumentTypeError, ShapeError
from chainrule.explain import _core
from chainrule.explain import perturbation as P


def _pair(cr_layers, torch_layers):
    """The same float64 model in chainrule and in torch (the weights copied)."""
    model = nn.Sequential(*cr_layers).double()
    ref = torch.nn.Sequential(*torch_layers).double()
    ref.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in model.state_dict().items()})
    return model, ref


def _mlp(d, k):
    return _pair([nn.Linear(d, 6), nn.Tanh(), nn.Linear(6, k)],
                 [torch.nn.Linear(d, 6), torch.nn.Tanh(), torch.nn.Linear(6, k)])


def _cnn():
    return _pair([nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 5 * 6, 4)],
                 [torch.nn.Conv2d(2, 3, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(3 * 5 * 6, 4)])


def _close_to_captum(ours, ref):
    # Captum divides its float64 totals in float32 (format_result: attrib.float() / weight)
    ref = ref.detach().numpy()
    np.testing.assert_allclose(ours, ref, rtol=2e-7, atol=1e-12 * max(1.0, np.abs(ref).max()))


@pytest.fixture(scope="module")
def credit():
    table = datasets.german_credit()
    pre = Preprocessor(target="credit_risk")
    X, y = pre.fit_transform(table)
    return table, pre, X.astype(np.float64), y


def _valid_onehot(pre, calls):
    """A model wrapper asserting that every row it sees holds exactly one category of each one-hot group."""
    onehot = [c for name, c in pre.feature_groups().items() if len(c) > 1]

    def check(x):
        a = x.numpy()
        for cols in onehot:
            block = a[:, cols]
            assert np.all((block == 0) | (block == 1)) and np.all(block.sum(axis=1) == 1), "an invalid one-hot row"
        calls.append(a.shape[0])

    return check


# ---- occlusion ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("window,stride", [((2, 3, 3), (1, 2, 2)), ((1, 2, 4), 1), ((2, 7, 8), 1),
                                           ((1, 3, 2), (1, 3, 2))])
def test_occlusion_images_equal_captum(window, stride):
    model, ref = _cnn()
    X = np.random.default_rng(0).standard_normal((3, 2, 7, 8))
    e = P.occlusion(model, X, target=2, window=window, stride=stride, baseline=0.5, batch_size=7)
    expected = Occlusion(ref).attribute(torch.tensor(X), sliding_window_shapes=window, strides=stride, baselines=0.5,
                                        target=2)
    assert e.values.shape == X.shape and e.method == "occlusion"
    _close_to_captum(e.values, expected)
    np.testing.assert_allclose(e.outputs, ref(torch.tensor(X))[:, 2].detach().numpy(), rtol=1e-12)
    at_base = ref(torch.full((1, 2, 7, 8), 0.5, dtype=torch.float64))[0, 2].item()
    np.testing.assert_allclose(e.base_values, at_base, rtol=1e-12)


def test_occlusion_tables_and_per_row_baselines_equal_captum():
    model, ref = _mlp(7, 3)
    rng = np.random.default_rng(1)
    X, base = rng.standard_normal((5, 7)), rng.standard_normal((5, 7))
    target = np.array([0, 2, 1, 1, 0])
    for window, stride in [(2, 2), (3, 1), (7, 1), (1, 1)]:
        e = P.occlusion(model, X, target=target, window=window, stride=stride, baseline=base)
        expected = Occlusion(ref).attribute(torch.tensor(X), sliding_window_shapes=(window,), strides=stride,
                                            baselines=torch.tensor(base), target=torch.tensor(target))
        _close_to_captum(e.values, expected)
    # a one-column window is feature ablation
    np.testing.assert_allclose(P.occlusion(model, X, target=1, window=1).values,
                               P.feature_ablation(model, X, target=1).values, rtol=1e-13, atol=1e-15)


def test_occlusion_default_window_and_errors():
    model, _ = _cnn()
    X = np.random.default_rng(2).standard_normal((2, 2, 7, 8))
    assert P.occlusion(model, X, target=0).info["window"] == (2, 3, 3)
    assert P.occlusion(model, X, target=0, window=2).info["window"] == (2, 2, 2)
    with pytest.raises(ShapeError, match="occlusion: window .* larger"):
        P.occlusion(model, X, target=0, window=(2, 9, 3))
    with pytest.raises(ArgumentError, match="occlusion: stride .* larger than window"):
        P.occlusion(model, X, target=0, window=(1, 2, 2), stride=3)
    with pytest.raises(ArgumentError, match="occlusion: window must be"):
        P.occlusion(model, X, target=0, window=(2, 3))
    with pytest.raises(ShapeError, match="occlusion: baseline of 3 rows for 2 inputs"):
        P.occlusion(model, X, target=0, baseline=np.zeros((3, 2, 7, 8)))


# ---- feature ablation -------------------------------------------------------------------------------------------


def test_feature_ablation_equals_captum_tables_groups_and_images():
    model, ref = _mlp(7, 3)
    rng = np.random.default_rng(3)
    X, base = rng.standard_normal((4, 7)), rng.standard_normal((1, 7))
    e = P.feature_ablation(model, X, target=2, baselines=base, batch_size=3)
    _close_to_captum(e.values, FeatureAblation(ref).attribute(torch.tensor(X), baselines=torch.tensor(base), target=2))
    assert e.names == [f"x{j}" for j in range(7)]
    np.testing.assert_allclose(e.base_values, ref(torch.tensor(base))[0, 2].item(), rtol=1e-12)

    groups = {"a": [0, 3], "b": [1, 2, 6]}  # 4 and 5 alone
    e = P.feature_ablation(model, X, target=1, baselines=base, groups=groups)
    mask = torch.tensor([[0, 1, 1, 0, 2, 3, 1]])
    expected = FeatureAblation(ref).attribute(torch.tensor(X), baselines=torch.tensor(base), target=1,
                                              feature_mask=mask).numpy()
    assert e.names == ["a", "b", "x4", "x5"]
    np.testing.assert_allclose(e.values, expected[:, [0, 1, 4, 5]], rtol=1e-12, atol=1e-15)

    cnn, cref = _cnn()
    X = rng.standard_normal((2, 2, 7, 8))
    e = P.feature_ablation(cnn, X, target=3, baselines=0.25)
    assert e.values.shape == X.shape
    _close_to_captum(e.values, FeatureAblation(cref).attribute(torch.tensor(X), baselines=0.25, target=3))


def test_feature_ablation_background_averages_over_rows():
    model, _ = _mlp(5, 1)
    rng = np.random.default_rng(4)
    X, bg = rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    e = P.feature_ablation(model, X, baselines=bg)
    each = np.stack([P.feature_ablation(model, X, baselines=b).values for b in bg])
    np.testing.assert_allclose(e.values, each.mean(axis=0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(e.base_values, _core.forward(model, bg).mean(), rtol=1e-12)
    assert e.info["baselines"] == "background"


def test_feature_ablation_switches_a_one_hot_group_as_one_category(credit):
    table, pre, X, _ = credit
    model = nn.Sequential(nn.Linear(X.shape[1], 8), nn.ReLU(), nn.Linear(8, 2)).double()
    calls = []
    check = _valid_onehot(pre, calls)

    def guarded(x):
        check(x)
        return model(x)

    e = P.feature_ablation(guarded, X[:4], target=1, baselines=X[100:101], groups=pre, output="probability")
    assert e.names == [c for c in table.columns if c != "credit_risk"] and e.values.shape == (4, 20)
    assert sum(calls) >= 4 * 20
    # the ablated output of group g is the model on x with g's columns from the baseline row
    g = e.names.index("purpose")
    cols = pre.feature_groups()["purpose"]
    Z = X[:4].copy()
    Z[:, cols] = X[100, cols]
    p = _core.forward(model, Z, 1, "probability")
    np.testing.assert_allclose(e.values[:, g], e.outputs - p, rtol=1e-12, atol=1e-15)
    assert e.data[0][0] == pre.inverse_transform_features(X[:1])[0][0]


# ---- permutation importance -------------------------------------------------------------------------------------


class _Wrapped(BaseEstimator):
    """A fitted estimator around a chainrule model, for scikit-learn's permutation_importance."""

    def __init__(self, model=None, target=None):
        self.model = model
        self.target = target

    def fit(self, X, y):
        return self

    def predict(self, X):
        return _core.forward(self.model, np.asarray(X, np.float64), self.target)


class _SklearnOrder:
    """The permutations scikit-learn's permutation_importance applies (its seed rule, its in-place shuffles of one
    index array per feature), handed out through ``permutation`` as a Generator would."""

    def __init__(self, seed, n_features, n_repeats, n):
        seed = np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1)
        self.perms = []
        for _ in range(n_features):
            rs, idx, effective = np.random.RandomState(seed), np.arange(n), np.arange(n)
            for _ in range(n_repeats):
                rs.shuffle(idx)
                effective = effective[idx]
                self.perms.append(effective.copy())

    def permutation(self, n):
        return self.perms.pop(0)


def test_permutation_importance_equals_sklearn_with_its_permutations():
    model, _ = _mlp(6, 3)
    rng = np.random.default_rng(5)
    X = rng.standard_normal((40, 6))
    y = _core.forward(model, X, 1) + 0.3 * rng.standard_normal(40)

    def r2(y_true, pred):
        return 1 - np.sum((y_true - pred) ** 2) / np.sum((y_true - y_true.mean()) ** 2)

    ours = P.permutation_importance(model, (X, y), metric=r2, n_repeats=4, seed=_SklearnOrder(7, 6, 4, 40), target=1)
    ref = sk_permutation_importance(_Wrapped(model, 1), X, y, scoring=lambda est, A, b: r2(b, est.predict(A)),
                                    n_repeats=4, random_state=7)
    np.testing.assert_allclose(ours.importances, ref.importances, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.importances_mean, ref.importances_mean, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours["importances_std"], ref.importances_std, rtol=1e-10, atol=1e-14)
    assert ours.names == [f"x{j}" for j in range(6)] and ours.metric == "r2"


def test_permutation_importance_own_rule_with_default_rng_and_groups():
    model, _ = _mlp(6, 3)
    rng = np.random.default_rng(6)
    X = rng.standard_normal((30, 6))
    y = _core_argmax(model, X)
    groups = {"ab": [0, 4], "c": [2]}
    result = P.permutation_importance(model, (X, y), n_repeats=3, seed=11, groups=groups)
    assert result.metric == "accuracy" and result.baseline_score == 1.0
    assert result.names == ["ab", "c", "x1", "x3", "x5"] and result.importances.shape == (5, 3)
    draw = np.random.default_rng(11)
    for g, cols in enumerate([[0, 4], [2], [1], [3], [5]]):
        for r in range(3):
            Z = X.copy()
            perm = draw.permutation(30)
            Z[:, cols] = X[perm][:, cols]  # one permutation for all the group's columns
            expected = 1.0 - np.mean(_core_argmax(model, Z) == y)
            assert result.importances[g, r] == expected
    np.testing.assert_allclose(result.importances_std, result.importances.std(axis=1))
    assert result.ranked()[0][1] == result.importances_mean.max()


def _core_argmax(model, X):
    with cr.no_grad():
        return model(cr.tensor(X, dtype=cr.float64)).numpy().argmax(axis=1)


def test_permutation_importance_close_to_sklearn_means_and_default_metrics(credit):
    table, pre, X, y = credit
    model = nn.Sequential(nn.Linear(X.shape[1], 8), nn.ReLU(), nn.Linear(8, 1)).double()
    X, y = X[:200], y[:200]
    calls = []
    check = _valid_onehot(pre, calls)

    def guarded(x):
        check(x)
        return model(x)

    # classification with one logit: accuracy of logit > 0
    result = P.permutation_importance(guarded, (X, y), n_repeats=3, groups=pre)
    pred = (_core.forward(model, X) > 0).astype(np.int64)
    assert result.baseline_score == np.mean(pred == y) and len(result.names) == 20 and calls
    # regression: negative MSE; sklearn's mean over many repeats agrees within the noise
    small, _ = _mlp(5, 1)
    Xs = np.random.default_rng(9).standard_normal((300, 5))
    ys = _core.forward(small, Xs) + 0.1 * np.random.default_rng(10).standard_normal(300)
    ours = P.permutation_importance(small, (Xs, ys), n_repeats=60, seed=0)
    assert ours.metric == "neg_mean_squared_error"
    ref = sk_permutation_importance(_Wrapped(small), Xs, ys, scoring="neg_mean_squared_error", n_repeats=60,
                                    random_state=0)
    assert ours.baseline_score == pytest.approx(-np.mean((ys - _core.forward(small, Xs)) ** 2), rel=1e-12)
    spread = np.sqrt(ours.importances_std**2 + ref.importances_std**2) / np.sqrt(60)
    assert np.all(np.abs(ours.importances_mean - ref.importances_mean) <= 4 * spread + 1e-12)


def test_permutation_importance_errors():
    model, _ = _mlp(4, 2)
    X = np.zeros((5, 4))
    with pytest.raises(ArgumentTypeError, match="permutation_importance: data must be a pair"):
        P.permutation_importance(model, X)
    with pytest.raises(ShapeError, match="permutation_importance: y must have one entry per row"):
        P.permutation_importance(model, (X, np.zeros(4)))
    with pytest.raises(ArgumentError, match="permutation_importance: n_repeats"):
        P.permutation_importance(model, (X, np.zeros(5, np.int64)), n_repeats=0)
    with pytest.raises(ArgumentError, match="needs one output"):
        P.permutation_importance(model, (X, np.zeros(5)))
    with pytest.raises(ArgumentTypeError, match="metric must be a callable"):
        P.permutation_importance(model, (X, np.zeros(5)), metric="r2")


def test_permutation_importance_of_a_table_equals_that_of_its_matrix(credit):
    table, pre, X, y = credit
    model = nn.Sequential(nn.Linear(X.shape[1], 8), nn.ReLU(), nn.Linear(8, 2))
    part = table.select(list(range(150)))
    from_table = P.permutation_importance(model, part, n_repeats=2, seed=3, groups=pre)
    Xp, yp = pre.transform(part)
    from_matrix = P.permutation_importance(model, (Xp, yp), n_repeats=2, seed=3, groups=pre)
    assert from_table.names == [c for c in table.columns if c != "credit_risk"]
    np.testing.assert_array_equal(from_table.importances, from_matrix.importances)
    with pytest.raises(ArgumentTypeError, match="Preprocessor"):
        P.permutation_importance(model, part)
