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
import io
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
    """The number a CSV field holds, or None. Python's float() also takes '1_000'; a CSV reader should not."""
    if "_" in s:
        return None
    try:
        return float(s)
    except ValueError:
        return None


#: A column with at least this share of numbers among its values is numeric (the rest are refused).
MOSTLY_NUMERIC = 0.9


def _csv_column(path, name, raw, lines, missing):
    """One CSV column (stripped texts) as float64 with NaN, or as text; refuses a mostly-numeric column's strays."""
    values = np.empty(len(raw), dtype=np.float64)
    bad = []
    n_present = 0
    for i, v in enumerate(raw):
        if v in missing:
            values[i] = np.nan
            continue
        n_present += 1
        x = _parse_float(v)
        if x is None:
            bad.append(i)
        else:
            values[i] = x
    if not bad:
        return values
    if n_present - len(bad) >= MOSTLY_NUMERIC * n_present:
        first = raw[bad[0]]
        strays = list(dict.fromkeys(raw[i] for i in bad))
        shown = ", ".join(repr(v) for v in strays[:3]) + (", ..." if len(strays) > 3 else "")
        raise DataError(
            f"{path}, line {lines[bad[0]]}: column {name!r} holds numbers but this value is {first!r}"
            f" ({len(bad)} of its {n_present} values are not numbers: {shown}); if they mean a missing value,"
            f" name them in --na-values (na_values= in Python)"[:600]
        )
    return np.array([None if v in missing else v for v in raw], dtype=object)


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
        """Where row ``row`` came from, for messages: ``'data.csv line 5'`` (its file line), else ``'row 3'``.

        The row number of a table made by ``select`` (a shuffled split) means nothing to a user, so a
        row read from a file is named by its file and line only.
        """
        if self.lines is None or self.source is None:
            return f"row {row}"
        return f"{self.source} line {int(self.lines[row])}"

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
    def from_parquet(cls, path, na_values=None, usecols=None):
        """From a Parquet file (needs pyarrow). ``na_values``: texts that mean "no value" in text columns.

        Numbers (integers, floats, decimals) become numeric columns, anything else flat becomes text.
        ``usecols``: as for ``from_csv``.
        pyarrow's Parquet decoder can crash the process, or allocate gigabytes, on a corrupted file,
        so it runs in a child process with a memory limit and a time limit (see ``_read_parquet``):
        whatever the file holds, the answer is a Table or a ``DataError``.
        """
        _optional("pyarrow", "Table.from_parquet")
        path = _existing_file(path)
        missing = None if na_values is None else _missing_tokens(na_values) - MISSING_TOKENS
        use = _usecols(usecols)
        t = _read_parquet(path)
        pa = _optional("pyarrow", "Table.from_parquet")
        names = [str(n) for n in t.column_names]
        if len(set(names)) != len(names):
            raise DataError(f"{path}: duplicate column names in {names}"[:400])
        if not names:
            raise DataError(f"{path}: the Parquet file has no columns")
        cols = {}
        for name, col in zip(names, t.columns):
            if not use(name):
                continue
            typ = col.type
            try:
                if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
                    cols[name] = np.asarray(col.cast(pa.float64(), safe=False).to_numpy(), dtype=np.float64)
                elif pa.types.is_nested(typ) or (pa.types.is_dictionary(typ) and pa.types.is_nested(typ.value_type)):
                    raise DataError(f"{path}: column {name!r} has nested type {typ}; only flat columns are supported")
                else:  # strings, bools, dates, ...
                    col = _column_from_values(name, col.to_pylist())
                    if missing and col.dtype == object:
                        col = np.array([None if v is not None and v.strip() in missing else v for v in col], object)
                    cols[name] = col
            except DataError:
                raise
            except Exception as e:  # a value pyarrow cannot convert (a date out of range, ...)
                raise DataError(
                    f"{path}: column {name!r} ({typ}): cannot read its values: {_one_line(e)}"[:400]
                ) from None
        return cls._trusted(cols, source=path)

    @classmethod
    def from_csv(cls, path, delimiter=None, na_values=None, usecols=None):
        """Read a CSV file with a header line, using the ``csv`` module.

        ``delimiter``: one character; ``None`` (the default) detects ``,``, ``;`` or a tab from the
        first lines (the one that splits the header into the most fields, the same number on
        every line; ``,`` when in doubt). ``na_values``: more texts that mean "no value" (e.g.
        ``['n/a?', '-']``), besides ``''``, ``'NA'``, ``'NaN'``, ``'nan'`` and ``'?'``; values are
        stripped of surrounding spaces first. ``usecols``: a function of a column name, true for
        the columns to read, or a collection of names; the other columns are neither kept nor
        checked (a name that is not in the file is no error: check the result).

        A column is numeric when every non-missing value parses as a number. A column of mostly
        numbers (at least 90% of its values) with a few that are not is refused, naming the first
        such cell: pass its text in ``na_values`` if it means missing. Any other column is text.
        A first column without a name holding 0, 1, 2, ... (the row index pandas writes) is
        skipped. Blank lines are skipped. Errors name the file and line: a missing or unreadable
        file, no header, no rows, a row with the wrong number of fields, a duplicate column name.
        """
        path = _existing_file(path)
        missing = _missing_tokens(na_values)
        use = _usecols(usecols)
        delimiter = _sniff_delimiter(path) if delimiter is None else _check_delimiter(delimiter)
        header, header_line, rows, lines = None, 0, [], []
        reader = None
        try:
            with open(path, newline="", encoding="utf-8-sig") as f:
                reader = csv.reader(f, delimiter=delimiter, strict=True)
                for row in reader:
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue  # blank line
                    if header is None:
                        header, header_line = [h.strip() for h in row], reader.line_num
                        _check_header(path, header_line, header)
                        continue
                    if len(row) != len(header):
                        raise DataError(
                            f"{path}, line {reader.line_num}: {len(row)} fields where the header has {len(header)}"
                            f" ({', '.join(map(_shown, header[:5]))}{', ...' if len(header) > 5 else ''})"
                            + _delimiter_hint(delimiter, row, len(header))
                        )
                    rows.append([v.strip() for v in row])
                    lines.append(reader.line_num)
        except UnicodeDecodeError:
            raise DataError(_not_utf8(path)) from None
        except csv.Error as e:
            where = f", line {reader.line_num}" if reader is not None else ""
            raise DataError(f"{path}{where}: malformed CSV: {_one_line(e)}") from None
        except OSError as e:
            raise DataError(f"{path}: cannot read the file: {e.strerror or e}") from None
        if header is None:
            raise DataError(f"{path}: the file is empty (no header line)")
        if not rows:
            raise DataError(f"{path}: no data rows after the header line")
        cols = {}
        for j, name in enumerate(header):
            raw = [r[j] for r in rows]
            if j == 0 and name == "":  # pandas' to_csv writes its row index first, with no name
                if raw == [str(i) for i in range(len(raw))]:
                    continue
                raise DataError(
                    f"{path}, line {header_line}: column 1 of the header has no name; give it one (if it is a"
                    " pandas index, write the file with to_csv(path, index=False))"
                )
            if use(name):
                cols[name] = _csv_column(path, name, raw, lines, missing)
        if not cols and usecols is None:
            raise DataError(f"{path}: no columns besides the row index")
        return cls._trusted(cols, source=path, lines=lines)


def read_table(source, **kwargs):
    """A Table from a ``.csv``/``.tsv``/``.txt``/``.parquet`` path, a pandas DataFrame, a dict, a 2-D array or a Table.

    For a CSV file, ``delimiter=``, ``na_values=`` and ``usecols=`` go to ``Table.from_csv`` (a
    ``.tsv`` file is tab-separated unless told otherwise); for Parquet, ``na_values=`` and
    ``usecols=``; for an array, ``columns=`` (its column names).
    """
    if isinstance(source, Table):
        return source
    if isinstance(source, str | os.PathLike):
        path = _existing_file(source)  # no such file, or a folder: say so before looking at the name
        suffix = Path(path).suffix.lower()
        if suffix in (".csv", ".txt", ".tsv"):
            _only(kwargs, ("delimiter", "na_values", "usecols"), "a CSV file")
            if suffix == ".tsv" and kwargs.get("delimiter") is None:
                kwargs["delimiter"] = "\t"
            return Table.from_csv(path, **kwargs)
        if suffix in (".parquet", ".pq"):
            kwargs = {k: v for k, v in kwargs.items() if not (k == "delimiter" and v is None)}
            _only(kwargs, ("na_values", "usecols"), "a Parquet file")
            return Table.from_parquet(path, **kwargs)
        raise DataError(
            f"{path}: unknown file type {suffix or '(no suffix)'!r}; chainrule reads .csv, .tsv, .txt and .parquet"
        )
    if isinstance(source, np.ndarray):
        _only(kwargs, ("columns",), "an array")
        return Table.from_array(source, **kwargs)
    _only(kwargs, (), f"a {type(source).__name__}")
    if isinstance(source, dict):
        return Table.from_dict(source)
    if type(source).__module__.startswith("pandas") and hasattr(source, "columns"):
        return Table.from_pandas(source)
    raise DataError(
        f"read_table: cannot read a {type(source).__name__}; give a .csv or .parquet path, "
        "a pandas DataFrame, a dict of columns, a 2-D array or a Table"
    )


def _only(kwargs, allowed, what):
    extra = [k for k in kwargs if k not in allowed]
    if extra:
        raise DataError(f"read_table: option {extra[0]!r} does not apply to {what}"
                        f" ({'it takes ' + ', '.join(allowed) if allowed else 'it takes none'})")


def _usecols(usecols):
    if usecols is None:
        return lambda name: True
    if callable(usecols):
        return lambda name: bool(usecols(name))
    if isinstance(usecols, str):
        usecols = [usecols]
    try:
        names = set(usecols)
    except TypeError:
        raise DataError(f"usecols must be a function of a column name or a list of names, got {usecols!r}"[:200]) \
            from None
    return lambda name: name in names


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


def _missing_tokens(na_values):
    if na_values is None:
        return MISSING_TOKENS
    if isinstance(na_values, str):
        na_values = [na_values]
    try:
        extra = [v.strip() for v in na_values]
    except (TypeError, AttributeError):
        raise DataError(f"na_values must be a list of strings, got {na_values!r}"[:200]) from None
    return MISSING_TOKENS | frozenset(extra)


#: The delimiters ``from_csv`` tells apart when it is not given one.
DELIMITERS = (",", ";", "\t")


def _check_delimiter(d):
    if not isinstance(d, str) or len(d) != 1 or d in "\"\r\n" or d.isalnum() or d == " ":
        raise DataError(f"delimiter must be one character other than a quote, a letter, a digit or a space,"
                        f" got {d!r}"[:200])
    return d


def _sniff_delimiter(path, size=1 << 16):
    """',', ';' or tab: the one that splits the first lines into the most fields, equally on every line."""
    try:
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
            sample = f.read(size)
            complete = f.read(1) == ""
    except OSError:
        return ","  # from_csv says what is wrong with the file
    best, best_score = ",", (False, 1)
    for d in DELIMITERS:
        counts = []
        try:
            for row in csv.reader(io.StringIO(sample), delimiter=d):
                if row and not (len(row) == 1 and not row[0].strip()):
                    counts.append(len(row))
                if len(counts) > 20:
                    break
        except csv.Error:
            pass
        if not complete and len(counts) > 1:
            counts.pop()  # the sample may end in the middle of a line
        if not counts or counts[0] < 2:
            continue
        score = (all(c == counts[0] for c in counts), counts[0])
        if score > best_score:
            best, best_score = d, score
    return best


def _delimiter_hint(delimiter, row, n_header):
    for d in DELIMITERS:
        if d != delimiter and sum(v.count(d) for v in row) + 1 >= n_header > 1:
            return f"; is the file {'tab' if d == chr(9) else repr(d)}-separated? (--sep)"
    return ""


def _check_header(path, line, header):
    seen = set()
    for j, h in enumerate(header):
        if not h and j > 0:
            raise DataError(f"{path}, line {line}: column {j + 1} of the header has no name")
        if h in seen:
            raise DataError(f"{path}, line {line}: duplicate column name {h!r} in the header")
        seen.add(h)


#: The memory (bytes) the Parquet reader may use beyond what it needs to start: this floor, or this
#: many times the file's size when that is more (Parquet's encodings can shrink data a lot).
PARQUET_MEMORY_FLOOR = 512 * 2**20
PARQUET_MEMORY_PER_BYTE = 64

# The child process that decodes a Parquet file: it limits its own address space once pyarrow is
# loaded, reads the file and writes it back as an Arrow IPC stream (which the parent reads safely).
# Exit 1: pyarrow refused the file (message on stderr); 3: no pyarrow; 4: out of memory.
_PARQUET_CHILD = r"""
import sys
path, budget = sys.argv[1], int(sys.argv[2])
try:
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError:
    sys.exit(3)
pa.set_cpu_count(1)
pa.set_io_thread_count(1)
try:
    import resource
    with open("/proc/self/status") as f:
        vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (vm + budget, vm + budget))
except Exception:
    pass  # not Linux: no limit
try:
    table = pq.read_table(path, use_threads=False, pre_buffer=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    data = sink.getvalue()
except MemoryError:
    sys.exit(4)
except Exception as e:
    sys.stderr.write(" ".join(str(e).split())[:300] or type(e).__name__)
    sys.exit(1)
sys.stdout.buffer.write(data)
"""


def _read_parquet(path):
    """A pyarrow Table of the Parquet file ``path``, decoded in a child process (or a DataError)."""
    import subprocess
    import sys

    size = os.path.getsize(path)
    try:
        with open(path, "rb") as f:
            head = f.read(4)
            f.seek(max(size - 4, 0))
            tail = f.read(4)
    except OSError as e:
        raise DataError(f"{path}: cannot read the file: {e.strerror or e}") from None
    if size < 12 or head != b"PAR1" or tail != b"PAR1":
        raise DataError(f"{path}: cannot read as Parquet: it does not start and end with PAR1, as Parquet files do")
    budget = max(PARQUET_MEMORY_FLOOR, PARQUET_MEMORY_PER_BYTE * size)
    timeout = 60 + size / 2**20
    env = dict(os.environ, ARROW_DEFAULT_MEMORY_POOL="system")  # malloc: the address-space limit applies
    try:
        r = subprocess.run([sys.executable, "-c", _PARQUET_CHILD, os.fspath(path), str(budget)], capture_output=True,
                           timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise DataError(f"{path}: cannot read as Parquet: the reader took more than {timeout:.0f} s") from None
    except OSError as e:
        raise DataError(f"{path}: cannot start the Parquet reader: {e.strerror or e}") from None
    if r.returncode == 3:
        _optional("pyarrow.parquet", "Table.from_parquet", "pyarrow")
        raise DataError("Table.from_parquet needs the optional package pyarrow: pip install pyarrow")
    if r.returncode == 4:
        raise DataError(
            f"{path}: cannot read as Parquet: decoding it needs more than {budget // 2**20} MB, more than a"
            f" {size}-byte file justifies (corrupted?)"
        )
    if r.returncode == 1:
        raise DataError(f"{path}: cannot read as Parquet: {r.stderr.decode('utf-8', 'replace')}"[:400])
    if r.returncode != 0:
        how = f"signal {-r.returncode}" if r.returncode < 0 else f"exit status {r.returncode}"
        raise DataError(f"{path}: cannot read as Parquet: the reader (pyarrow) crashed on it ({how}); is it corrupted?")
    pa = _optional("pyarrow", "Table.from_parquet")
    try:
        return pa.ipc.open_stream(r.stdout).read_all()
    except Exception as e:  # the child wrote it: only a bug here could fail
        raise DataError(f"{path}: cannot read as Parquet: {_one_line(e)}"[:400]) from None


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


def _shown(name):
    """A column name for a one-line message: as it is, or as a Python literal if it holds odd characters."""
    return name if name.isprintable() and name.strip() == name and name else repr(name)


def _csv_field(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return repr(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)
    return v
