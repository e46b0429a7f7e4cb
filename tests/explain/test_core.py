"""What the explanation methods share: Explanation (delta, rows, JSON, frames, plots), groups, baselines, targets."""

import json

import matplotlib
import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.data import Preprocessor, datasets
from chainrule.errors import ArgumentError, ShapeError
from chainrule.explain import Explanation, _core, integrated_gradients, saliency

matplotlib.use("Agg")


def _e():
    return Explanation([[0.2, -0.1, 0.4], [0.0, 0.3, -0.2]], names=["a", "b", "c"],
                       data=np.array([[1.0, "x", 3], [2.0, "y", 4]], dtype=object), outputs=[0.9, 0.4],
                       base_values=[0.4, 0.3], method="test", info={"n_steps": 50})


def test_delta_rows_and_json():
    e = _e()
    np.testing.assert_allclose(e.delta, [0.5 - 0.5, 0.1 - 0.1], atol=1e-15)
    one = e[1]
    assert len(one) == 1 and one.values.shape == (1, 3) and one.outputs.tolist() == [0.4]
    d = json.loads(json.dumps(e.to_dict()))
    assert d["names"] == ["a", "b", "c"] and d["data"][0][1] == "x" and d["info"]["n_steps"] == 50
    assert e.ranked(0)[0] == ("c", 0.4, 3)
    frame = e.to_frame()
    assert list(frame.columns) == ["a", "b", "c"] and frame.shape == (2, 3)
    assert "max |delta|" in repr(e)


def test_plots_draw_bars_heat_maps_and_dots():
    e = _e()
    ax = e.plot(0)
    assert len(ax.patches) == 3 and "row 0" in ax.get_title()
    ax = e.plot_summary()
    assert len(ax.collections) == 3
    image = Explanation(np.random.default_rng(0).standard_normal((2, 1, 5, 5)), method="saliency")
    ax = image.plot(1)
    assert ax.images and ax.images[0].get_array().shape == (5, 5)


def test_groups_from_a_preprocessor_a_dict_and_leftovers():
    table = datasets.german_credit()
    pre = Preprocessor(target="credit_risk")
    X, _ = pre.fit_transform(table)
    g = _core.resolve_groups(pre, X.shape[1], "t")
    assert g.names == [c for c in table.columns if c != "credit_risk"] and not g.trivial
    values = np.arange(2 * X.shape[1], dtype=float).reshape(2, -1)
    np.testing.assert_allclose(g.sum(values).sum(axis=1), values.sum(axis=1))
    g = _core.resolve_groups({"pair": [0, 2]}, 4, "t", names=["w", "x", "y", "z"])
    assert g.names == ["pair", "x", "z"] and [c.tolist() for c in g.columns] == [[0, 2], [1], [3]]
    assert g.mask(np.array([[True, False, True]])).tolist() == [[True, False, True, True]]
    with pytest.raises(ArgumentError, match="two groups"):
        _core.resolve_groups([[0, 1], [1, 2]], 3, "t")
    with pytest.raises(ArgumentError, match="column indices"):
        _core.resolve_groups({"g": [5]}, 3, "t")
    with pytest.raises(ShapeError, match="Preprocessor makes"):
        _core.resolve_groups(pre, 3, "t")


def test_baselines_and_targets():
    X = np.zeros((4, 3), np.float32)
    assert _core.baselines_for(None, X, "t")[1] == "row"
    assert _core.baselines_for(np.ones(3), X, "t")[1] == "row"
    assert _core.baselines_for(np.ones((4, 3)), X, "t")[1] == "paired"
    assert _core.baselines_for(np.ones((7, 3)), X, "t")[1] == "background"
    with pytest.raises(ShapeError, match="baselines"):
        _core.baselines_for(np.ones((2, 5)), X, "t")
    model = nn.Linear(3, 2)
    with pytest.raises(ArgumentError, match="target="):
        saliency(model, X)
    with pytest.raises(ArgumentError, match="out of range"):
        saliency(model, X, target=2)
    assert saliency(model, X, target=[0, 1, 1, 0]).values.shape == (4, 3)


def test_the_model_keeps_its_mode_and_its_parameters_their_flags():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 1))
    model.train()
    X = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32)
    a = integrated_gradients(model, X, n_steps=8)
    b = integrated_gradients(model, X, n_steps=8)
    np.testing.assert_array_equal(a.values, b.values)  # dropout was off: the same values twice
    assert model.training and all(p.requires_grad and p.grad is None for p in model.parameters())


def test_the_default_batch_size_is_measured_and_bounded():
    model = nn.Sequential(nn.Linear(61, 64), nn.ReLU(), nn.Linear(64, 1))
    X = np.zeros((10, 61), np.float32)
    n = _core.default_batch_size(model, X)
    assert 1_000 <= n <= 2**20  # a small MLP: large batches fit in 256 MB
    assert _core.default_batch_size(model, X, budget=2**20) < n
