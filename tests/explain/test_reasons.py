"""Reason codes: at most k, only adverse contributions, largest first, deterministic, each naming a column."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.errors import ArgumentError
from chainrule.explain import Explanation
from chainrule.explain.reasons import near_cutoff_background, reasons


def _explanation():
    values = np.array([[0.30, -0.10, 0.05, -0.40, 0.30, 0.0, 0.20, 0.10],
                       [-0.1, -0.2, -0.3, -0.4, -0.5, -0.6, -0.7, -0.8]])
    names = ["checking_account", "duration_months", "purpose", "savings", "age", "job", "housing", "telephone"]
    data = np.array([["< 0 DM", 48.00001, "car (new)", "< 100 DM", 23.0, "skilled", "rent", "none"]] * 2,
                    dtype=object)
    return Explanation(values, names=names, data=data, outputs=[0.8, 0.1], base_values=[0.3, 3.7],
                       method="shapley", info={"baseline": "50 applicants just above the cutoff"})


def test_only_adverse_factors_largest_first_at_most_k():
    r = reasons(_explanation(), k=4, adverse="increase", row=0)
    assert [x.name for x in r] == ["checking_account", "age", "housing", "telephone"]  # ties keep column order
    assert all(x.contribution > 0 for x in r) and len(r) == 4
    assert str(r[0]) == "checking_account = '< 0 DM' (+0.30)"
    r = reasons(_explanation(), k=3, adverse="decrease", row=0)
    assert [x.name for x in r] == ["savings", "duration_months"]  # only two pushed the approval score down
    assert str(r[1]) == "duration_months = 48 (-0.10)"


def test_the_record_says_how_the_reasons_were_found():
    r = reasons(_explanation(), row=0)
    d = r.to_dict()
    assert d["method"] == "shapley" and d["baseline"] == "50 applicants just above the cutoff"
    assert d["output"] == 0.8 and d["base_value"] == 0.3
    assert d["delta"] == pytest.approx(0.45 - 0.5)
    assert [x["name"] for x in d["reasons"]] == ["checking_account", "age", "housing", "telephone"]


def test_every_row_and_the_empty_case():
    rows = reasons(_explanation())
    assert len(rows) == 2 and len(rows[1]) == 0 and "no factor" in str(rows[1])
    assert reasons(_explanation()[0]).row == 0


@pytest.mark.parametrize("kwargs,match", [({"k": 0}, "k must"), ({"adverse": "up"}, "adverse"),
                                          ({"row": 5}, "out of range")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ArgumentError, match=match):
        reasons(_explanation(), **kwargs)


def test_near_cutoff_background_takes_the_approved_rows_closest_to_the_threshold():
    cr.manual_seed(0)
    model = nn.Linear(1, 1)
    with cr.no_grad():
        model.weight.fill_(1.0)
        model.bias.fill_(0.0)
    X = np.linspace(-3, 3, 61, dtype=np.float32)[:, None]  # sigmoid(x) >= 0.5 exactly when x >= 0
    rows = near_cutoff_background(model, X, threshold=0.5, n=5)
    np.testing.assert_allclose(rows[:, 0], [0.0, 0.1, 0.2, 0.3, 0.4], atol=1e-6)
    risk = near_cutoff_background(model, X, threshold=0.5, n=3, approve="below")
    np.testing.assert_allclose(risk[:, 0], [-0.3, -0.2, -0.1], atol=1e-6)
    with pytest.raises(ArgumentError, match="no row"):
        near_cutoff_background(model, X, threshold=1.1)
