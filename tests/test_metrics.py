"""chainrule.metrics against scikit-learn (the oracle), on random cases and on the edge cases."""

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.metrics as M
from chainrule.errors import ArgumentError, ShapeError, UnknownNameError

skm = pytest.importorskip("sklearn.metrics")


def sk(fn, *args, **kwargs):
    """Call a sklearn metric with its warnings (undefined metric, ...) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def sk_log_loss(y_true, proba, **kw):
    try:
        return sk(skm.log_loss, y_true, y_proba=proba, **kw)  # scikit-learn >= 1.9 names it y_proba
    except TypeError:
        return sk(skm.log_loss, y_true, proba, **kw)


SEEDS = range(8)


def labels(rng, n, k):
    return rng.integers(0, k, n)


# ---- random cases --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [2, 3, 5])
def test_accuracy_and_confusion_matrix(seed, k):
    rng = np.random.default_rng(seed)
    t, p = labels(rng, 50, k), labels(rng, 50, k)
    assert M.accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p), abs=1e-15)
    assert M.accuracy(t, p, normalize=False) == skm.accuracy_score(t, p, normalize=False)
    np.testing.assert_array_equal(M.confusion_matrix(t, p), skm.confusion_matrix(t, p))
    for norm in ("true", "pred", "all"):
        np.testing.assert_allclose(M.confusion_matrix(t, p, normalize=norm), skm.confusion_matrix(t, p, normalize=norm))
    lab = [k - 1, 0]  # a subset, in a chosen order
    np.testing.assert_array_equal(M.confusion_matrix(t, p, labels=lab), skm.confusion_matrix(t, p, labels=lab))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", ["precision", "recall", "f1"])
@pytest.mark.parametrize("average", ["binary", "macro", "micro", "weighted", None])
def test_precision_recall_f1(seed, name, average):
    rng = np.random.default_rng(seed)
    k = 2 if average == "binary" else 4
    t, p = labels(rng, 40, k), labels(rng, 40, k)
    ours = getattr(M, name)(t, p, average=average)
    theirs = sk(getattr(skm, f"{name}_score"), t, p, average=average, zero_division=0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_fbeta_and_pos_label(seed):
    rng = np.random.default_rng(seed)
    t, p = labels(rng, 40, 2), labels(rng, 40, 2)
    for beta in (0.5, 2.0):
        assert M.fbeta(t, p, beta) == pytest.approx(sk(skm.fbeta_score, t, p, beta=beta, zero_division=0), abs=1e-12)
    assert M.precision(t, p, pos_label=0) == pytest.approx(sk(skm.precision_score, t, p, pos_label=0), abs=1e-12)
    st, sp = np.where(t == 1, "spam", "ham"), np.where(p == 1, "spam", "ham")
    assert M.f1(st, sp, pos_label="spam") == pytest.approx(skm.f1_score(st, sp, pos_label="spam"), abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_roc_auc_binary(seed):
    rng = np.random.default_rng(seed)
    t = labels(rng, 60, 2)
    s = rng.standard_normal(60) + t
    assert M.roc_auc(t, s) == pytest.approx(skm.roc_auc_score(t, s), abs=1e-12)
    s_ties = np.round(s)  # many ties
    assert M.roc_auc(t, s_ties) == pytest.approx(skm.roc_auc_score(t, s_ties), abs=1e-12)
    signed = np.where(t == 1, 1, -1)  # labels other than 0/1: the greater is positive
    assert M.roc_auc(signed, s) == pytest.approx(skm.roc_auc_score(signed, s), abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_roc_auc_multiclass_ovr(seed, average):
    rng = np.random.default_rng(seed)
    t = np.r_[0, 1, 2, 3, labels(rng, 56, 4)]
    z = rng.standard_normal((60, 4)) + np.eye(4)[t]
    proba = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    want = skm.roc_auc_score(t, proba, multi_class="ovr", average=average)
    assert M.roc_auc(t, proba, average=average) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_log_loss(seed):
    rng = np.random.default_rng(seed)
    t = np.r_[0, 1, 2, labels(rng, 37, 3)]
    z = rng.standard_normal((40, 3))
    proba = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert M.log_loss(t, proba) == pytest.approx(sk_log_loss(t, proba), rel=1e-12)
    assert M.log_loss(t, proba, normalize=False) == pytest.approx(sk_log_loss(t, proba, normalize=False), rel=1e-12)
    tb = labels(rng, 40, 2)
    pb = rng.random(40)
    assert M.log_loss(tb, pb) == pytest.approx(sk_log_loss(tb, pb), rel=1e-12)
    hard = np.where(tb == 1, 0.0, 1.0)  # certain and wrong everywhere: clipped, finite
    assert M.log_loss(tb, hard) == pytest.approx(sk_log_loss(tb, hard), rel=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_regression(seed):
    rng = np.random.default_rng(seed)
    t = rng.standard_normal(30)
    p = t + 0.3 * rng.standard_normal(30)
    assert M.mse(t, p) == pytest.approx(skm.mean_squared_error(t, p), rel=1e-12)
    assert M.mean_squared_error(t, p) == M.mse(t, p)
    assert M.mae(t, p) == pytest.approx(skm.mean_absolute_error(t, p), rel=1e-12)
    assert M.r2(t, p) == pytest.approx(skm.r2_score(t, p), rel=1e-12)
    T, P = rng.standard_normal((30, 3)), rng.standard_normal((30, 3))
    for mo in ("raw_values", "uniform_average"):
        np.testing.assert_allclose(M.mse(T, P, multioutput=mo), skm.mean_squared_error(T, P, multioutput=mo))
        np.testing.assert_allclose(M.mae(T, P, multioutput=mo), skm.mean_absolute_error(T, P, multioutput=mo))
    for mo in ("raw_values", "uniform_average", "variance_weighted"):
        np.testing.assert_allclose(M.r2(T, P, multioutput=mo), skm.r2_score(T, P, multioutput=mo), rtol=1e-12)
    assert M.rmse(t, p) == pytest.approx(skm.root_mean_squared_error(t, p), rel=1e-12)


# ---- edge cases ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "t, p",
    [
        ([0, 0, 0, 0], [0, 0, 0, 0]),  # one class present, never predicted positive: 0/0
        ([1, 1, 1], [1, 1, 1]),  # one class, all right
        ([0, 0, 1, 1], [0, 0, 0, 0]),  # nothing predicted positive
        ([0, 0, 0, 0], [1, 0, 1, 0]),  # no positives at all
        ([2, 2, 2], [2, 2, 2]),  # one class that is not pos_label
    ],
)
@pytest.mark.parametrize("name", ["precision", "recall", "f1"])
@pytest.mark.parametrize("average", ["binary", "macro", "micro", "weighted"])
def test_zero_division_and_one_class(t, p, name, average):
    ours = getattr(M, name)(t, p, average=average)
    theirs = sk(getattr(skm, f"{name}_score"), t, p, average=average, zero_division=0)
    assert ours == pytest.approx(theirs, abs=1e-15)
    ours1 = getattr(M, name)(t, p, average=average, zero_division=1.0)
    theirs1 = sk(getattr(skm, f"{name}_score"), t, p, average=average, zero_division=1.0)
    assert ours1 == pytest.approx(theirs1, abs=1e-15)


def test_binary_average_on_multiclass_is_an_error():
    with pytest.raises(ArgumentError, match="average='binary'"):
        M.f1([0, 1, 2], [0, 1, 1])
    with pytest.raises(ArgumentError, match="pos_label"):
        M.precision([2, 3, 3], [3, 2, 3])


def test_per_class_arrays():
    t, p = [0, 1, 2, 2, 1], [0, 2, 2, 2, 0]
    np.testing.assert_allclose(M.precision(t, p, average=None), sk(skm.precision_score, t, p, average=None))
    np.testing.assert_allclose(M.recall(t, p, average=None, labels=[2, 0]),
                               sk(skm.recall_score, t, p, average=None, labels=[2, 0]))


def test_roc_auc_one_class_is_nan_and_log_loss_one_class_an_error_as_in_sklearn():
    assert np.isnan(M.roc_auc([1, 1, 1], [0.2, 0.5, 0.9]))
    assert np.isnan(sk(skm.roc_auc_score, [1, 1, 1], [0.2, 0.5, 0.9]))
    proba = np.array([[0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])
    assert np.isnan(M.roc_auc([0, 1, 1, 1], proba, labels=[0, 1, 2]))  # class 2 absent: its AUC is undefined
    assert np.isnan(sk(skm.roc_auc_score, [0, 1, 1, 1], proba, multi_class="ovr", labels=[0, 1, 2]))
    with pytest.raises(ValueError):
        sk_log_loss([1, 1, 1], [0.2, 0.5, 0.9])
    with pytest.raises(ArgumentError, match="only one label"):
        M.log_loss([1, 1, 1], [0.2, 0.5, 0.9])
    # with the labels named, one present class is fine
    assert M.log_loss([1, 1, 1], [0.2, 0.5, 0.9], labels=[0, 1]) == pytest.approx(
        sk_log_loss([1, 1, 1], [0.2, 0.5, 0.9], labels=[0, 1]), rel=1e-12)


def test_r2_edge_cases():
    assert M.r2([3.0, 3.0, 3.0], [3.0, 3.0, 3.0]) == skm.r2_score([3.0, 3.0, 3.0], [3.0, 3.0, 3.0]) == 1.0
    assert M.r2([3.0, 3.0, 3.0], [3.0, 2.0, 3.0]) == skm.r2_score([3.0, 3.0, 3.0], [3.0, 2.0, 3.0]) == 0.0
    assert np.isnan(M.r2([1.0], [2.0]))
    assert np.isnan(sk(skm.r2_score, [1.0], [2.0]))


def test_inputs_tensors_lists_and_column_vectors():
    t = cr.tensor([0, 1, 1, 0])
    p = np.array([[0], [1], [0], [0]])
    assert M.accuracy(t, p) == 0.75
    assert M.mse(cr.tensor([1.0, 2.0]), [1.0, 4.0]) == 2.0
    assert isinstance(M.accuracy([1, 0], [1, 0]), float)
    assert isinstance(M.confusion_matrix([1, 0], [1, 0]), np.ndarray)


def test_shape_errors_and_names():
    with pytest.raises(ShapeError, match="3 samples"):
        M.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ShapeError):
        M.precision(np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(UnknownNameError, match="unknown metric 'accuracyy'; valid names: acc, accuracy, "):
        M.get("accuracyy")
    assert M.get("r2") is M.r2_score and M.get("f1_score") is M.f1


def test_metric_names_resolve_through_the_registry():
    from chainrule import registry

    names = registry.names("metric")
    assert names == ["acc", "accuracy", "accuracy_score", "auc", "f1", "f1_score", "log_loss", "mae",
                     "mean_absolute_error", "mean_squared_error", "mse", "precision", "precision_score", "r2",
                     "r2_score", "recall", "recall_score", "rmse", "roc_auc", "roc_auc_score"]
    for name in names:
        assert M.get(name) is registry.get(name, kind="metric")
    # the first name is the registered one; aliases resolve to the same function
    assert registry.name_of(M.accuracy, kind="metric") == "accuracy" and M.get("acc") is M.accuracy
    assert registry.name_of(M.mean_squared_error, kind="metric") == "mse"
    with pytest.raises(UnknownNameError, match=r"unknown metric \['f1'\]; valid names"):
        M.get(["f1"])  # not a name: the same typed error, never a TypeError from a dict


# ---- probabilities from outputs ---------------------------------------------------------------------


def test_softmax_log_softmax_and_sigmoid_on_arrays_keep_the_dtype():
    special = pytest.importorskip("scipy.special")
    rng = np.random.default_rng(0)
    z64 = rng.standard_normal((6, 4)) * 10
    z32 = z64.astype(np.float32)
    for z in (z64, z32):
        p = M.softmax(z, axis=1)
        assert p.dtype == z.dtype and isinstance(p, np.ndarray)
        rtol = 1e-12 if z.dtype == np.float64 else 1e-5
        np.testing.assert_allclose(p, special.softmax(z.astype(np.float64), axis=1), rtol=rtol)
        np.testing.assert_allclose(M.log_softmax(z, axis=1), special.log_softmax(z.astype(np.float64), axis=1),
                                   rtol=rtol, atol=rtol)
        np.testing.assert_allclose(M.sigmoid(z), special.expit(z.astype(np.float64)), rtol=rtol)
        assert M.log_softmax(z).dtype == M.sigmoid(z).dtype == z.dtype
    # the same numbers as the primitive that chainrule.functional.softmax runs (one softmax in the library)
    t = cr.tensor(z64, dtype=cr.float64)
    np.testing.assert_array_equal(M.softmax(z64, axis=0), cr.functional.softmax(t, axis=0).numpy())
    assert np.array_equal(M.softmax(cr.tensor(z32)), cr.functional.softmax(cr.tensor(z32)).numpy())
    assert M.softmax([[0, 0]]).tolist() == [[0.5, 0.5]] and M.softmax([[0, 0]]).dtype == np.float64
    assert np.isfinite(M.log_softmax(np.array([[0.0, 1e4]]))).all() and M.sigmoid(np.array([-1e4]))[0] >= 0
    assert z64.min() < 0 and not np.shares_memory(M.softmax(z64), z64)  # the input is left alone
