"""Sanity checks (cascading randomisation, deletion and insertion) with gradient saliency on a German-credit MLP."""

import numpy as np
import pytest
from scipy import stats

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import Preprocessor, datasets
from chainrule.errors import ArgumentError, ArgumentTypeError, ShapeError
from chainrule.explain import _core
from chainrule.explain import sanity as S


def saliency(model, X, target=None, output=None, groups=None):
    """Plain gradient of the explained output (summed within groups)."""
    X = _core.as_inputs(X, "saliency")
    out, g = _core.gradient(model, X, target, output, "saliency")
    g = _core.resolve_groups(groups, X.shape[1], "saliency").sum(g)
    return _core.Explanation(g, outputs=out, method="saliency")


def input_x_gradient(model, X, target=None, output=None, groups=None):
    X = _core.as_inputs(X, "input_x_gradient")
    out, g = _core.gradient(model, X, target, output, "input_x_gradient")
    values = _core.resolve_groups(groups, X.shape[1], "input_x_gradient").sum(g * X)
    return _core.Explanation(values, outputs=out, method="input_x_gradient")


def the_inputs(model, X, target=None, output=None):
    """An 'explanation' that ignores the model: it must fail the randomisation test."""
    return _core.Explanation(np.asarray(X, dtype=np.float64), method="the_inputs")


@pytest.fixture(scope="module")
def credit():
    table = datasets.german_credit()
    pre = Preprocessor(target="credit_risk")
    X, y = pre.fit_transform(table)
    model = nn.mlp(X.shape[1], [32, 16], 1, generator=np.random.default_rng(0))
    opt = optim.Adam(model.parameters(), lr=0.01)
    xt, yt = cr.tensor(X), cr.tensor(y.astype(np.float32))
    for _ in range(150):
        opt.zero_grad()
        nn.BCEWithLogitsLoss()(model(xt)[:, 0], yt).backward()
        opt.step()
    return pre, X, model


def _state(model):
    return {k: np.array(v, copy=True) for k, v in model.state_dict().items()}


def test_spearman_matches_scipy():
    rng = np.random.default_rng(0)
    a = rng.integers(-3, 4, size=(6, 9)).astype(float)  # many ties
    b = a + rng.normal(size=a.shape)
    b[2] = rng.integers(0, 2, size=9)
    ours = S.spearman(a, b)
    for i in range(a.shape[0]):
        assert ours[i] == pytest.approx(stats.spearmanr(np.abs(a[i]), np.abs(b[i])).statistic, abs=1e-12)
    signed = S.spearman(a, b, signed=True)
    for i in range(a.shape[0]):
        assert signed[i] == pytest.approx(stats.spearmanr(a[i], b[i]).statistic, abs=1e-12)
    c = a.copy()
    c[1] = 5.0  # constant: no ranking
    assert S.spearman(a, c)[1] == 0.0


def test_cascading_randomisation_of_gradients(credit):
    _, X, model = credit
    model.train()
    before = _state(model)
    res = S.sanity_check(model, X, saliency, n_rows=100)
    r = res["randomisation"]
    assert r["layers"] == ["4", "2", "0"]  # top layer first, cumulatively
    assert len(r["correlation"]) == 3 and all(-1 <= c <= 1 for c in r["correlation"])
    assert r["final"] == r["correlation"][-1] == pytest.approx(r["final_rows"].mean())
    assert r["final_rows"].shape == (100,) and len(res.rows) == 100
    assert r["final"] < 0.5 and r["passed"]
    after = _state(model)  # the original model is untouched, and keeps its mode
    assert before.keys() == after.keys() and all(np.array_equal(before[k], after[k]) for k in before)
    assert model.training
    assert res.randomisation is r and "randomisation" in str(res)


def test_a_method_that_ignores_the_model_fails(credit):
    _, X, model = credit
    res = S.sanity_check(model, X[:40], the_inputs, n_rows=40)
    assert res["randomisation"]["final"] == pytest.approx(1.0) and not res["randomisation"]["passed"]
    assert not res.passed and "FAILED" in str(res)


def test_deletion_and_insertion_beat_random(credit):
    _, X, model = credit
    res = S.sanity_check(model, X, input_x_gradient, n_rows=100, seed=1)
    d, i = res["deletion"], res["insertion"]
    m = X.shape[1]
    assert d["fractions"].shape == (m + 1,) and d["fractions"][0] == 0 and d["fractions"][-1] == 1
    for c in (d, i):
        assert np.all(np.isfinite(c["attribution"])) and np.all(np.isfinite(c["random"]))
        assert np.isfinite(c["auc_attribution"]) and np.isfinite(c["auc_random"])
    rows = X[res.rows]
    full = _core.forward(model, rows).mean()
    zero = _core.forward(model, np.zeros_like(rows)).mean()
    for order in ("attribution", "random"):  # both orders start and end at the same two points
        assert d[order][0] == pytest.approx(full, abs=1e-6) and d[order][-1] == pytest.approx(zero, abs=1e-6)
        assert i[order][0] == pytest.approx(zero, abs=1e-6) and i[order][-1] == pytest.approx(full, abs=1e-6)
    assert d["auc_attribution"] < d["auc_random"] and d["passed"]
    assert i["auc_attribution"] > i["auc_random"] and i["passed"]


def test_groups_and_probability(credit):
    pre, X, model = credit
    res = S.sanity_check(model, X, input_x_gradient, n_rows=50, groups=pre, output="probability")
    d = res["deletion"]
    assert d["fractions"].shape == (len(pre.columns_) + 1,)  # one step per CSV column
    assert np.all((d["attribution"] >= 0) & (d["attribution"] <= 1))
    assert d["passed"] and res["insertion"]["passed"]


def test_layers_and_curve_points(credit):
    _, X, model = credit
    res = S.sanity_check(model, X[:30], saliency, layers=["2", "4"], curve_points=11)
    assert res["randomisation"]["layers"] == ["4", "2"]
    assert res["deletion"]["fractions"].shape == (11,)
    again = S.sanity_check(model, X[:30], saliency, layers=["2", "4"], curve_points=11)
    assert again["randomisation"]["correlation"] == res["randomisation"]["correlation"]  # seeded


def test_bad_input(credit):
    _, X, model = credit
    with pytest.raises(ArgumentError, match="no layer '7' with parameters; the layers are"):
        S.sanity_check(model, X[:10], saliency, layers=["7"])
    with pytest.raises(ArgumentError, match="metric must be one of"):
        S.sanity_check(model, X[:10], saliency, metric="kendall")
    with pytest.raises(ArgumentTypeError, match="needs a chainrule Module"):
        S.sanity_check(lambda x: x.sum(dim=1), X[:10], saliency)
    with pytest.raises(ArgumentTypeError, match="must return an Explanation"):
        S.sanity_check(model, X[:10], lambda m, x, target=None: x)
    with pytest.raises(ShapeError, match="3 values per row for inputs of 61 features"):
        S.sanity_check(model, X[:10], lambda m, x, target=None: _core.Explanation(np.zeros((len(x), 3))))
    with pytest.raises(ArgumentError, match="n_rows must be an int >= 1, got 0"):
        S.sanity_check(model, X[:10], saliency, n_rows=0)
    with pytest.raises(ArgumentError, match="no parameters to randomise"):
        S.sanity_check(nn.Sequential(nn.ReLU()), X[:10], saliency)


def test_with_the_library_gradient_methods(credit):
    from chainrule.explain import gradients as G

    _, X, model = credit
    res = S.sanity_check(model, X, G.saliency, n_rows=100)
    assert res["randomisation"]["final"] < 0.5 and res["randomisation"]["passed"]
    res = S.sanity_check(model, X, G.input_x_gradient, n_rows=100)
    assert res["deletion"]["passed"] and res["insertion"]["passed"]
