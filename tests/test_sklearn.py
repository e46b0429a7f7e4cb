"""``chainrule.sklearn``: scikit-learn's estimator checks, pipelines, grid search, reproducibility, and
accuracy on digits against ``MLPClassifier`` (times are printed, never asserted)."""

import importlib
import sys
import time
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.compose import TransformedTargetRegressor  # noqa: E402
from sklearn.datasets import load_diabetes, load_digits, load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.errors import ChainruleError  # noqa: E402
from chainrule.sklearn import NeuralNetClassifier, NeuralNetRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# Few epochs keep the checks' many small fits fast; still enough for their accuracy thresholds
# (check_classifiers_train wants > 0.83 accuracy, check_regressors_train R^2 > 0.5).
@parametrize_with_checks([NeuralNetClassifier(max_epochs=20), NeuralNetRegressor(max_epochs=20, batch_size=32)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


# ---- the estimator API ----------------------------------------------------------------------------------


def test_get_set_params_and_clone():
    clf = NeuralNetClassifier(hidden_layer_sizes=(8, 4), learning_rate=0.01)
    params = clf.get_params()
    assert params["hidden_layer_sizes"] == (8, 4) and params["learning_rate"] == 0.01
    assert params["batch_size"] == "auto" and params["optimizer"] == "adam" and params["max_epochs"] == 200
    assert clf.set_params(activation="tanh", dropout=0.1) is clf
    assert clf.activation == "tanh" and clf.dropout == 0.1
    twin = clone(clf)
    assert twin is not clf and twin.get_params() == clf.get_params()
    with pytest.raises(ValueError, match="Invalid parameter"):
        clf.set_params(no_such_parameter=1)


def test_learned_attributes(iris):
    X_train, X_test, y_train, y_test = iris
    clf = NeuralNetClassifier(hidden_layer_sizes=(16,), max_epochs=300, random_state=0).fit(X_train, y_train)
    assert list(clf.classes_) == [0, 1, 2] and clf.n_features_in_ == 4
    assert isinstance(clf.model_, cr.nn.Sequential)
    assert [type(m).__name__ for m in clf.model_] == ["Linear", "ReLU", "Linear"]
    assert clf.model_[0].weight.shape == (16, 4) and clf.model_[2].weight.shape == (3, 16)
    assert len(clf.loss_curve_) == clf.n_iter_ <= 300
    assert clf.best_loss_ == min(clf.loss_curve_) and clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X_test)), proba, rtol=1e-10)
    np.testing.assert_array_equal(clf.predict(X_test), clf.classes_[proba.argmax(axis=1)])
    assert all(p.grad is None for p in clf.model_.parameters())  # a fitted estimator holds only weights


def test_string_labels_binary_and_float32(iris):
    X_train, X_test, y_train, y_test = iris
    names = np.array(["setosa", "versicolor", "virginica"])
    keep = y_train > 0
    clf = NeuralNetClassifier(hidden_layer_sizes=(16,), random_state=0)
    clf.fit(X_train[keep].astype(np.float32), names[y_train[keep]])
    assert list(clf.classes_) == ["versicolor", "virginica"]
    assert clf.predict_proba(X_test).shape == (len(X_test), 2)
    assert set(clf.predict(X_test)) <= {"versicolor", "virginica"}


def test_model_is_a_chainrule_module_that_saves_and_loads(iris, tmp_path):
    X_train, X_test, y_train, _ = iris
    clf = NeuralNetClassifier(hidden_layer_sizes=(8, 8), activation="tanh", dropout=0.2, random_state=0)
    clf.fit(X_train, y_train)
    cr.save(clf.model_, tmp_path / "net.crm")
    loaded = cr.load(tmp_path / "net.crm")
    loaded.eval()
    with cr.no_grad():
        logits = loaded(cr.tensor(X_test.astype(np.float32))).numpy()
    np.testing.assert_array_equal(clf.classes_[logits.argmax(axis=1)], clf.predict(X_test))


@pytest.mark.parametrize("optimizer", ["sgd", "adamw", "rmsprop", cr.optim.Adam])
def test_other_optimizers_and_activations(iris, optimizer):
    X_train, X_test, y_train, y_test = iris
    clf = make_pipeline(
        StandardScaler(),
        NeuralNetClassifier(
            hidden_layer_sizes=(16,), activation="logistic", optimizer=optimizer, learning_rate=0.05,
            weight_decay=1e-4, batch_size=16, max_epochs=100, random_state=0,
        ),
    )
    assert clf.fit(X_train, y_train).score(X_test, y_test) > 0.8


@pytest.mark.parametrize(
    "params, message",
    [
        ({"activation": "nope"}, "activation 'nope' is not known.*valid names"),
        ({"activation": "linear"}, "'linear' is not an activation"),
        ({"activation": "mse"}, "'mse' is not an activation.*valid names: elu, gelu, hardtanh, identity"),
        ({"activation": "sequential"}, "'sequential' is not an activation"),
        ({"activation": cr.nn.ReLU()}, "activation must be a registered activation name or a Module class"),
        ({"optimizer": "nope"}, "optimizer 'nope' is not known.*valid names"),
        ({"hidden_layer_sizes": (4, 0)}, "hidden_layer_sizes"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": "big"}, "batch_size"),
        ({"dropout": 1.0}, "dropout"),
        ({"learning_rate": -1}, "learning_rate"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
    ],
)
def test_bad_arguments_raise_in_fit(iris, params, message):
    X_train, _, y_train, _ = iris
    clf = NeuralNetClassifier(**params)  # constructors only store their arguments
    with pytest.raises(ValueError, match=message):
        clf.fit(X_train, y_train)


def test_convergence_warning_when_max_epochs_is_reached(iris):
    X_train, _, y_train, _ = iris
    with pytest.warns(ConvergenceWarning, match="max_epochs=2"):
        NeuralNetClassifier(max_epochs=2, random_state=0).fit(X_train, y_train)


def test_verbose_prints_the_loss(iris, capsys):
    X_train, _, y_train, _ = iris
    NeuralNetClassifier(max_epochs=3, verbose=True, random_state=0).fit(X_train, y_train)
    assert capsys.readouterr().out.count("loss = ") == 3


def test_verbose_early_stopping_prints_scores_and_why_it_stopped(iris, capsys):
    X_train, _, y_train, _ = iris
    clf = NeuralNetClassifier((8,), early_stopping=True, n_iter_no_change=2, tol=2.0, verbose=True, random_state=0)
    clf.fit(X_train, y_train)
    out = capsys.readouterr().out
    # the first epoch improves on nothing; no accuracy can improve on it by 2: stopped after 2 + 1 more epochs
    assert out.count("validation score = ") == clf.n_iter_ == 4
    assert out.rstrip().endswith("Validation score did not improve more than tol=2.0 for 2 consecutive epochs. "
                                 "Stopping.")


def test_fit_is_the_trainer_with_the_sklearn_stopping_rule(iris, monkeypatch):
    from chainrule.train import NoImprovementStopping, Trainer

    X_train, _, y_train, _ = iris
    runs = []
    fit = Trainer.fit

    def spy(self, *args, **kwargs):
        runs.append(self)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "fit", spy)
    clf = NeuralNetClassifier((8,), early_stopping=True, max_epochs=30, random_state=0).fit(X_train, y_train)
    (trainer,) = runs
    assert trainer.model is clf.model_ and isinstance(trainer.loss, cr.nn.CrossEntropyLoss)
    (stopper,) = [c for c in trainer.callbacks if isinstance(c, NoImprovementStopping)]
    assert (stopper.monitor, stopper.mode, stopper.tol, stopper.n_iter_no_change) == ("val_accuracy", "max", 1e-4, 10)
    assert clf.validation_scores_ == trainer.history.history["val_accuracy"]
    assert clf.loss_curve_ == trainer.history.history["loss"] and clf.best_validation_score_ == stopper.best
    assert clf.n_iter_ == len(trainer.history.epoch)


def test_the_network_is_nn_mlp(iris):
    X_train, _, y_train, _ = iris
    clf = NeuralNetClassifier((8, 6), activation=cr.nn.GELU, dropout=0.1, max_epochs=1, random_state=0)
    clf.fit(X_train, y_train)
    generator, _, dropout_seed, _ = clf._seeds()
    fresh = cr.nn.mlp(4, (8, 6), 3, activation=cr.nn.GELU, dropout=0.1, generator=generator, dropout_seed=dropout_seed)
    assert repr(fresh) == repr(clf.model_)
    assert [type(m).__name__ for m in clf.model_] == ["Linear", "GELU", "Dropout"] * 2 + ["Linear"]


def test_predictions_come_in_the_dtype_of_x(iris):
    """float32 X gives float32 results (what the network computes), float64 X float64 ones, as MLPClassifier and
    MLPRegressor: scikit-learn's checks then compare float32 results at float32 tolerance, and a float64 X
    still gets float64 predictions (check_regressor_multioutput asks for them)."""
    X_train, X_test, y_train, y_test = iris
    clf = NeuralNetClassifier((8,), max_epochs=20, random_state=0).fit(X_train, y_train)
    X32 = X_test.astype(np.float32)
    for X, dtype in ((X32, np.float32), (X_test, np.float64), (X_test.astype(int), np.float64)):
        proba = clf.predict_proba(X)
        assert proba.dtype == clf.predict_log_proba(X).dtype == dtype
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=4 * np.finfo(dtype).eps)
    p32, p64 = clf.predict_proba(X32), clf.predict_proba(X_test)
    np.testing.assert_allclose(p32, p64, rtol=1e-5, atol=1e-7)  # the same network's logits
    np.testing.assert_array_equal(clf.predict(X32), clf.predict(X_test))
    reg = NeuralNetRegressor((8,), max_epochs=5, random_state=0).fit(X_train, X_train[:, 0])
    assert reg.predict(X32).dtype == np.float32 and reg.predict(X_test).dtype == np.float64
    np.testing.assert_allclose(reg.predict(X32), reg.predict(X_test), rtol=1e-5, atol=1e-6)  # float64 X: a float64 copy


def test_missing_sklearn_gives_a_chainrule_error(monkeypatch):
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.setitem(sys.modules, name, None)  # makes `import sklearn...` fail
    monkeypatch.delitem(sys.modules, "chainrule.sklearn")  # restored (the original module) afterwards
    with pytest.raises(ChainruleError, match="pip install scikit-learn") as info:
        importlib.import_module("chainrule.sklearn")
    assert isinstance(info.value, ImportError)


# ---- reproducibility ------------------------------------------------------------------------------------


def test_same_random_state_same_network(iris):
    X_train, X_test, y_train, _ = iris
    make = lambda seed: NeuralNetClassifier((16,), dropout=0.2, batch_size=16, max_epochs=30, random_state=seed)  # noqa: E731
    cr.manual_seed(1)
    a = make(3).fit(X_train, y_train)
    cr.manual_seed(2)  # chainrule's default generator plays no part when random_state is given
    b = make(3).fit(X_train, y_train)
    c = make(4).fit(X_train, y_train)
    assert a.loss_curve_ == b.loss_curve_
    np.testing.assert_array_equal(a.predict_proba(X_test), b.predict_proba(X_test))
    for (k, wa), wb in zip(a.model_.state_dict().items(), b.model_.state_dict().values()):
        np.testing.assert_array_equal(wa, wb, err_msg=k)
    assert a.loss_curve_ != c.loss_curve_
    # numpy RandomState instances work too (used, as in scikit-learn, to draw the seed)
    d = make(np.random.RandomState(3)).fit(X_train, y_train)
    e = make(np.random.RandomState(3)).fit(X_train, y_train)
    assert d.loss_curve_ == e.loss_curve_


def test_random_state_none_follows_cr_manual_seed(iris):
    X_train, _, y_train, _ = iris
    curves = []
    for _ in range(2):
        cr.manual_seed(123)
        curves.append(NeuralNetClassifier((8,), max_epochs=5).fit(X_train, y_train).loss_curve_)
    assert curves[0] == curves[1]


# ---- early stopping ------------------------------------------------------------------------------------


def test_early_stopping_keeps_the_best_epoch(digits):
    X_train, X_test, y_train, y_test = digits
    clf = NeuralNetClassifier(early_stopping=True, n_iter_no_change=5, random_state=0).fit(X_train, y_train)
    assert len(clf.validation_scores_) == clf.n_iter_ == len(clf.loss_curve_) < 200
    assert clf.best_validation_score_ == max(clf.validation_scores_) > 0.9
    assert clf.score(X_test, y_test) > 0.93
    # the kept weights are those of the best epoch: its validation score is reproduced
    X_fit, X_val, y_fit, y_val = train_test_split(
        X_train.astype(np.float32), y_train, test_size=0.1, random_state=clf._seeds()[3], stratify=y_train
    )
    assert clf.score(X_val, y_val) == clf.best_validation_score_


def test_regressor_early_stopping_and_multioutput():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    Y = np.stack([X[:, 0] - 2 * X[:, 1], np.sin(X[:, 2])], axis=1)
    reg = NeuralNetRegressor((32,), learning_rate=0.01, early_stopping=True, random_state=0).fit(X, Y)
    assert reg.n_outputs_ == 2 and reg.predict(X).shape == (300, 2)
    assert reg.best_validation_score_ > 0.8 and reg.score(X, Y) > 0.8
    reg1 = NeuralNetRegressor((32,), learning_rate=0.01, random_state=0).fit(X, Y[:, 0])
    assert reg1.predict(X).shape == (300,)


# ---- scikit-learn tools --------------------------------------------------------------------------------


def test_pipeline_and_grid_search(iris):
    X_train, X_test, y_train, y_test = iris
    pipe = make_pipeline(StandardScaler(), NeuralNetClassifier(max_epochs=100, random_state=0))
    grid = GridSearchCV(
        pipe,
        {"neuralnetclassifier__hidden_layer_sizes": [(8,), (32,)], "neuralnetclassifier__learning_rate": [1e-3, 1e-2]},
        cv=3,
    )
    grid.fit(X_train, y_train)
    assert grid.best_params_["neuralnetclassifier__hidden_layer_sizes"] in [(8,), (32,)]
    assert len(grid.cv_results_["mean_test_score"]) == 4
    assert grid.best_estimator_[-1].n_features_in_ == 4
    assert grid.score(X_test, y_test) > 0.85


def test_grid_search_in_worker_processes(iris):
    X_train, _, y_train, _ = iris
    grid = GridSearchCV(NeuralNetClassifier(max_epochs=20, random_state=0), {"activation": ["relu", "tanh"]},
                        cv=2, n_jobs=2)
    grid.fit(X_train, y_train)  # the estimators are pickled to joblib's worker processes and back
    assert grid.best_params_["activation"] in ("relu", "tanh")


def test_digits_matches_mlpclassifier(digits):
    """Default settings on both sides; accuracy asserted, wall times only printed."""
    X_train, X_test, y_train, y_test = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        mlp = MLPClassifier(random_state=0).fit(X_train, y_train)
        sk_time = time.perf_counter() - start
        start = time.perf_counter()
        net = NeuralNetClassifier(random_state=0).fit(X_train, y_train)
        cr_time = time.perf_counter() - start
    sk_acc, cr_acc = mlp.score(X_test, y_test), net.score(X_test, y_test)
    print(
        f"\ndigits: MLPClassifier accuracy {sk_acc:.4f} in {sk_time:.3f} s ({mlp.n_iter_} epochs); "
        f"chainrule NeuralNetClassifier accuracy {cr_acc:.4f} in {cr_time:.3f} s ({net.n_iter_} epochs)"
    )
    assert cr_acc >= sk_acc - 0.01


def test_diabetes_regression():
    """Inputs and targets scaled, and L2 weight decay: 331 samples overfit 100 hidden units (MLPRegressor's
    defaults get test R^2 0.22-0.29 on this split; with weight_decay=0.1 chainrule gets 0.37 for seeds 0-5)."""
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    model = make_pipeline(
        StandardScaler(),
        TransformedTargetRegressor(
            NeuralNetRegressor(weight_decay=0.1, random_state=0), transformer=StandardScaler()
        ),
    )
    r2 = model.fit(X_train, y_train).score(X_test, y_test)
    print(f"\ndiabetes: NeuralNetRegressor test R^2 {r2:.3f}")
    assert r2 > 0.3


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Estimator", [NeuralNetRegressor, NeuralNetClassifier])
def test_a_rows_prediction_does_not_depend_on_its_batch(Estimator):
    # float64 X is predicted by a float64 copy of the network: a row alone, in a slice or in the whole
    # batch agrees to float64 rounding (in float32, OpenBLAS's kernels chosen by batch size differ by ulps)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 7)) * 3
    y = X @ rng.standard_normal(7) if Estimator is NeuralNetRegressor else (X[:, 0] > 0).astype(int)
    est = Estimator(hidden_layer_sizes=(64, 32), max_epochs=3, random_state=0).fit(X, y)
    predict = est.predict if Estimator is NeuralNetRegressor else est.predict_proba
    full = predict(X)
    assert full.dtype == np.float64
    for rows in (slice(0, 1), slice(5, 6), slice(0, 17), slice(100, 300)):
        np.testing.assert_allclose(predict(X[rows]), full[rows], rtol=1e-13, atol=1e-13)
    assert predict(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(predict(X.astype(np.float32)), full, rtol=1e-5, atol=1e-5)
