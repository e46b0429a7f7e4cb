"""Table: parsing CSV (numeric / text / missing), every constructor, read_table, and each error message."""

import math

import numpy as np
import pytest

from chainrule.data import Table, read_table
from chainrule.errors import ChainruleError, DataError


def write(tmp_path, text, name="t.csv", mode="w"):
    p = tmp_path / name
    if mode == "wb":
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


# ---- CSV parsing ------------------------------------------------------------------------------


def test_csv_numeric_text_and_missing(tmp_path):
    p = write(tmp_path, "age,city,score,flag\n31,Oslo,1.5,True\n,Bergen,NA,False\n45, ?,NaN,\n28,,?,True\n\n")
    t = Table.from_csv(p)
    assert t.columns == ["age", "city", "score", "flag"]
    assert len(t) == 4
    assert t.kind("age") == "numeric" and t["age"].dtype == np.float64
    np.testing.assert_array_equal(t["age"], [31, np.nan, 45, 28])
    assert t.kind("city") == "text" and t["city"].dtype == object
    assert t["city"].tolist() == ["Oslo", "Bergen", None, None]
    assert t.kind("score") == "numeric" and t["score"][0] == 1.5 and np.isnan(t["score"][1:]).all()
    assert t["flag"].tolist() == ["True", "False", None, "True"]
    assert all(type(v) is str for v in t["city"] if v is not None)


def test_csv_mixed_column_is_text_and_values_are_stripped(tmp_path):
    p = write(tmp_path, "a,b\n1, x \n2,3\n")
    t = Table.from_csv(p)
    assert t.kind("a") == "numeric"
    assert t["b"].tolist() == ["x", "3"]  # one non-number makes the whole column text


def test_csv_quoted_fields_bom_and_crlf(tmp_path):
    p = write(tmp_path, '\ufeffname,note\r\n"Smith, J","said ""hi"""\r\n', mode="w")
    t = Table.from_csv(p)
    assert t.columns == ["name", "note"]
    assert t["name"].tolist() == ["Smith, J"] and t["note"].tolist() == ['said "hi"']


def test_csv_all_missing_column_is_numeric_nan(tmp_path):
    t = Table.from_csv(write(tmp_path, "a,b\n1,\n2,NA\n"))
    assert t.kind("b") == "numeric" and np.isnan(t["b"]).all()


def test_csv_remembers_file_lines_for_messages(tmp_path):
    p = write(tmp_path, "a,b\n1,x\n\n2,y\n")
    t = Table.from_csv(p)
    assert t.lines.tolist() == [2, 4]
    assert t.where(1) == f"row 1 ({p} line 4)"
    assert t.select([1]).where(0) == f"row 0 ({p} line 4)"


def test_tsv_through_read_table(tmp_path):
    t = read_table(write(tmp_path, "a\tb\n1\tx\n", name="t.tsv"))
    assert t.columns == ["a", "b"] and t["b"].tolist() == ["x"]


def test_to_csv_round_trip(tmp_path):
    t = Table.from_dict({"a": [1.0, None, 2.5], "b": ["x, y", None, "z"]})
    t.to_csv(tmp_path / "o.csv")
    u = Table.from_csv(tmp_path / "o.csv")
    np.testing.assert_array_equal(u["a"], t["a"])
    assert u["b"].tolist() == t["b"].tolist()


# ---- CSV errors -------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: no such file"):
        Table.from_csv(tmp_path / "nope.csv")


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(DataError, match="is a folder"):
        Table.from_csv(tmp_path)


def test_empty_file(tmp_path):
    with pytest.raises(DataError, match=r"t\.csv: the file is empty \(no header line\)"):
        Table.from_csv(write(tmp_path, ""))
    with pytest.raises(DataError, match="the file is empty"):
        Table.from_csv(write(tmp_path, "\n\n"))


def test_header_without_rows(tmp_path):
    with pytest.raises(DataError, match=r"t\.csv: no data rows after the header line"):
        Table.from_csv(write(tmp_path, "a,b\n"))


def test_ragged_row_names_file_and_line(tmp_path):
    p = write(tmp_path, "a,b,c\n1,2,3\n4,5\n")
    with pytest.raises(DataError) as e:
        Table.from_csv(p)
    msg = str(e.value)
    assert f"{p}, line 3: 2 fields where the header has 3 (a, b, c)" == msg and "\n" not in msg
    with pytest.raises(DataError, match=r"line 2: 4 fields where the header has 3"):
        Table.from_csv(write(tmp_path, "a,b,c\n1,2,3,4\n"))


def test_duplicate_and_empty_header_names(tmp_path):
    with pytest.raises(DataError, match=r"line 1: duplicate column name 'a'"):
        Table.from_csv(write(tmp_path, "a,b,a\n1,2,3\n"))
    with pytest.raises(DataError, match=r"line 1: column 2 of the header has no name"):
        Table.from_csv(write(tmp_path, "a,,c\n1,2,3\n"))


def test_not_utf8_names_line(tmp_path):
    p = write(tmp_path, b"a,b\n1,x\n2,caf\xe9\n", mode="wb")
    with pytest.raises(DataError, match=r"t\.csv, line 3: not UTF-8 text \(byte b'\\xe9'\)"):
        Table.from_csv(p)


def test_malformed_quotes(tmp_path):
    with pytest.raises(DataError, match=r"line \d+: malformed CSV"):
        Table.from_csv(write(tmp_path, 'a,b\n1,"x"y\n'))


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ChainruleError) and issubclass(DataError, ValueError)


# ---- other constructors -----------------------------------------------------------------------


def test_from_dict_kinds_and_missing():
    t = Table.from_dict({"n": [1, None, 3.5, float("nan")], "s": ["a", None, "b", "c"], "b": [True, False, None, True]})
    assert t.kind("n") == "numeric" and np.isnan(t["n"][[1, 3]]).all()
    assert t["s"].tolist() == ["a", None, "b", "c"]
    assert t["b"].tolist() == ["True", "False", None, "True"]  # as a CSV file would read back


def test_from_dict_copies_arrays():
    a = np.array([1.0, 2.0])
    t = Table.from_dict({"a": a, "i": np.array([1, 2], dtype=np.int32), "u": np.array(["x", "y"])})
    a[0] = 99
    assert t["a"][0] == 1.0 and t["i"].dtype == np.float64 and t["u"].tolist() == ["x", "y"]


def test_from_dict_errors():
    with pytest.raises(DataError, match=r"all columns need the same length, got 'a': 2, 'b': 3"):
        Table.from_dict({"a": [1, 2], "b": [1, 2, 3]})
    with pytest.raises(DataError, match="column names must be strings"):
        Table.from_dict({0: [1]})
    with pytest.raises(DataError, match=r"column 'a' must be 1-D"):
        Table.from_dict({"a": np.zeros((2, 2))})
    with pytest.raises(DataError, match=r"column 'a' must be a sequence"):
        Table.from_dict({"a": 5})
    with pytest.raises(DataError, match="expected a dict"):
        Table.from_dict([1, 2])


def test_from_array_names_and_errors():
    t = Table.from_array(np.arange(6).reshape(3, 2))
    assert t.columns == ["x0", "x1"] and t["x1"].tolist() == [1.0, 3.0, 5.0] and t["x0"].dtype == np.float64
    t = Table.from_array(np.array([[1, "a"], [2, "b"]], dtype=object), columns=["n", "s"])
    assert t.kind("n") == "numeric" and t["s"].tolist() == ["a", "b"]
    assert Table.from_array(np.array([1.0, 2.0])).columns == ["x0"]
    with pytest.raises(DataError, match="1 column names for an array with 2 columns"):
        Table.from_array(np.zeros((2, 2)), columns=["a"])
    with pytest.raises(DataError, match="expected a 2-D array"):
        Table.from_array(np.zeros((2, 2, 2)))


def test_from_pandas():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "i": pd.array([1, None, 3], dtype="Int64"),
            "f": [0.5, np.nan, 1.0],
            "s": ["a", None, "c"],
            "b": [True, False, True],
            "c": pd.Categorical(["x", "y", "x"]),
        }
    )
    t = Table.from_pandas(df)
    assert t.columns == ["i", "f", "s", "b", "c"]
    np.testing.assert_array_equal(t["i"], [1, np.nan, 3])
    assert t.kind("f") == "numeric" and t["s"].tolist() == ["a", None, "c"]
    assert t["b"].tolist() == ["True", "False", "True"] and t["c"].tolist() == ["x", "y", "x"]
    assert read_table(df)["f"][0] == 0.5
    back = t.to_pandas()
    assert list(back.columns) == t.columns and len(back) == 3


def test_from_parquet(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    df = pd.DataFrame({"a": [1, 2, None], "s": ["x", None, "z"], "b": [True, None, False]})
    df.to_parquet(tmp_path / "t.parquet")
    t = read_table(tmp_path / "t.parquet")
    assert t.columns == ["a", "s", "b"] and t.kind("a") == "numeric" and np.isnan(t["a"][2])
    assert t["s"].tolist() == ["x", None, "z"] and t["b"].tolist() == ["True", None, "False"]
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match=r"bad\.parquet: cannot read as Parquet"):
        Table.from_parquet(tmp_path / "bad.parquet")
    with pytest.raises(DataError, match="no such file"):
        Table.from_parquet(tmp_path / "none.parquet")


def test_from_parquet_without_pyarrow(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError("no pyarrow")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setattr("importlib.import_module", lambda name: fake_import(name))
    with pytest.raises(DataError, match=r"Table\.from_parquet needs the optional package pyarrow: pip install pyarrow"):
        Table.from_parquet(tmp_path / "t.parquet")


def test_read_table_dispatch(tmp_path):
    p = write(tmp_path, "a\n1\n")
    t = read_table(p)
    assert read_table(str(p))["a"].tolist() == [1.0]
    assert read_table(t) is t
    assert read_table({"a": [1]}).columns == ["a"]
    assert read_table(np.zeros((2, 3))).columns == ["x0", "x1", "x2"]
    with pytest.raises(DataError, match=r"unknown file type '\.xlsx'"):
        read_table(tmp_path / "t.xlsx")
    with pytest.raises(DataError, match="cannot read a int"):
        read_table(3)


# ---- access and row subsets -------------------------------------------------------------------


def test_getitem_select_drop():
    t = Table.from_dict({"a": [1, 2, 3, 4], "b": ["w", "x", "y", "z"]})
    with pytest.raises(DataError, match=r"no column 'c'; the columns are \['a', 'b'\]"):
        t["c"]
    s = t.select([3, 1])
    assert s["a"].tolist() == [4.0, 2.0] and s["b"].tolist() == ["z", "x"] and len(t) == 4
    assert t.select(np.array([True, False, True, False]))["b"].tolist() == ["w", "y"]
    assert t.select(slice(1, 3))["a"].tolist() == [2.0, 3.0]
    assert len(t.select([])) == 0
    assert t.drop("a").columns == ["b"] and t.columns == ["a", "b"]
    assert t.drop(["a", "b"]).columns == []
    assert t[["b"]].columns == ["b"]
    assert "a" in t and "c" not in t
    assert repr(t) == "Table(4 rows; a: numeric, b: text)"
    with pytest.raises(DataError, match="no column 'c'"):
        t.drop("c")
    with pytest.raises(DataError, match="boolean mask of shape"):
        t.select([True, False])
    with pytest.raises(DataError, match="row 7 is out of range for a table of 4 rows"):
        t.select([0, 7])
    with pytest.raises(DataError, match="integer indices"):
        t.select([0.5])


def test_numbers_keep_full_precision(tmp_path):
    t = Table.from_csv(write(tmp_path, "a\n0.1\n1e300\n-0\n"))
    assert t["a"][0] == 0.1 and t["a"][1] == 1e300 and math.copysign(1, t["a"][2]) == -1
