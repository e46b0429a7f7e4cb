"""Counterfactuals on the German credit data with a small trained MLP (one logit of P(good), or two logits)."""

import importlib

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import Preprocessor, Table, datasets
from chainrule.errors import ArgumentError

C = importlib.import_module("chainrule.explain.counterfactuals")  # (the package's name counterfactuals is the function)

IMMUTABLE = ["age", "personal_status_sex", "foreign_worker"]
MONOTONE = {"duration_months": "decrease", "existing_credits": "decrease", "residence_since": "increase"}
WORDS = {"good": "approved", "bad": "refused"}


def _train(X, y, out, steps=120, seed=0):
    model = nn.mlp(X.shape[1], [16], out, generator=np.random.default_rng(seed))
    opt = optim.Adam(model.parameters(), lr=0.01)
    xt = cr.tensor(X)
    if out == 1:
        loss_fn, yt = nn.BCEWithLogitsLoss(), cr.tensor(y.astype(np.float32))
    else:
        loss_fn, yt = nn.CrossEntropyLoss(), cr.tensor(y)
    for _ in range(steps):
        opt.zero_grad()
        logits = model(xt)
        loss_fn(logits[:, 0] if out == 1 else logits, yt).backward()
        opt.step()
    return model


@pytest.fixture(scope="module")
def credit():
    table = datasets.german_credit()
    pre = Preprocessor(target="credit_risk")
    X, y = pre.fit_transform(table)
    assert pre.classes_ == ["bad", "good"]  # y = 1 means 'good': the logit is that of P(good)
    model = _train(X, y, 1)
    with cr.no_grad():
        p = model(cr.tensor(X))[:, 0].sigmoid().numpy()
    refused = np.flatnonzero(p < 0.5)
    assert refused.size > 20
    return table, pre, X, y, model, refused


def _row(table, i):
    return {c: (None if v is None else v) for c, v in ((c, table[c][i]) for c in table.columns) if c != "credit_risk"}


def _prob(model, pre, row):
    names = [s["name"] for s in pre.columns_]
    x = pre.transform_features(Table({k: [row[k]] for k in names}))
    with cr.no_grad():
        return float(model(cr.tensor(x))[:, 0].sigmoid().numpy()[0]), x


def test_every_counterfactual_flips_and_keeps_the_rules(credit):
    table, pre, X, _, model, refused = credit
    groups = pre.feature_groups()
    specs = {s["name"]: s for s in pre.columns_}
    found = 0
    for i in refused[:6]:
        row = _row(table, int(i))
        res = C.counterfactuals(model, row, pre, data=table, immutable=IMMUTABLE, monotone=MONOTONE, max_changes=3,
                                n=3, outcome_names=WORDS)
        assert res.decision == "bad" and res.desired == "good" and res.score < 0.5
        assert len(res) <= 3
        found += len(res)
        sets = [frozenset(cf.changes) for cf in res]
        assert len(set(sets)) == len(sets)  # different column sets
        for cf in res:
            p, x = _prob(model, pre, cf.row)  # re-run the model on the transformed row
            assert p >= 0.5 and cf.decision == "good"
            assert cf.probability == pytest.approx(p, abs=1e-6) and cf.score == pytest.approx(p, abs=1e-6)
            assert 1 <= len(cf.changes) <= 3
            for k, v in cf.row.items():  # only the changed columns differ
                assert (k in cf.changes) == (v != row[k]), k
            for k in IMMUTABLE:
                assert cf.row[k] == row[k]
            for k, (old, new) in cf.changes.items():
                assert old == row[k] and new == cf.row[k]
                if k in MONOTONE:
                    assert new < old if MONOTONE[k] == "decrease" else new > old
            for k, spec in specs.items():
                if spec["kind"] == "numeric":
                    col = table[k]
                    assert col.min() <= cf.row[k] <= col.max()
                    assert isinstance(cf.row[k], int)  # every numeric German credit column holds integers
                else:
                    assert cf.row[k] in spec["categories"]
                    assert x[0, groups[k]].sum() == 1.0  # one category per group
            assert cf.sentence.startswith("approved if ")
            for k, (old, new) in cf.changes.items():
                was, now = (repr(v) if isinstance(v, str) else str(v) for v in (old, new))
                assert f"{k} were {now} instead of {was}" in cf.sentence
            assert str(cf) == cf.sentence
        assert "found" in res.message
    assert found >= 6


def test_sparse_and_minimal(credit):
    table, pre, X, _, model, _ = credit
    with cr.no_grad():
        p = model(cr.tensor(X))[:, 0].sigmoid().numpy()
    row = _row(table, int(np.argmin(p)))  # the applicant furthest from approval: no single change suffices
    res = C.counterfactuals(model, row, pre, data=table, max_changes=2, n=4)
    assert len(res) == 4 and all(len(cf.changes) == 2 for cf in res)
    for cf in res:
        assert len(cf.changes) <= 2
        if len(cf.changes) > 1:  # no change is superfluous: dropping any one of them loses the flip
            for k in cf.changes:
                p, _ = _prob(model, pre, {**cf.row, k: row[k]})
                assert p < 0.5
    dists = [(len(cf.changes), cf.distance) for cf in res]
    assert dists == sorted(dists, key=lambda t: t[0])


def test_sentence_default_words_and_to_dict(credit):
    table, pre, _, _, model, refused = credit
    row = _row(table, int(refused[1]))
    res = C.counterfactuals(model, row, pre, data=table, n=1)
    assert len(res) == 1
    cf = res[0]
    assert cf.sentence.startswith("classed 'good' if ")
    d = res.to_dict()
    assert d["decision"] == "bad" and d["desired"] == "good" and len(d["counterfactuals"]) == 1
    assert str(res) == "1. " + cf.sentence


def test_deterministic_and_row_forms_agree(credit):
    table, pre, X, _, model, refused = credit
    i = int(refused[2])
    kw = dict(immutable=IMMUTABLE, n=3, seed=3)
    a = C.counterfactuals(model, _row(table, i), pre, data=table, **kw).to_dict()
    b = C.counterfactuals(model, _row(table, i), pre, data=table, **kw).to_dict()
    assert a == b
    c = C.counterfactuals(model, i, pre, data=table, **kw).to_dict()  # an index into data
    assert c == a
    d = C.counterfactuals(model, table.select([i]), pre, data=table, **kw).to_dict()  # a one-row table
    assert d == a
    e = C.counterfactuals(model, i, pre, data=X, **kw)  # the training matrix as data
    assert len(e) >= 1 and all(_prob(model, pre, cf.row)[0] >= 0.5 for cf in e)


def test_desired_already_and_other_direction(credit):
    table, pre, X, _, model, refused = credit
    with cr.no_grad():
        p = model(cr.tensor(X))[:, 0].sigmoid().numpy()
    approved = int(np.flatnonzero(p >= 0.5)[0])
    res = C.counterfactuals(model, _row(table, approved), pre, data=table, desired="good")
    assert len(res) == 0 and "already 'good'" in res.message
    res = C.counterfactuals(model, _row(table, approved), pre, data=table, n=2)  # default: the other class
    assert res.desired == "bad"
    for cf in res:
        assert _prob(model, pre, cf.row)[0] < 0.5


def test_none_found_says_so(credit):
    table, pre, _, _, model, refused = credit
    row = _row(table, int(refused[0]))
    every = [s["name"] for s in pre.columns_]
    res = C.counterfactuals(model, row, pre, data=table, immutable=every)
    assert len(res) == 0 and not list(res)
    assert "no counterfactual found" in res.message and "immutable" in res.message
    assert str(res) == res.message
    res = C.counterfactuals(model, row, pre, data=table, budget=1)  # the applicant's own evaluation only
    assert len(res) == 0 and "within the budget of 1 model evaluations" in res.message


def test_two_logit_model(credit):
    table, pre, X, y, _, _ = credit
    model = _train(X, y, 2)
    with cr.no_grad():
        pred = model(cr.tensor(X)).numpy().argmax(axis=1)
    i = int(np.flatnonzero(pred == 0)[0])
    res = C.counterfactuals(model, _row(table, i), pre, data=table, desired="good", n=2,
                            outcome_names=["refused", "approved"])
    assert res.decision == "bad" and len(res) >= 1
    names = [s["name"] for s in pre.columns_]
    for cf in res:
        x = pre.transform_features(Table({k: [cf.row[k]] for k in names}))
        with cr.no_grad():
            out = model(cr.tensor(x)).softmax(dim=1).numpy()[0]
        assert out.argmax() == 1 and cf.probability == pytest.approx(out[1], abs=1e-6)
        assert cf.sentence.startswith("approved if ")


def test_bad_input(credit):
    table, pre, _, _, model, refused = credit
    row = _row(table, int(refused[0]))

    def cf(**kw):
        return C.counterfactuals(model, row, pre, **{"data": table, **kw})

    with pytest.raises(ArgumentError, match="immutable names column 'height'"):
        cf(immutable=["age", "height"])
    with pytest.raises(ArgumentError, match="monotone names column 'weight'"):
        cf(monotone={"weight": "increase"})
    with pytest.raises(ArgumentError, match=r"monotone\['age'\] must be 'increase' or 'decrease', got 'up'"):
        cf(monotone={"age": "up"})
    with pytest.raises(ArgumentError, match="monotone column 'savings' is categorical"):
        cf(monotone={"savings": "increase"})
    with pytest.raises(ArgumentError, match="desired must be one of the decisions.*'great'"):
        cf(desired="great")
    with pytest.raises(ArgumentError, match="max_changes must be an int >= 1, got 0"):
        cf(max_changes=0)
    with pytest.raises(ArgumentError, match="give data="):
        C.counterfactuals(model, row, pre)
    with pytest.raises(ArgumentError, match="no value for column 'age'"):
        C.counterfactuals(model, {k: v for k, v in row.items() if k != "age"}, pre, data=table)
    with pytest.raises(ArgumentError, match="column 'colour', which the Preprocessor does not know"):
        C.counterfactuals(model, {**row, "colour": "red"}, pre, data=table)
    with pytest.raises(ArgumentError, match="row 5000 is out of range"):
        C.counterfactuals(model, 5000, pre, data=table)
    with pytest.raises(ArgumentError, match="outcome_names names decision 'ok'"):
        cf(outcome_names={"ok": "approved"})
