"""Preprocessor: statistics from the training split only, imputation, one-hot with unknown categories,
target encoding and its inverse, task inference, JSON round trip, and every error message."""

import json

import numpy as np
import pytest

from chainrule.data import Preprocessor, Table, datasets
from chainrule.errors import ArgumentError, DataError, OutOfRangeError

TRAIN = {
    "age": [20.0, 30.0, None, 50.0, 40.0],
    "city": ["b", "a", "b", None, "c"],
    "label": ["yes", "no", "yes", "no", "yes"],
}
TEST = {"age": [None, 60.0], "city": ["zzz", None], "label": ["no", "yes"]}


def fitted():
    return Preprocessor(target="label").fit(Table.from_dict(TRAIN))


def test_statistics_come_from_the_training_split_only():
    pre = fitted()
    X, y = pre.transform(Table.from_dict(TEST))
    age = np.array([20, 30, 35, 50, 40.0])  # median 35 imputed, then mean/std of the imputed column
    mean, std = age.mean(), age.std()
    np.testing.assert_allclose(X[:, 0], [(35 - mean) / std, (60 - mean) / std], rtol=1e-6)
    Xtr, _ = pre.transform(Table.from_dict(TRAIN))
    np.testing.assert_allclose(Xtr[:, 0], (age - mean) / std, rtol=1e-6)
    assert abs(Xtr[:, 0].mean()) < 1e-6 and abs(Xtr[:, 0].std() - 1) < 1e-6
    assert X.dtype == np.float32 and y.dtype == np.int64
    # a very different test split does not change the fitted statistics
    again = Preprocessor(target="label").fit(Table.from_dict(TRAIN)).transform(Table.from_dict(TEST))[0]
    np.testing.assert_array_equal(X, again)


def test_one_hot_unknown_and_missing_categories():
    pre = fitted()
    assert pre.feature_names_ == ["age", "city=a", "city=b", "city=c"]
    X, _ = pre.transform(Table.from_dict(TEST))
    np.testing.assert_array_equal(X[0, 1:], [0, 0, 0])  # 'zzz' unseen in training: all zeros, no error
    np.testing.assert_array_equal(X[1, 1:], [0, 1, 0])  # missing: the most frequent training category 'b'
    Xtr, _ = pre.transform(Table.from_dict(TRAIN))
    np.testing.assert_array_equal(Xtr[:, 1:], [[0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]])


def test_most_frequent_tie_goes_to_the_first_sorted_category():
    pre = Preprocessor().fit(Table.from_dict({"c": ["y", "x", None]}))
    assert pre.to_json()["columns"][0]["most_frequent"] == "x"
    np.testing.assert_array_equal(pre.transform(Table.from_dict({"c": [None]})), [[1, 0]])


def test_constant_and_all_missing_numeric_columns():
    pre = Preprocessor().fit(Table.from_dict({"k": [3.0, 3.0], "m": [None, None]}))
    X = pre.transform(Table.from_dict({"k": [3.0, 5.0], "m": [1.0, None]}))
    np.testing.assert_array_equal(X, [[0, 1], [2, 0]])  # std 0 -> 1; all-missing -> median 0, std 1


def test_numeric_category_values_match_text_ones():
    pre = Preprocessor().fit(Table.from_dict({"code": ["1", "2", "x"]}))
    X = pre.transform(Table.from_dict({"code": [2, 1]}))  # read back as numbers: 2.0 matches '2'
    np.testing.assert_array_equal(X, [[0, 1, 0], [1, 0, 0]])


def test_matches_scikit_learn_pipeline():
    pytest.importorskip("sklearn")
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    table = datasets.german_credit()
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(table))
    train, test = table.select(perm[:700]), table.select(perm[700:])
    pre = Preprocessor(target="credit_risk").fit(train)
    num = [c for c in train.columns if c != "credit_risk" and train.kind(c) == "numeric"]
    cat = [c for c in train.columns if c != "credit_risk" and train.kind(c) == "text"]

    def frame(t):
        return np.column_stack([t[c] for c in num + cat]).astype(object)

    ct = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), list(range(len(num)))),
            ("cat", OneHotEncoder(handle_unknown="ignore"), list(range(len(num), len(num) + len(cat)))),
        ]
    ).fit(frame(train))
    ref = ct.transform(frame(test))
    ref = ref.toarray() if hasattr(ref, "toarray") else ref
    X, _ = pre.transform(test)
    # same features, in a different column order: numeric columns first in sklearn
    order = [pre.feature_names_.index(c) for c in num] + [
        pre.feature_names_.index(f"{c}={v}") for c in cat for v in sorted(set(train[c]))
    ]
    np.testing.assert_allclose(X[:, order], ref, rtol=1e-5, atol=1e-6)


# ---- target ------------------------------------------------------------------------------------


def test_target_encoding_round_trip():
    pre = fitted()
    assert pre.task_ == "classification" and pre.classes_ == ["no", "yes"]
    _, y = pre.transform(Table.from_dict(TRAIN))
    np.testing.assert_array_equal(y, [1, 0, 1, 0, 1])
    back = pre.inverse_transform_target(y)
    assert back.tolist() == TRAIN["label"] and all(type(v) is str for v in back)


def test_numeric_labels_stay_numbers_and_sort_numerically():
    t = Table.from_dict({"x": list(range(12)), "y": [10, 2, 1, 2, 10, 1, 1, 2, 10, 2, 1, 10]})
    pre = Preprocessor(target="y").fit(t)
    assert pre.task_ == "classification" and pre.classes_ == [1, 2, 10]
    assert all(type(c) is int for c in pre.classes_)
    _, y = pre.transform(t)
    assert pre.inverse_transform_target(y).tolist() == t["y"].tolist()
    import chainrule as cr

    assert pre.inverse_transform_target(cr.tensor(np.array([2, 0]))).tolist() == [10, 1]


def test_inverse_transform_errors():
    pre = fitted()
    with pytest.raises(OutOfRangeError, match=r"class index 2 is outside 0\.\.1"):
        pre.inverse_transform_target([0, 2])
    with pytest.raises(ArgumentError, match="expected integer class indices"):
        pre.inverse_transform_target([0.5])


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (["a", "b", "a"], "classification"),  # text
        (["True", "False", "True"], "classification"),  # booleans (read as text)
        ([0, 1, 1], "classification"),  # integers, few distinct values
        (list(range(20)), "classification"),  # 20 distinct integers: still classes
        (list(range(21)), "regression"),  # 21 distinct integers: a quantity
        ([0.5, 1.0, 2.0], "regression"),  # not integers
    ],
)
def test_task_inference(values, task):
    t = Table.from_dict({"x": list(range(len(values))), "y": values})
    assert Preprocessor(target="y").fit(t).task_ == task


def test_regression_target_and_explicit_task():
    t = Table.from_dict({"x": [1, 2, 3, 4], "y": [1, 2, 1, 2]})
    pre = Preprocessor(target="y", task="regression").fit(t)
    _, y = pre.transform(t)
    assert pre.classes_ is None and y.dtype == np.float32 and y.tolist() == [1, 2, 1, 2]
    assert pre.inverse_transform_target(y).dtype == np.float64
    with pytest.raises(DataError, match=r"column 'y', row 0: 'a' is not a number \(the target of a regression\)"):
        Preprocessor(target="y", task="regression").fit(Table.from_dict({"x": [1, 2], "y": ["a", "b"]}))
    with pytest.raises(ArgumentError, match="task must be None, 'classification' or 'regression', got 'clf'"):
        Preprocessor(target="y", task="clf")


def test_without_target_transform_gives_x_only():
    pre = Preprocessor().fit(Table.from_dict({"a": [1.0, 2.0]}))
    X = pre.transform(Table.from_dict({"a": [1.0]}))
    assert isinstance(X, np.ndarray) and X.shape == (1, 1) and pre.task_ is None
    with pytest.raises(DataError, match="no y to transform"):
        pre.transform_target(Table.from_dict({"a": [1.0]}))


def test_transform_features_ignores_or_needs_no_target():
    pre = fitted()
    X = pre.transform_features(Table.from_dict({"city": ["a"], "age": [20.0]}))  # column order does not matter
    assert X.shape == (1, 4) and X[0, 1] == 1
    with pytest.raises(DataError, match=r"no target column 'label' in the table .*use transform_features\(\)"):
        pre.transform(Table.from_dict({"city": ["a"], "age": [20.0]}))


def test_fit_transform_equals_fit_then_transform():
    t = Table.from_dict(TRAIN)
    X1, y1 = Preprocessor(target="label").fit_transform(t)
    X2, y2 = fitted().transform(t)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


# ---- errors ------------------------------------------------------------------------------------


def test_missing_target_column_lists_the_columns():
    with pytest.raises(DataError, match=r"no target column 'lable'; the columns are \['age', 'city', 'label'\]"):
        Preprocessor(target="lable").fit(Table.from_dict(TRAIN))


def test_single_class():
    t = Table.from_dict({"x": [1, 2], "y": ["good", "good"]})
    with pytest.raises(DataError, match=r"target column 'y' has a single class 'good' in the training data"):
        Preprocessor(target="y").fit(t)


def test_missing_target_value_and_unknown_label():
    with pytest.raises(DataError, match=r"target column 'label', row 1: the value is missing"):
        Preprocessor(target="label").fit(Table.from_dict({"x": [1, 2, 3], "label": ["a", None, "b"]}))
    with pytest.raises(DataError, match=r"target column 'label', row 1: label 'maybe' was not seen in training"):
        fitted().transform(Table.from_dict({"age": [1.0, 2.0], "city": ["a", "a"], "label": ["no", "maybe"]}))


def test_missing_feature_columns_are_named():
    with pytest.raises(DataError, match=r"column 'city' missing from the table; it has \['age', 'label'\]"):
        fitted().transform(Table.from_dict({"age": [1.0], "label": ["no"]}))
    with pytest.raises(DataError, match=r"columns 'age', 'city' missing"):
        fitted().transform_features(Table.from_dict({"other": [1.0]}))


def test_non_numeric_value_names_column_row_value_and_line(tmp_path):
    p = tmp_path / "test.csv"
    p.write_text("age,city,label\n20,a,no\nabc,b,yes\n")
    with pytest.raises(DataError) as e:
        fitted().transform(Table.from_csv(p))
    assert str(e.value) == (
        f"column 'age', {p} line 3: 'abc' is not a number (the column was numeric in training)"
    )


def test_infinite_values_are_rejected():
    with pytest.raises(DataError, match=r"column 'a', row 1: inf is not a finite number"):
        Preprocessor().fit(Table.from_dict({"a": [1.0, float("inf")]}))


def test_not_fitted_and_degenerate_tables():
    with pytest.raises(DataError, match=r"not fitted: call fit\(train_table\) first"):
        Preprocessor().transform(Table.from_dict(TRAIN))
    with pytest.raises(DataError, match="no feature columns"):
        Preprocessor(target="y").fit(Table.from_dict({"y": [1, 2]}))
    with pytest.raises(DataError, match="has no rows"):
        Preprocessor().fit(Table.from_dict({"a": []}))


# ---- JSON --------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["credit_risk", "credit_amount"])
def test_json_round_trip_gives_identical_transforms(target):
    table = datasets.german_credit()
    train, test = table.select(np.arange(0, 1000, 2)), table.select(np.arange(1, 1000, 2))
    pre = Preprocessor(target=target).fit(train)
    text = json.dumps(pre.to_json(), allow_nan=False)  # plain JSON, no NumPy types, no NaN
    again = Preprocessor.from_json(json.loads(text))
    X1, y1 = pre.transform(test)
    X2, y2 = again.transform(test)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert y1.dtype == y2.dtype
    assert again.feature_names_ == pre.feature_names_ and again.task_ == pre.task_ and again.classes_ == pre.classes_
    assert repr(again) == repr(pre)


def test_json_of_an_unfitted_or_foreign_dict():
    with pytest.raises(DataError, match="not fitted"):
        Preprocessor().to_json()
    with pytest.raises(DataError, match="not a Preprocessor description"):
        Preprocessor.from_json({"columns": []})
    bad = fitted().to_json()
    del bad["columns"][0]["mean"]
    with pytest.raises(DataError, match=r"malformed description \(KeyError: 'mean'\)"):
        Preprocessor.from_json(bad)
    with pytest.raises(DataError, match="unknown version 3"):
        Preprocessor.from_json({**fitted().to_json(), "version": 3})


def test_german_credit_pipeline():
    pre = Preprocessor(target="credit_risk")
    X, y = pre.fit_transform(datasets.german_credit())
    assert X.shape == (1000, 61) and X.dtype == np.float32 and np.isfinite(X).all()
    assert pre.classes_ == ["bad", "good"] and np.bincount(y).tolist() == [300, 700]
    assert "purpose=car (new)" in pre.feature_names_ and "age" in pre.feature_names_


# ---- regression targets standardised, classes from the whole table, check_target ----------------


def test_scale_target_standardises_and_inverse_undoes_it():
    y = [10.0, 20.0, 30.0, 40.0]
    t = Table.from_dict({"x": [1.0, 2.0, 3.0, 4.0], "y": y})
    pre = Preprocessor(target="y", task="regression", scale_target=True).fit(t)
    assert pre.target_mean_ == 25.0 and pre.target_std_ == pytest.approx(np.std(y))
    _, z = pre.transform(t)
    assert z.dtype == np.float32 and z.mean() == pytest.approx(0, abs=1e-6) and z.std() == pytest.approx(1)
    np.testing.assert_allclose(pre.inverse_transform_target(z), y, rtol=1e-6)
    np.testing.assert_array_equal(pre.target_values(t), y)  # the target's own units, unscaled
    assert pre.target_values(t).dtype == np.float64
    # without scale_target nothing changes (the default)
    plain = Preprocessor(target="y", task="regression").fit(t)
    assert plain.transform(t)[1].tolist() == y and plain.inverse_transform_target(np.float32([1.5])).tolist() == [1.5]


def test_scale_target_travels_in_json_and_old_json_reads_unscaled():
    t = Table.from_dict({"x": [1.0, 2.0, 3.0], "y": [1.0, 5.0, 9.0]})
    pre = Preprocessor(target="y", task="regression", scale_target=True).fit(t)
    d = json.loads(json.dumps(pre.to_json(), allow_nan=False))
    assert d["version"] == 2 and d["config"]["scale_target"] is True and d["target_scale"]["mean"] == 5.0
    again = Preprocessor.from_json(d)
    np.testing.assert_array_equal(again.transform(t)[1], pre.transform(t)[1])
    assert again.inverse_transform_target(np.float32([0.0])).tolist() == [5.0]
    old = {k: v for k, v in d.items() if k != "target_scale"}  # a model file of chainrule 0.1.0
    old.update(version=1, config={"target": "y", "task": "regression"})
    assert Preprocessor.from_json(old).transform(t)[1].tolist() == [1.0, 5.0, 9.0]
    with pytest.raises(DataError, match="malformed description"):
        Preprocessor.from_json({**d, "target_scale": {"mean": 1.0, "std": 0.0}})


def test_fit_takes_the_classes_of_the_whole_table():
    t = Table.from_dict({"x": [1.0, 2.0, 3.0], "y": ["a", "a", "b"]})
    pre = Preprocessor(target="y").fit(t.select([0, 1]), classes=["a", "b", "c"])  # one class in this split
    assert pre.classes_ == ["a", "b", "c"] and pre.transform(t)[1].tolist() == [0, 0, 1]
    with pytest.raises(DataError, match=r"row 2: label 'b' is not one of the classes given, \['a'\]"):
        Preprocessor(target="y").fit(t, classes=["a"])
    numeric = Table.from_dict({"x": [1.0, 2.0], "y": [3, 1]})
    assert Preprocessor(target="y").fit(numeric, classes=[1, 3, 5]).transform(numeric)[1].tolist() == [1, 0]


def test_check_target_infers_on_the_whole_table_and_names_file_lines(tmp_path):
    from chainrule.data.preprocess import check_target

    assert check_target(Table.from_dict({"y": ["b", "a", "b"]}), "y") == ("classification", ["a", "b"])
    assert check_target(Table.from_dict({"y": [0.5, 1.0]}), "y") == ("regression", None)
    p = tmp_path / "t.csv"
    p.write_text("x,y\n1,2\n\n2,\n3,\n")
    with pytest.raises(DataError) as e:
        check_target(Table.from_csv(p), "y")
    assert str(e.value) == f"target column 'y', {p} line 4: the value is missing (and 1 more rows)"
    with pytest.raises(DataError, match=r"no target column 'z'; the columns are \['x', 'y'\]"):
        check_target(Table.from_csv(p), "z")


def test_classification_target_with_too_many_classes_is_refused():
    from chainrule.data.preprocess import check_target

    rng = np.random.default_rng(0)
    values = np.round(rng.normal(150, 70, 100)).tolist()  # a quantity, integers
    t = Table.from_dict({"x": list(range(100)), "y": values})
    k = len(set(values))
    with pytest.raises(DataError) as e:
        Preprocessor(target="y", task="classification").fit(t)
    assert str(e.value) == (
        f"target column 'y' has {k} distinct values in 100 rows: too many classes for classification (fewer than 5"
        " rows per class); for a quantity, use the task 'regression' (--task regression)"
    )
    names = Table.from_dict({"x": list(range(50)), "y": [f"n{i}" for i in range(50)]})
    with pytest.raises(DataError, match=r"has 50 distinct values in 50 rows: too many classes.*per class\)$"):
        check_target(names, "y")
    # many classes with enough rows each, or few classes in few rows: fine
    many = Table.from_dict({"x": list(range(250)), "y": [i % 50 for i in range(250)]})
    assert check_target(many, "y", "classification")[0] == "classification"
    assert check_target(Table.from_dict({"y": list(range(20))}), "y", "classification")[0] == "classification"


def test_feature_groups_and_inverse_transform_give_the_csv_columns_back():
    table = datasets.german_credit()
    pre = Preprocessor(target="credit_risk")
    X, _ = pre.fit_transform(table)
    groups = pre.feature_groups()
    features = [c for c in table.columns if c != "credit_risk"]
    assert list(groups) == features
    flat = [j for cols in groups.values() for j in cols]
    assert flat == list(range(X.shape[1]))  # every matrix column in exactly one group, in order
    for name, cols in groups.items():
        assert [pre.feature_names_[j].split("=")[0] for j in cols] == [name] * len(cols)
    back = pre.inverse_transform_features(X[:20])
    assert back.shape == (20, len(features))
    for k, name in enumerate(features):
        for i in range(20):
            original = table[name][i]
            if isinstance(back[i, k], float):
                assert back[i, k] == pytest.approx(float(original), rel=1e-5, abs=1e-4)
            else:
                assert back[i, k] == str(original)
    assert pre.inverse_transform_features(np.zeros((1, X.shape[1])))[0, features.index("checking_account")] is None
    with pytest.raises(DataError, match="columns"):
        pre.inverse_transform_features(X[:, :5])
