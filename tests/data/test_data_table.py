"""Table: parsing CSV (numeric / text / missing), every constructor, read_table, and each error message."""

import math
from pathlib import Path

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
    assert t.where(1) == f"{p} line 4"
    assert t.select([1]).where(0) == f"{p} line 4"  # a split's row number means nothing to a user: the line does
    assert Table.from_dict({"a": [1, 2]}).where(1) == "row 1"


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
    (tmp_path / "t.xlsx").write_bytes(b"PK")
    with pytest.raises(DataError, match=r"unknown file type '\.xlsx'; chainrule reads \.csv, \.tsv, \.txt and"):
        read_table(tmp_path / "t.xlsx")
    with pytest.raises(DataError, match=r"t\.ods: no such file"):
        read_table(tmp_path / "t.ods")
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


# ---- delimiters, missing-value texts, mostly-numeric columns, the pandas index ----------------


@pytest.mark.parametrize("d", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_delimiter_is_detected(tmp_path, d):
    p = write(tmp_path, d.join(["a", "b", "c"]) + "\n" + d.join(["1", "x y", "2.5"]) + "\n")
    t = Table.from_csv(p)
    assert t.columns == ["a", "b", "c"] and t["b"].tolist() == ["x y"] and t["c"].tolist() == [2.5]


def test_delimiter_detection_is_not_fooled_by_text(tmp_path):
    # commas split the header; the semicolons inside the text do not split every line alike
    t = Table.from_csv(write(tmp_path, "a,b\nx;y;z,1\nw,2\n"))
    assert t.columns == ["a", "b"] and t["a"].tolist() == ["x;y;z", "w"]
    # a single column: no delimiter to find
    assert Table.from_csv(write(tmp_path, "a\n1\n2\n")).columns == ["a"]


def test_explicit_delimiter_and_hint_when_it_is_wrong(tmp_path):
    p = write(tmp_path, "a;b\n1;2\n")
    assert Table.from_csv(p, delimiter=";")["b"].tolist() == [2.0]
    assert Table.from_csv(p, delimiter=",").columns == ["a;b"]
    q = write(tmp_path, "a,b,c\n1;2;3\n", name="q.csv")
    with pytest.raises(DataError, match=r"line 2: 1 fields where the header has 3 .*is the file ';'-separated\?"):
        Table.from_csv(q, delimiter=",")
    for bad in ["", ";;", '"', "a", "1", "\n"]:
        with pytest.raises(DataError, match="delimiter must be one character"):
            Table.from_csv(p, delimiter=bad)


def test_mostly_numeric_column_with_strays_is_refused_naming_the_cell(tmp_path):
    rows = "".join(f"{i},{'n/a?' if i in (3, 7) else i * 1.5}\n" for i in range(40))
    p = write(tmp_path, "a,b\n" + rows)
    with pytest.raises(DataError) as e:
        Table.from_csv(p)
    msg = str(e.value)
    assert msg.startswith(f"{p}, line 5: column 'b' holds numbers but this value is 'n/a?'")
    assert "2 of its 40 values are not numbers" in msg and "--na-values" in msg and "\n" not in msg
    t = Table.from_csv(p, na_values=["n/a?"])
    assert t.kind("b") == "numeric" and np.isnan(t["b"][[3, 7]]).all() and t["b"][1] == 1.5
    assert Table.from_csv(p, na_values="n/a?").kind("b") == "numeric"  # one text is a list of one


def test_a_column_of_mostly_text_stays_text(tmp_path):
    t = Table.from_csv(write(tmp_path, "a,b\n" + "".join(f"{i},{'x' if i % 3 else i}\n" for i in range(30))))
    assert t.kind("b") == "text" and t["b"][0] == "0"


def test_na_values_apply_to_text_columns_too(tmp_path):
    t = Table.from_csv(write(tmp_path, "a,b\n1,-\n2,x\n"), na_values=["-"])
    assert t["b"].tolist() == [None, "x"]


def test_underscores_are_not_numbers(tmp_path):
    # Python's float() reads '1_000' as 1000; a CSV reader must not
    t = Table.from_csv(write(tmp_path, "a,b\n1_000,x\n2_0,y\n"))
    assert t.kind("a") == "text" and t["a"].tolist() == ["1_000", "2_0"]


def test_pandas_index_column_is_skipped(tmp_path):
    pd = pytest.importorskip("pandas")
    pd.DataFrame({"x": [1.5, 2.5, 3.5], "y": ["a", "b", "c"]}).to_csv(tmp_path / "p.csv")  # index=True
    t = Table.from_csv(tmp_path / "p.csv")
    assert t.columns == ["x", "y"] and t["x"].tolist() == [1.5, 2.5, 3.5]


def test_unnamed_first_column_that_is_not_an_index_is_refused_with_a_hint(tmp_path):
    p = write(tmp_path, ",x\n5,1\n9,2\n")
    with pytest.raises(DataError, match=r"line 1: column 1 of the header has no name; .*index=False"):
        Table.from_csv(p)


def test_usecols_skips_columns_unread_and_unchecked(tmp_path):
    p = write(tmp_path, "a,b,c\n1,x,3\n2,y,n/a?\n" + "3,z,4\n" * 20)
    seen = []
    t = Table.from_csv(p, usecols=lambda name: seen.append(name) or name != "c")
    assert t.columns == ["a", "b"] and seen == ["a", "b", "c"]
    assert Table.from_csv(p, usecols=["a"]).columns == ["a"]
    with pytest.raises(DataError, match="column 'c' holds numbers"):
        Table.from_csv(p)


def test_read_table_passes_reading_options_and_refuses_others(tmp_path):
    p = write(tmp_path, "a;b\n1;-\n", name="t.txt")
    t = read_table(p, delimiter=";", na_values=["-"])
    assert t.columns == ["a", "b"] and np.isnan(t["b"][0])
    tsv = write(tmp_path, "a\tb\n1\t2\n", name="t.tsv")
    assert read_table(tsv, na_values=["x"]).columns == ["a", "b"]
    with pytest.raises(DataError, match="option 'bogus' does not apply to a CSV file"):
        read_table(p, bogus=1)
    with pytest.raises(DataError, match="option 'delimiter' does not apply to a dict"):
        read_table({"a": [1]}, delimiter=",")


def test_folder_and_missing_file_are_named_before_the_suffix(tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(DataError, match=r"data: is a folder, not a file"):
        read_table(tmp_path / "data")
    with pytest.raises(DataError, match=r"nothing: no such file"):
        read_table(tmp_path / "nothing")


# ---- Parquet: pyarrow runs in a child process ------------------------------------------------


def _parquet(tmp_path, name="t.parquet"):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / name
    pq.write_table(pa.table({"n": [1, 2**62, None], "s": ["x", "-", None], "b": [True, False, None]}), path)
    return path


def test_parquet_numbers_text_na_values_and_usecols(tmp_path):
    t = Table.from_parquet(_parquet(tmp_path), na_values=["-"])
    assert t.kind("n") == "numeric" and t["n"][1] == float(2**62) and np.isnan(t["n"][2])  # cast, not refused
    assert t["s"].tolist() == ["x", None, None] and t["b"].tolist() == ["True", "False", None]
    assert read_table(_parquet(tmp_path), usecols=["s"]).columns == ["s"]


def test_parquet_reader_crash_is_a_data_error(tmp_path, monkeypatch):
    import chainrule.data.table as table_module

    path = _parquet(tmp_path)
    monkeypatch.setattr(table_module, "_PARQUET_CHILD", "import os; os.abort()")
    with pytest.raises(DataError, match=r"t\.parquet: cannot read as Parquet: the reader \(pyarrow\) crashed"):
        Table.from_parquet(path)


def test_parquet_reader_memory_is_limited(tmp_path, monkeypatch):
    import chainrule.data.table as table_module

    pytest.importorskip("resource")
    if not Path("/proc/self/status").exists():
        pytest.skip("the limit needs Linux's /proc")
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "zeros.parquet"  # 20 MB of zeros compress to a few kB
    pq.write_table(pa.table({"z": np.zeros(2_500_000)}), path)
    monkeypatch.setattr(table_module, "PARQUET_MEMORY_FLOOR", 2**20)
    monkeypatch.setattr(table_module, "PARQUET_MEMORY_PER_BYTE", 1)
    with pytest.raises(DataError, match=r"zeros\.parquet: cannot read as Parquet: decoding it needs more than 1 MB"):
        Table.from_parquet(path)


def test_file_that_is_not_parquet_is_refused_without_pyarrow_looking_at_it(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "x.parquet"
    path.write_bytes(b"PAR1" + b"\0" * 20)
    with pytest.raises(DataError, match=r"x\.parquet: cannot read as Parquet: it does not start and end with PAR1"):
        Table.from_parquet(path)
