"""``Table``: an ordered set of named 1-D columns, read from CSV, Parquet, pandas, dicts or arrays.

A column is either *numeric* (a float64 array, NaN where a value is missing) or *text* (an object
array of Python ``str``, ``None`` where a value is missing). Nothing else: booleans become the text
``'True'``/``'False'`` (as they read back from a CSV file), dates and pandas categories become text.

    >>> t = Table.from_dict({"age": [31, None, 45], "city": ["Oslo", "Bergen", None]})
    >>> t.columns, len(t), t.kind("age"), t["city"].tolist()
    (['age', 'city'], 3, 'numeric', ['Oslo', 'Bergen', None])

pandas and pyarrow are optional: they are imported only by ``from_pandas``/``to_pandas`` and
``from_parquet``.
"""

import csv
import math
import numbers
import os
from pathlib import Path

import numpy as np

from ..errors import DataError

#: Text that means "no value" in a CSV file (after stripping surrounding spaces).
MISSING_TOKENS = frozenset({"", "NA", "NaN", "nan", "?"})


def _is_missing(v):
    if v is None:
        return True
    if isinstance(v, float | np.floating):
        return math.isnan(v)
    return type(v).__name__ in ("NAType", "NaTType")  # pandas.NA, pandas.NaT without importing pandas


def _is_number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_)


def _text(v):
    """The text of one non-missing value (bools as 'True'/'False', 3.0 as '3.0')."""
    return v if isinstance(v, str) else str(v.item() if isinstance(v, np.generic) else v)


def _column_from_values(name, values):
    """A numeric or text column from in-memory values (a list, tuple or 1-D array)."""
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise DataError(f"Table: column {name!r} must be 1-D, got an array of shape {values.shape}")
        if values.dtype.kind in "iuf":
            return np.array(values, dtype=np.float64)
        if values.dtype.kind == "b":
            return np.array(["True" if v else "False" for v in values], dtype=object)
        if values.dtype.kind in "US":
            return np.array([str(v) for v in values.astype(str)], dtype=object)
        values = values.tolist() if values.dtype.kind != "O" else list(values)
    elif isinstance(values, str | bytes) or not hasattr(values, "__len__"):
        raise DataError(f"Table: column {name!r} must be a sequence of values, got {type(values).__name__}")
    values = list(values)
    for i, v in enumerate(values):
        if isinstance(v, list | tuple | dict | np.ndarray):
            raise DataError(f"Table: column {name!r}, row {i}: values must be scalars, got {type(v).__name__}")
    present = [v for v in values if not _is_missing(v)]
    if all(_is_number(v) for v in present):
        return np.array([np.nan if _is_missing(v) else float(v) for v in values], dtype=np.float64)
    return np.array([None if _is_missing(v) else _text(v) for v in values], dtype=object)


def _parse_float(s):
    try:
        return float(s)
    except ValueError:
        return None


class Table:
    """An ordered set of named 1-D columns of equal length (float64 with NaN, or object str with None).

    ``source`` is where the data came from (a file path) and ``lines`` the file line of each row
    (``None`` when there is no file); error messages use them to point at the offending line.
    """

    def __init__(self, columns=None, source=None, lines=None):
        cols = {}
        for name, values in ({} if columns is None else dict(columns)).items():
            if not isinstance(name, str):
                raise DataError(f"Table: column names must be strings, got {name!r}")
            cols[name] = _column_from_values(name, values)
        lengths = {len(c) for c in cols.values()}
        if len(lengths) > 1:
            listing = ", ".join(f"{k!r}: {len(v)}" for k, v in cols.items())
            raise DataError(f"Table: all columns need the same length, got {listing}")
        self._set(cols, source, lines)

    def _set(self, cols, source, lines):
        self._cols = cols
        self._n = len(next(iter(cols.values()))) if cols else 0
        self.source = None if source is None else str(source)
        self.lines = None if lines is None else np.asarray(lines, dtype=np.int64)
        return self

    @classmethod
    def _trusted(cls, cols, source=None, lines=None):
        """A Table from columns already in the canonical form (no checks, no copies)."""
        return cls.__new__(cls)._set(cols, source, lines)

    # ---- access -------------------------------------------------------------------------------
    @property
    def columns(self):
        """The column names, in order."""
        return list(self._cols)

    def __len__(self):
        return self._n

    def __contains__(self, name):
        return name in self._cols

    def __getitem__(self, name):
        if isinstance(name, list):
            return Table._trusted({n: self[n] for n in name}, self.source, self.lines)
        try:
            return self._cols[name]
        except (KeyError, TypeError):
            raise DataError(f"Table: no column {name!r}; the columns are {self.columns}") from None

    def kind(self, name):
        """``'numeric'`` or ``'text'``."""
        return "numeric" if self[name].dtype == np.float64 else "text"

    def where(self, row):
        """Where row ``row`` came from, for messages: ``'row 3'`` or ``'row 3 (data.csv line 5)'``."""
        if self.lines is None or self.source is None:
            return f"row {row}"
        return f"row {row} ({self.source} line {int(self.lines[row])})"

    def __repr__(self):
        kinds = ", ".join(f"{n}: {self.kind(n)}" for n in self._cols)
        return f"Table({self._n} rows; {kinds})"

    # ---- new tables ---------------------------------------------------------------------------
    def select(self, rows):
        """A Table of the given rows: indices, a boolean mask or a slice."""
        if isinstance(rows, slice):
            idx = np.arange(self._n)[rows]
        else:
            idx = np.asarray(rows)
            if idx.dtype == bool:
                if idx.shape != (self._n,):
                    raise DataError(f"Table.select: boolean mask of shape {idx.shape} for a table of {self._n} rows")
                idx = np.flatnonzero(idx)
            elif idx.size == 0:
                idx = idx.astype(np.int64)
            elif idx.dtype.kind not in "iu":
                raise DataError(
                    f"Table.select: rows must be integer indices, a boolean mask or a slice, got {idx.dtype}"
                )
            idx = idx.reshape(-1)
            bad = idx[(idx >= self._n) | (idx < -self._n)]
            if bad.size:
                raise DataError(f"Table.select: row {int(bad[0])} is out of range for a table of {self._n} rows")
        lines = None if self.lines is None else self.lines[idx]
        return Table._trusted({k: v[idx] for k, v in self._cols.items()}, self.source, lines)

    def drop(self, name):
        """A Table without the column ``name`` (or the columns in a list of names)."""
        names = [name] if isinstance(name, str) else list(name)
        for n in names:
            self[n]  # raises, naming the columns, if absent
        return Table._trusted({k: v for k, v in self._cols.items() if k not in names}, self.source, self.lines)

    def to_dict(self):
        """``{name: array}`` (the column arrays themselves, not copies)."""
        return dict(self._cols)

    def to_pandas(self):
        """A pandas DataFrame (needs pandas)."""
        pd = _optional("pandas", "Table.to_pandas")
        return pd.DataFrame(self._cols)

    def to_csv(self, path):
        """Write the table as CSV (missing values as empty fields; numbers in their shortest exact form)."""
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(self.columns)
            cols = [c.tolist() for c in self._cols.values()]
            for i in range(self._n):
                w.writerow([_csv_field(c[i]) for c in cols])

    # ---- constructors -------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data):
        """From ``{name: values}``: numbers (and None/NaN) make a numeric column, anything else text."""
        if not isinstance(data, dict):
            raise DataError(f"Table.from_dict: expected a dict of columns, got {type(data).__name__}")
        return cls(data)

    @classmethod
    def from_array(cls, X, columns=None):
        """From a 2-D array (a 1-D array is one column); columns are named ``x0, x1, ...`` unless given."""
        X = np.asarray(X)
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2:
            raise DataError(f"Table.from_array: expected a 2-D array, got shape {X.shape}")
        names = [f"x{j}" for j in range(X.shape[1])] if columns is None else [str(c) for c in columns]
        if len(names) != X.shape[1]:
            raise DataError(f"Table.from_array: {len(names)} column names for an array with {X.shape[1]} columns")
        if len(set(names)) != len(names):
            raise DataError(f"Table.from_array: duplicate column names in {names}")
        return cls({n: _column_from_values(n, X[:, j]) for j, n in enumerate(names)})

    @classmethod
    def from_pandas(cls, df):
        """From a pandas DataFrame: numeric dtypes become float64 (NA as NaN), everything else text."""
        if not (hasattr(df, "columns") and hasattr(df, "dtypes") and hasattr(df, "to_numpy")):
            raise DataError(f"Table.from_pandas: expected a pandas DataFrame, got {type(df).__name__}")
        names = [str(c) for c in df.columns]
        if len(set(names)) != len(names):
            raise DataError(f"Table.from_pandas: duplicate column names in {names}")
        cols = {}
        for name, (_, s) in zip(names, df.items()):
            kind = getattr(s.dtype, "kind", "O")
            if kind in "iuf" and not str(s.dtype).startswith(("category", "bool")):
                cols[name] = s.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                cols[name] = _column_from_values(name, s.to_numpy(dtype=object))
        return cls._trusted(cols)

    @classmethod
    def from_parquet(cls, path):
        """From a Parquet file (needs pyarrow)."""
        pq = _optional("pyarrow.parquet", "Table.from_parquet", "pyarrow")
        path = _existing_file(path)
        try:
            t = pq.read_table(path)
        except Exception as e:  # pyarrow raises its own ArrowInvalid/OSError family
            raise DataError(f"{path}: cannot read as Parquet: {_one_line(e)}") from None
        names = [str(n) for n in t.column_names]
        if len(set(names)) != len(names):
            raise DataError(f"{path}: duplicate column names in {names}")
        if not names:
            raise DataError(f"{path}: the Parquet file has no columns")
        pa = _optional("pyarrow", "Table.from_parquet")
        cols = {}
        for name, col in zip(names, t.columns):
            typ = col.type
            if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
                cols[name] = col.cast(pa.float64()).to_numpy().astype(np.float64)
            elif pa.types.is_nested(typ):
                raise DataError(f"{path}: column {name!r} has nested type {typ}; only flat columns are supported")
            else:  # strings, bools, dates, ...
                cols[name] = _column_from_values(name, col.to_pylist())
        return cls._trusted(cols, source=path)

    @classmethod
    def from_csv(cls, path, delimiter=","):
        """Read a CSV file with a header line, using the ``csv`` module.

        A column is numeric when every non-missing value parses as a float; the text ``''``,
        ``'NA'``, ``'NaN'``, ``'nan'`` and ``'?'`` (after stripping spaces) are missing values.
        Values are stripped of surrounding spaces; blank lines are skipped. Errors name the
        file and line: a missing or unreadable file, no header, no rows, a row with the wrong
        number of fields, a duplicate column name.
        """
        path = _existing_file(path)
        header, rows, lines = None, [], []
        try:
            with open(path, newline="", encoding="utf-8-sig") as f:
                reader = csv.reader(f, delimiter=delimiter, strict=True)
                for row in reader:
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue  # blank line
                    if header is None:
                        header = [h.strip() for h in row]
                        _check_header(path, reader.line_num, header)
                        continue
                    if len(row) != len(header):
                        raise DataError(
                            f"{path}, line {reader.line_num}: {len(row)} fields where the header has {len(header)}"
                            f" ({', '.join(header[:5])}{', ...' if len(header) > 5 else ''})"
                        )
                    rows.append([v.strip() for v in row])
                    lines.append(reader.line_num)
        except UnicodeDecodeError:
            raise DataError(_not_utf8(path)) from None
        except csv.Error as e:
            raise DataError(f"{path}, line {reader.line_num}: malformed CSV: {e}") from None
        except OSError as e:
            raise DataError(f"{path}: cannot read the file: {e.strerror or e}") from None
        if header is None:
            raise DataError(f"{path}: the file is empty (no header line)")
        if not rows:
            raise DataError(f"{path}: no data rows after the header line")
        cols = {}
        for j, name in enumerate(header):
            raw = [r[j] for r in rows]
            present = [v for v in raw if v not in MISSING_TOKENS]
            parsed = [_parse_float(v) for v in present]
            if all(p is not None for p in parsed):
                cols[name] = np.array([np.nan if v in MISSING_TOKENS else float(v) for v in raw], dtype=np.float64)
            else:
                cols[name] = np.array([None if v in MISSING_TOKENS else v for v in raw], dtype=object)
        return cls._trusted(cols, source=path, lines=lines)


def read_table(source, **kwargs):
    """A Table from a ``.csv``/``.tsv``/``.parquet`` path, a pandas DataFrame, a dict, a 2-D array or a Table."""
    if isinstance(source, Table):
        return source
    if isinstance(source, str | os.PathLike):
        suffix = Path(source).suffix.lower()
        if suffix in (".csv", ".txt"):
            return Table.from_csv(source, **kwargs)
        if suffix == ".tsv":
            return Table.from_csv(source, delimiter="\t", **kwargs)
        if suffix in (".parquet", ".pq"):
            return Table.from_parquet(source)
        raise DataError(
            f"read_table: {os.fspath(source)}: unknown file type {suffix or '(none)'!r}; use .csv or .parquet"
        )
    if isinstance(source, dict):
        return Table.from_dict(source)
    if isinstance(source, np.ndarray):
        return Table.from_array(source, **kwargs)
    if type(source).__module__.startswith("pandas") and hasattr(source, "columns"):
        return Table.from_pandas(source)
    raise DataError(
        f"read_table: cannot read a {type(source).__name__}; give a .csv or .parquet path, "
        "a pandas DataFrame, a dict of columns, a 2-D array or a Table"
    )


# ---- helpers ----------------------------------------------------------------------------------
def _not_utf8(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return f"{path}, line {line}: not UTF-8 text (byte {data[e.start : e.start + 1]!r}); save the file as UTF-8"
    return f"{path}: not UTF-8 text; save the file as UTF-8"


def _check_header(path, line, header):
    seen = set()
    for j, h in enumerate(header):
        if not h:
            raise DataError(f"{path}, line {line}: column {j + 1} of the header has no name")
        if h in seen:
            raise DataError(f"{path}, line {line}: duplicate column name {h!r} in the header")
        seen.add(h)


def _existing_file(path):
    p = os.fspath(path)
    if not os.path.exists(p):
        raise DataError(f"{p}: no such file")
    if os.path.isdir(p):
        raise DataError(f"{p}: is a folder, not a file")
    if not os.access(p, os.R_OK):
        raise DataError(f"{p}: cannot read the file: permission denied")
    return p


def _optional(module, what, package=None):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        pkg = package or module.split(".")[0]
        raise DataError(f"{what} needs the optional package {pkg}: pip install {pkg}") from None


def _one_line(e):
    return " ".join(str(e).split())


def _csv_field(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return repr(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)
    return v
